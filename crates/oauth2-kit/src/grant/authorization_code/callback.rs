//! The redirect back from the authorization server (RFC 6749 §4.1.2): a code, or an error.

use std::fmt;

use url::{Url, form_urlencoded};

pub use crate::error::callback::CallbackError;
use crate::error::{ErrorCode, ErrorResponse};
use crate::secret::AuthorizationCode;

/// The parameters of a login callback: what the server appended to the redirect URI.
///
/// ```
/// use oauth2_kit::grant::authorization_code::Callback;
///
/// let callback = Callback::from_query("code=SplxlOBeZQQYbYS6WxSbIA&state=xyz")?;
/// assert_eq!(callback.code().unwrap().expose_secret(), "SplxlOBeZQQYbYS6WxSbIA");
/// assert_eq!(callback.error(), None);
///
/// let denied = Callback::from_query("error=access_denied&state=xyz")?;
/// assert_eq!(denied.error().unwrap().error.as_str(), "access_denied");
/// # Ok::<(), oauth2_kit::grant::authorization_code::CallbackError>(())
/// ```
#[derive(Clone)]
pub struct Callback {
    code: Option<AuthorizationCode>,
    state: Option<String>,
    issuer: Option<String>,
    error: Option<ErrorResponse>,
}

impl Callback {
    /// Reads a callback's query string (without the leading `?`).
    pub fn from_query(query: &str) -> Result<Self, CallbackError> {
        let mut fields: [(&'static str, Option<String>); 6] = [
            ("code", None),
            ("state", None),
            ("iss", None),
            ("error", None),
            ("error_description", None),
            ("error_uri", None),
        ];
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if let Some((known, slot)) = fields.iter_mut().find(|(known, _)| *known == name) {
                if slot.replace(value.into_owned()).is_some() {
                    return Err(CallbackError::Repeated(known));
                }
            }
        }
        let [code, state, issuer, error, description, uri] = fields.map(|(_, value)| value);
        let text = |value: Option<String>| {
            value.map(|v| crate::excerpt::clip(&crate::excerpt::one_line(&v), 500).into_owned())
        };
        let error = error.map(|code| ErrorResponse {
            error: ErrorCode::from(code.as_str()),
            error_description: text(description),
            error_uri: text(uri),
            extra: serde_json::Map::new(),
        });
        Ok(Self { code: code.map(AuthorizationCode::new), state, issuer, error })
    }

    /// Reads the query of the URL the user came back to.
    pub fn from_url(url: &Url) -> Result<Self, CallbackError> {
        Self::from_query(url.query().unwrap_or(""))
    }

    /// The authorization code, if the login succeeded.
    pub fn code(&self) -> Option<&AuthorizationCode> {
        self.code.as_ref()
    }

    /// The `state` sent back.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The `iss` sent back (RFC 9207), if the server sends it.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The error, if the server refused the login.
    pub fn error(&self) -> Option<&ErrorResponse> {
        self.error.as_ref()
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code)
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("issuer", &self.issuer)
            .field("error", &self.error)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_examples() {
        // §4.1.2 and §4.1.2.1.
        let ok = Callback::from_query("code=SplxlOBeZQQYbYS6WxSbIA&state=xyz").unwrap();
        assert_eq!(ok.state(), Some("xyz"));
        let err = Callback::from_query("error=access_denied&state=xyz").unwrap();
        assert_eq!(err.error().unwrap().error, ErrorCode::AccessDenied);
        assert!(err.code().is_none());
    }

    #[test]
    fn repeated_and_unknown_parameters() {
        assert_eq!(Callback::from_query("code=a&code=b").unwrap_err(), CallbackError::Repeated("code"));
        let c = Callback::from_query("session_state=x&code=a&iss=https%3A%2F%2Fas").unwrap();
        assert_eq!(c.issuer(), Some("https://as"));
        assert!(Callback::from_query("").unwrap().code().is_none());
    }

    #[test]
    fn debug_hides_the_code_and_state() {
        let c = Callback::from_query("code=CODE-1&state=STATE-1").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("CODE-1") && !shown.contains("STATE-1"), "{shown}");
    }
}
