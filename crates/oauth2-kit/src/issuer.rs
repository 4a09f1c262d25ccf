//! The issuer identifier of an authorization server.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::config_error::{ConfigError, ConfigErrorKind};

/// An authorization server's issuer identifier (RFC 8414 §2): an `https` URL (or `http`, which
/// discovery accepts only on a loopback host) with no query and no fragment.
///
/// It is kept **exactly as written**, because issuers are compared as strings (RFC 8414 §3.3,
/// OpenID Connect Discovery §4.3, RFC 9207 §2.4): `https://as.example.com` and
/// `https://as.example.com/` are two different issuers, and a document or callback naming the
/// other one is refused.
///
/// ```
/// use oauth2_kit::Issuer;
///
/// let issuer: Issuer = "https://as.example.com".parse()?;
/// assert_eq!(issuer.as_str(), "https://as.example.com");
/// assert_eq!(issuer.url().as_str(), "https://as.example.com/"); // the parsed form differs
/// assert_ne!(issuer, "https://as.example.com/".parse::<Issuer>()?);
/// assert!("https://as.example.com/?tenant=1".parse::<Issuer>().is_err());
/// assert!("https://user:pw@as.example.com".parse::<Issuer>().is_err()); // no user info
/// # Ok::<(), oauth2_kit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Issuer {
    text: String,
    url: Url,
}

impl Issuer {
    /// Reads an issuer identifier, keeping its text as it is.
    pub fn new(text: impl Into<String>) -> Result<Self, ConfigError> {
        let text = text.into();
        let url = Url::parse(&text).map_err(|e| {
            ConfigError::new(ConfigErrorKind::InvalidIssuer, format!("invalid issuer URL: {e}"))
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(ConfigError::new(ConfigErrorKind::InvalidIssuer, "an issuer must be an https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::new(ConfigErrorKind::InvalidIssuer, "an issuer has no user info"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidIssuer,
                "an issuer has no query and no fragment (RFC 8414 §2)",
            ));
        }
        Ok(Self { text, url })
    }

    /// The identifier exactly as written: what `iss` values are compared with.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The identifier as a parsed URL (which may spell it differently, with a `/` for an empty
    /// path): for building URLs from it, never for comparing.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl FromStr for Issuer {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        Self::new(text)
    }
}

impl TryFrom<&str> for Issuer {
    type Error = ConfigError;

    fn try_from(text: &str) -> Result<Self, ConfigError> {
        Self::new(text)
    }
}

impl PartialEq<str> for Issuer {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Issuer {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Issuer").field(&self.text).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_as_written_and_compared_exactly() {
        let issuer = Issuer::new("https://as.example.com/tenant").unwrap();
        assert_eq!(issuer, "https://as.example.com/tenant");
        assert_ne!(issuer, "https://as.example.com/tenant/");
        assert_ne!(issuer, "https://AS.example.com/tenant");
        for bad in ["as.example.com", "ftp://as.example.com", "https://as.example.com#x", "https://a/?q"] {
            assert!(Issuer::new(bad).is_err(), "{bad}");
        }
    }
}
