//! Where a request goes, and whether the token may go there.

use std::fmt;
use std::str::FromStr;

use http::Uri;
use http::uri::Scheme;
use url::Url;

use crate::endpoint::is_loopback_host;
use crate::error::{BearerError, OriginText};

/// The origin of an outgoing request (scheme, host and port), borrowed from its URI: what the
/// bearer client checks before attaching a token.
///
/// ```
/// use oauth2_kit::bearer::RequestTarget;
///
/// let uri: http::Uri = "https://api.example.com/v1/items?page=2".parse()?;
/// let target = RequestTarget::from_uri(&uri)?;
/// assert!(target.is_https());
/// assert_eq!(target.host(), "api.example.com");
/// assert_eq!(target.port(), 443);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTarget<'a> {
    https: bool,
    /// The URI's authority, as written (`[user@]host[:port]`). Split only when a rule needs the
    /// host or port: an `https` request without an allow-list needs neither.
    authority: &'a str,
}

impl<'a> RequestTarget<'a> {
    /// The target of an `http::Uri`, which must be absolute (`http` or `https`, with a host).
    #[inline]
    pub fn from_uri(uri: &'a Uri) -> Result<Self, BearerError> {
        let https = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            Some(_) => return Err(BearerError::NoOrigin { reason: "the scheme is neither http nor https" }),
            None => return Err(BearerError::NoOrigin { reason: "no scheme" }),
        };
        Ok(Self { https, authority: uri.authority().map_or("", |a| a.as_str()) })
    }

    /// The target of a `url::Url` (as `reqwest` uses), which must be `http` or `https` with a
    /// host.
    pub fn from_url(url: &'a Url) -> Result<Self, BearerError> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(BearerError::NoOrigin { reason: "the scheme is neither http nor https" }),
        };
        let start = url[..url::Position::BeforeHost].len();
        let authority = url.as_str().get(start..url[..url::Position::AfterPort].len()).unwrap_or_default();
        Ok(Self { https, authority })
    }

    /// Refuses a target without a host, or with a port that is no port (`:99999`, `:443abc`,
    /// which some URI parsers let through and which must not read as the default port).
    fn validate(&self) -> Result<(), BearerError> {
        let (host, port) = self.split();
        if host.is_empty() {
            return Err(BearerError::NoOrigin { reason: "no host" });
        }
        if port.is_some_and(|p| p.parse::<u16>().is_err()) {
            return Err(BearerError::NoOrigin { reason: "an invalid port" });
        }
        Ok(())
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host, as written in the URI (IPv6 addresses in brackets).
    pub fn host(&self) -> &'a str {
        self.split().0
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.split().1.and_then(|p| p.parse().ok()).unwrap_or(default_port(self.https))
    }

    /// Host and port text, apart, user info dropped. An IPv6 host keeps its brackets.
    fn split(&self) -> (&'a str, Option<&'a str>) {
        let hp = match self.authority.rfind('@') {
            Some(at) => self.authority.get(at + 1..).unwrap_or_default(),
            None => self.authority,
        };
        // The port is after the last `:`, unless a `]` (the end of an IPv6 literal) comes first.
        match hp.rfind([':', ']']) {
            Some(i) if hp.as_bytes().get(i) == Some(&b':') => {
                (hp.get(..i).unwrap_or(hp), hp.get(i + 1..).filter(|p| !p.is_empty()))
            }
            _ => (hp, None),
        }
    }

    fn text(&self) -> OriginText {
        OriginText(format!("{}://{}:{}", scheme(self.https), self.host().to_ascii_lowercase(), self.port()))
    }
}

fn default_port(https: bool) -> u16 {
    if https { 443 } else { 80 }
}

fn scheme(https: bool) -> &'static str {
    if https { "https" } else { "http" }
}

/// An origin a bearer client may send tokens to: `scheme://host[:port]`, parsed from a string.
///
/// ```
/// use oauth2_kit::bearer::Origin;
///
/// let origin: Origin = "https://API.example.com".parse()?;
/// assert_eq!(origin.to_string(), "https://api.example.com:443");
/// assert!("https://api.example.com/with/a/path".parse::<Origin>().is_err());
/// # Ok::<(), oauth2_kit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    https: bool,
    host: Box<str>,
    port: u16,
}

impl Origin {
    fn matches(&self, target: &RequestTarget<'_>) -> bool {
        self.https == target.https
            && self.port == target.port()
            && self.host.eq_ignore_ascii_case(target.host())
    }
}

impl FromStr for Origin {
    type Err = crate::config_error::ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The input is not echoed: it may hold user info.
        let invalid = |why: &str| {
            crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::InvalidOrigin,
                format!("invalid origin: {why}"),
            )
        };
        let url = Url::parse(s).map_err(|e| invalid(&e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("an origin has no user info"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("an origin is scheme, host and port only"));
        }
        let target = RequestTarget::from_url(&url).map_err(|e| invalid(&e.to_string()))?;
        Ok(Self { https: target.https, host: target.host().to_ascii_lowercase().into(), port: target.port() })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", scheme(self.https), self.host, self.port)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self})")
    }
}

/// Which destinations get the token.
#[derive(Debug, Clone, Default)]
pub(crate) struct Destinations {
    /// When not empty, only these origins (an `http` one listed here counts as an opt-in).
    pub(crate) allowed: Vec<Origin>,
    /// Plain `http` to any host.
    pub(crate) allow_insecure_http: bool,
}

