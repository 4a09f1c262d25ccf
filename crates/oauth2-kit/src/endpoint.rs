//! Authorization server endpoint URLs, and the rule that credentials travel only over TLS.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use url::Url;

use crate::config_error::{ConfigError, ConfigErrorKind};

/// The URL of an authorization server endpoint (token, introspection, revocation, ...).
///
/// An endpoint must use `https`, except on loopback hosts (`127.0.0.0/8`, `::1`, `localhost`)
/// where plain `http` is allowed for development and tests. Plain `http` elsewhere sends client
/// secrets and tokens in clear text, so it is refused unless you opt in with
/// [`Endpoint::danger_allow_insecure_http`]. Endpoints must not contain a fragment
/// (RFC 6749 §3.1, §3.2) or credentials in the URL.
///
/// ```
/// use oauth2_kit::Endpoint;
///
/// let token_url: Endpoint = "https://auth.example.com/oauth2/token".parse()?;
/// assert_eq!(token_url.as_str(), "https://auth.example.com/oauth2/token");
///
/// assert!("http://127.0.0.1:8080/token".parse::<Endpoint>().is_ok());
/// let err = "http://auth.example.com/token".parse::<Endpoint>().unwrap_err();
/// assert!(err.to_string().contains("https"));
/// # Ok::<(), oauth2_kit::Error>(())
/// ```
#[derive(Clone)]
pub struct Endpoint {
    url: Url,
    /// The same URL as a request URI, parsed once.
    uri: http::Uri,
}

impl PartialEq for Endpoint {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for Endpoint {}

impl std::hash::Hash for Endpoint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.url.hash(state);
    }
}

impl Endpoint {
    /// Checks and wraps a URL.
    pub fn new(url: Url) -> Result<Self, ConfigError> {
        Self::check_shape(&url)?;
        match url.scheme() {
            "https" => Self::wrap(url),
            "http" if is_loopback(&url) => Self::wrap(url),
            "http" => Err(invalid(format!(
                "endpoint {} uses plain http on a non-loopback host; use https \
                 (or Endpoint::danger_allow_insecure_http if you really must)",
                Redacted(&url)
            ))),
            other => Err(invalid(format!("endpoint scheme must be https, not `{other}`"))),
        }
    }

    /// Wraps a URL that may use plain `http` on any host. Anyone on the network path can then
    /// read the client secret and the tokens: use it only on networks you trust completely.
    pub fn danger_allow_insecure_http(url: Url) -> Result<Self, ConfigError> {
        Self::check_shape(&url)?;
        match url.scheme() {
            "https" | "http" => Self::wrap(url),
            other => Err(invalid(format!("endpoint scheme must be http or https, not `{other}`"))),
        }
    }

    fn wrap(url: Url) -> Result<Self, ConfigError> {
        let uri = url
            .as_str()
            .parse()
            .map_err(|_| invalid(format!("endpoint {} is not a valid request URI", Redacted(&url))))?;
        Ok(Self { url, uri })
    }

    /// The URL as an `http::Uri`, for requests.
    pub(crate) fn uri(&self) -> &http::Uri {
        &self.uri
    }

    fn check_shape(url: &Url) -> Result<(), ConfigError> {
        if url.fragment().is_some() {
            return Err(invalid(format!("endpoint {} must not have a fragment", Redacted(url))));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("endpoint URL must not contain credentials"));
        }
        if url.host().is_none() {
            return Err(invalid(format!("endpoint {} has no host", Redacted(url))));
        }
        Ok(())
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as a string.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.url)
    }
}

/// Whether a URL's host is on this machine: `localhost`, `127.0.0.0/8` or `::1`
/// (also as an IPv4-mapped IPv6 address).
pub(crate) fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(is_loopback_host)
}

/// Whether a host, as written in a URI (IPv6 in brackets), is on this machine; the same rule
/// as [`is_loopback`].
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    match bare {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok_and(|ip| {
            ip == Ipv6Addr::LOCALHOST || ip.to_ipv4_mapped().is_some_and(|v4| IpAddr::V4(v4).is_loopback())
        }),
        None => host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()),
    }
}

impl FromStr for Endpoint {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = Url::parse(s).map_err(|e| invalid(format!("invalid endpoint URL: {e}")))?;
        Self::new(url)
    }
}

impl TryFrom<Url> for Endpoint {
    type Error = ConfigError;

    fn try_from(url: Url) -> Result<Self, Self::Error> {
        Self::new(url)
    }
}

impl TryFrom<&str> for Endpoint {
    type Error = ConfigError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Redacted(&self.url).fmt(f)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({})", Redacted(&self.url))
    }
}

/// Shows a URL without its query (which could carry an API key) for logs and messages.
pub(crate) struct Redacted<'a>(pub(crate) &'a Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(f, "{}://{}", url.scheme(), url.host_str().unwrap_or(""))?;
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(url.path())?;
        if url.query().is_some() {
            f.write_str("?…")?;
        }
        Ok(())
    }
}

/// An endpoint refused.
fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidEndpoint, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://auth.example.com/token",
            "https://auth.example.com:8443/realms/x/protocol/openid-connect/token",
            "http://127.0.0.1:9000/token",
            "http://127.8.9.10/token",
            "http://localhost/token",
            "http://LOCALHOST:1/token",
            "http://[::1]:8080/token",
            "http://[::ffff:127.0.0.1]/token",
        ] {
            assert!(ok.parse::<Endpoint>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn insecure_or_malformed_endpoints_are_refused() {
        for bad in [
            "http://auth.example.com/token",
            "http://10.0.0.1/token",
            "http://[::2]/token",
            "http://localhost.evil.com/token",
            "ftp://auth.example.com/token",
            "https://auth.example.com/token#frag",
            "https://user:pw@auth.example.com/token",
            "not a url",
            "unix:/run/socket",
        ] {
            let err = bad.parse::<Endpoint>().unwrap_err();
            assert_eq!(err.kind(), ConfigErrorKind::InvalidEndpoint, "{bad}: {err:?}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn opt_in_allows_plain_http() {
        let url = Url::parse("http://auth.internal/token").unwrap();
        assert!(Endpoint::danger_allow_insecure_http(url).is_ok());
        let url = Url::parse("ftp://auth.internal/token").unwrap();
        assert!(Endpoint::danger_allow_insecure_http(url).is_err());
    }

    #[test]
    fn display_hides_the_query() {
        let e: Endpoint = "https://auth.example.com/token?api_key=k".parse().unwrap();
        assert_eq!(e.to_string(), "https://auth.example.com/token?…");
        assert!(!format!("{e:?}").contains("api_key"));
    }
}
