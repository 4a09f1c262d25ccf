//! Proof Key for Code Exchange (RFC 7636): the verifier a client keeps and the challenge it sends
//! in the login link, so that a stolen authorization code is useless without the verifier.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::config_error::{ConfigError, ConfigErrorKind};
use crate::random::random_urlsafe;
use crate::secret::PkceVerifier;

/// How the challenge is derived from the verifier (`code_challenge_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PkceMethod {
    /// `S256`: the challenge is `BASE64URL(SHA256(verifier))`. The default; RFC 7636 §4.2 says a
    /// client capable of it must use it.
    S256,
    /// `plain`: the challenge is the verifier itself, which protects nothing once the login link
    /// is seen. Only for servers that cannot do `S256`.
    Plain,
}

impl PkceMethod {
    /// The method as sent (`S256` or `plain`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// A PKCE verifier and its challenge.
///
/// ```
/// use oauth2_kit::pkce::{Pkce, PkceMethod};
///
/// // RFC 7636 Appendix B.
/// let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", PkceMethod::S256)?;
/// assert_eq!(pkce.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
///
/// let fresh = Pkce::s256()?;
/// assert_eq!(fresh.verifier().expose_secret().len(), 43);
/// assert!(!format!("{fresh:?}").contains(fresh.verifier().expose_secret()));
/// # Ok::<(), oauth2_kit::Error>(())
/// ```
#[derive(Clone)]
pub struct Pkce {
    verifier: PkceVerifier,
    challenge: String,
    method: PkceMethod,
}

impl Pkce {
    /// A new random verifier (32 random bytes, 43 characters) with an `S256` challenge.
    pub fn s256() -> Result<Self, ConfigError> {
        Self::random(PkceMethod::S256)
    }

    /// A new random verifier whose challenge is itself (`plain`). Use only with a server that
    /// cannot do `S256`: anyone who sees the login link can redeem the code.
    pub fn danger_plain() -> Result<Self, ConfigError> {
        Self::random(PkceMethod::Plain)
    }

    fn random(method: PkceMethod) -> Result<Self, ConfigError> {
        Self::from_verifier(random_urlsafe(32)?, method)
    }

    /// A verifier chosen elsewhere (restored from a session, or a test vector), checked against
    /// RFC 7636 §4.1: 43 to 128 characters from `A-Z a-z 0-9 - . _ ~`.
    pub fn from_verifier(verifier: impl Into<String>, method: PkceMethod) -> Result<Self, ConfigError> {
        let verifier = PkceVerifier::new(verifier.into());
        let text = verifier.expose_secret();
        if !(43..=128).contains(&text.len()) {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidPkce,
                format!("a PKCE verifier has 43 to 128 characters, this one has {}", text.len()),
            ));
        }
        if !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidPkce,
                "a PKCE verifier may only hold A-Z a-z 0-9 - . _ ~",
            ));
        }
        let challenge = match method {
            PkceMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())),
            PkceMethod::Plain => text.to_owned(),
        };
        Ok(Self { verifier, challenge, method })
    }

    /// The verifier, sent with the code exchange. Keep it with the login until then.
    pub fn verifier(&self) -> &PkceVerifier {
        &self.verifier
    }

    /// The challenge, sent in the login link (`code_challenge`).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// The method (`code_challenge_method`).
    pub fn method(&self) -> PkceMethod {
        self.method
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // With `plain` the challenge is the verifier: never shown.
        f.debug_struct("Pkce").field("verifier", &self.verifier).field("method", &self.method).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_rules() {
        assert!(Pkce::from_verifier("a".repeat(42), PkceMethod::S256).is_err());
        assert!(Pkce::from_verifier("a".repeat(129), PkceMethod::S256).is_err());
        assert!(Pkce::from_verifier(format!("{}+", "a".repeat(43)), PkceMethod::S256).is_err());
        assert!(Pkce::from_verifier("a-b.c_d~".repeat(16), PkceMethod::S256).is_ok());
        let plain = Pkce::from_verifier("x".repeat(43), PkceMethod::Plain).unwrap();
        assert_eq!(plain.challenge(), "x".repeat(43));
        assert!(!format!("{plain:?}").contains("xxx"));
    }

    #[test]
    fn fresh_verifiers_differ() {
        let (a, b) = (Pkce::s256().unwrap(), Pkce::s256().unwrap());
        assert_ne!(a.verifier(), b.verifier());
        assert_eq!(a.method().as_str(), "S256");
        assert_eq!(a.challenge().len(), 43);
    }
}