impl Destinations {
    /// Whether every `https` origin may have the token (no allow-list): the common case, which
    /// needs no look at the host.
    #[inline]
    pub(crate) fn trusts_any_https(&self) -> bool {
        self.allowed.is_empty()
    }

    #[inline]
    pub(crate) fn check(&self, target: &RequestTarget<'_>) -> Result<(), BearerError> {
        if self.allowed.is_empty() && target.https {
            return Ok(());
        }
        self.check_slow(target)
    }

    #[inline(never)]
    fn check_slow(&self, target: &RequestTarget<'_>) -> Result<(), BearerError> {
        target.validate()?;
        if !self.allowed.is_empty() {
            return if self.allowed.iter().any(|origin| origin.matches(target)) {
                Ok(())
            } else {
                Err(BearerError::OriginNotAllowed { origin: target.text() })
            };
        }
        if target.https || self.allow_insecure_http || is_loopback_host(target.host()) {
            Ok(())
        } else {
            Err(BearerError::InsecureHttp { origin: target.text() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(destinations: &Destinations, uri: &str) -> Result<(), BearerError> {
        let uri: Uri = uri.parse().unwrap();
        destinations.check(&RequestTarget::from_uri(&uri)?)
    }

    #[test]
    fn https_and_loopback_http_pass_by_default() {
        let d = Destinations::default();
        check(&d, "https://api.example.com/x").unwrap();
        check(&d, "http://127.0.0.1:8080/x").unwrap();
        check(&d, "http://localhost/x").unwrap();
        check(&d, "http://[::1]:9000/x").unwrap();
    }

    #[test]
    fn plain_http_elsewhere_is_refused_unless_allowed() {
        let d = Destinations::default();
        let err = check(&d, "http://user:pw@api.example.com:8080/path?q=secret").unwrap_err();
        assert_eq!(
            err,
            BearerError::InsecureHttp { origin: OriginText("http://api.example.com:8080".into()) }
        );
        let text = err.to_string();
        assert!(!text.contains("pw") && !text.contains("secret") && !text.contains("path"), "{text}");
        let d = Destinations { allow_insecure_http: true, ..Destinations::default() };
        check(&d, "http://api.example.com/x").unwrap();
    }

    #[test]
    fn allow_list_matches_scheme_host_and_port() {
        let d = Destinations {
            allowed: vec![
                "https://api.example.com".parse().unwrap(),
                "http://intranet.local:8080".parse().unwrap(),
            ],
            allow_insecure_http: false,
        };
        check(&d, "https://API.example.com/x").unwrap();
        check(&d, "https://api.example.com:443/x").unwrap();
        check(&d, "http://intranet.local:8080/x").unwrap();
        for refused in [
            "https://api.example.com:8443/x",
            "http://api.example.com/x",
            "https://evil.example.com/x",
            "https://api.example.com.evil.com/x",
            "http://127.0.0.1/x",
        ] {
            assert!(matches!(check(&d, refused), Err(BearerError::OriginNotAllowed { .. })), "{refused}");
        }
    }

    #[test]
    fn relative_and_foreign_uris_have_no_origin() {
        let d = Destinations::default();
        assert!(matches!(check(&d, "/relative"), Err(BearerError::NoOrigin { .. })));
        assert!(matches!(check(&d, "ftp://example.com/x"), Err(BearerError::NoOrigin { .. })));
        let url = Url::parse("file:///etc/passwd").unwrap();
        assert!(RequestTarget::from_url(&url).is_err());
    }

    #[test]
    fn host_and_port_from_uri_and_url() {
        for (text, host, port) in [
            ("https://api.example.com/x", "api.example.com", 443),
            ("http://u:p@api.example.com:8080/x", "api.example.com", 8080),
            ("http://[::1]:9000/x", "[::1]", 9000),
            ("https://[::1]/x", "[::1]", 443),
            ("http://127.0.0.1/x", "127.0.0.1", 80),
            ("http://a.com:/x", "a.com", 80),
        ] {
            let uri: Uri = text.parse().unwrap();
            let target = RequestTarget::from_uri(&uri).unwrap();
            assert_eq!((target.host(), target.port()), (host, port), "{text}");
            let url = Url::parse(text).unwrap();
            let target = RequestTarget::from_url(&url).unwrap();
            assert_eq!((target.host(), target.port()), (host, port), "{text} (url)");
        }
    }

    #[test]
    fn invalid_ports_are_refused_not_defaulted() {
        for text in ["https://api.example.com:99999/x", "https://api.example.com:443abc/x"] {
            let Ok(uri) = text.parse::<Uri>() else { continue };
            let allow_list = Destinations {
                allowed: vec!["https://api.example.com".parse().unwrap()],
                allow_insecure_http: false,
            };
            let target = RequestTarget::from_uri(&uri).unwrap();
            assert!(matches!(allow_list.check(&target), Err(BearerError::NoOrigin { .. })), "{text}");
        }
    }

    #[test]
    fn origin_errors_never_echo_user_info() {
        let err = "https://u:hunter2@api.example.com".parse::<Origin>().unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn origins_parse_strictly() {
        for bad in [
            "api.example.com",
            "https://u:p@api.example.com",
            "https://a.com/p",
            "https://a.com?q",
            "ftp://a.com",
        ] {
            assert!(bad.parse::<Origin>().is_err(), "{bad}");
        }
        assert_eq!("http://localhost:3000/".parse::<Origin>().unwrap().to_string(), "http://localhost:3000");
    }
}
