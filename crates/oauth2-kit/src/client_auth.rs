//! How the client authenticates to the authorization server (RFC 6749 §2.3.1).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use url::form_urlencoded;

use crate::error::{Error, Result};
use crate::form::Form;
use crate::secret::{ClientId, ClientSecret};

/// Where the client puts its credentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// HTTP Basic authentication with the form-urlencoded client id and secret (RFC 6749 §2.3.1).
    /// The default, and the one every server must support.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` as form parameters in the request body (what sttp-oauth2
    /// sends). RFC 6749 advises against it; use it for servers that require it.
    ClientSecretPost,
}

/// A confidential client's credentials and the way it presents them.
///
/// ```
/// use oauth2_kit::{AuthMethod, ClientAuth};
///
/// let auth = ClientAuth::new("my-app", "my-secret").with_method(AuthMethod::ClientSecretPost);
/// assert_eq!(auth.client_id().as_str(), "my-app");
/// assert!(!format!("{auth:?}").contains("my-secret"));
/// ```
#[derive(Debug, Clone)]
pub struct ClientAuth {
    client_id: ClientId,
    client_secret: ClientSecret,
    method: AuthMethod,
}

impl ClientAuth {
    /// Credentials presented with [`AuthMethod::ClientSecretBasic`].
    pub fn new(client_id: impl Into<ClientId>, client_secret: impl Into<ClientSecret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            method: AuthMethod::default(),
        }
    }

    /// Chooses how the credentials are presented.
    #[must_use]
    pub fn with_method(mut self, method: AuthMethod) -> Self {
        self.method = method;
        self
    }

    /// The client identifier.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// How the credentials are presented.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// Adds the credentials to a request: an `Authorization` header value to set, or form
    /// parameters.
    pub(crate) fn apply(&self, form: &mut Form) -> Result<Option<HeaderValue>> {
        match self.method {
            AuthMethod::ClientSecretBasic => self.basic_header().map(Some),
            AuthMethod::ClientSecretPost => {
                form.push("client_id", self.client_id.as_str());
                form.push("client_secret", self.client_secret.expose_secret());
                Ok(None)
            }
        }
    }

    /// `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`, as RFC 6749 §2.3.1
    /// requires (the form-urlencoding step is the one many clients forget).
    fn basic_header(&self) -> Result<HeaderValue> {
        let id: String = form_urlencoded::byte_serialize(self.client_id.as_str().as_bytes()).collect();
        let secret: String =
            form_urlencoded::byte_serialize(self.client_secret.expose_secret().as_bytes()).collect();
        let encoded = STANDARD.encode(format!("{id}:{secret}"));
        let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
            .map_err(|_| Error::config("client credentials do not form a valid header"))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_basic(value: &HeaderValue) -> String {
        let s = value.to_str().unwrap();
        let b64 = s.strip_prefix("Basic ").unwrap();
        String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
    }

    #[test]
    fn basic_urlencodes_before_base64() {
        let auth = ClientAuth::new("my client:1", "s3cr:t%+ é");
        let mut form = Form::new();
        let header = auth.apply(&mut form).unwrap().unwrap();
        assert!(header.is_sensitive());
        assert_eq!(decode_basic(&header), "my+client%3A1:s3cr%3At%25%2B+%C3%A9");
        assert!(form.is_empty());
    }

    #[test]
    fn post_puts_credentials_in_the_form() {
        let auth = ClientAuth::new("id", "s3cr:t%+ é").with_method(AuthMethod::ClientSecretPost);
        let mut form = Form::new();
        assert!(auth.apply(&mut form).unwrap().is_none());
        assert_eq!(form.encode(), "client_id=id&client_secret=s3cr%3At%25%2B+%C3%A9");
    }
}
