//! How the client authenticates to the authorization server (RFC 6749 §2.3.1).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};
use url::form_urlencoded;
use zeroize::Zeroizing;

use crate::config_error::{ConfigError, ConfigErrorKind};
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
    /// No client authentication: a public client (a native or browser app, a CLI, a device)
    /// that has no secret sends only `client_id` in the form (RFC 6749 §3.2.1). Build such
    /// credentials with [`ClientAuth::public`].
    None,
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
#[derive(Clone)]
pub struct ClientAuth {
    /// Shared, so that a request can keep the credentials it sent (to redact their echoes)
    /// without copying them.
    credentials: Arc<Credentials>,
    method: AuthMethod,
}

struct Credentials {
    client_id: ClientId,
    client_secret: ClientSecret,
    /// The `Authorization` value for `client_secret_basic`, built once, zeroized on drop.
    basic: SecretString,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.credentials.client_id)
            .field("client_secret", &self.credentials.client_secret)
            .field("method", &self.method)
            .finish()
    }
}

impl ClientAuth {
    /// Credentials presented with [`AuthMethod::ClientSecretBasic`].
    pub fn new(client_id: impl Into<ClientId>, client_secret: impl Into<ClientSecret>) -> Self {
        let client_id = client_id.into();
        let client_secret = client_secret.into();
        let basic = basic_header(&client_id, &client_secret);
        Self {
            credentials: Arc::new(Credentials { client_id, client_secret, basic }),
            method: AuthMethod::default(),
        }
    }

    /// A public client: only an identifier, sent as `client_id` in the form
    /// ([`AuthMethod::None`]). For grants a public client may use (authorization code with PKCE,
    /// refresh, device authorization).
    pub fn public(client_id: impl Into<ClientId>) -> Self {
        Self::new(client_id, ClientSecret::new(String::new())).with_method(AuthMethod::None)
    }

    /// Chooses how the credentials are presented.
    #[must_use]
    pub fn with_method(mut self, method: AuthMethod) -> Self {
        self.method = method;
        self
    }

    /// The client identifier.
    pub fn client_id(&self) -> &ClientId {
        &self.credentials.client_id
    }

    /// How the credentials are presented.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// The client secret (empty for a public client), for keeping it out of error messages.
    pub(crate) fn secret(&self) -> &str {
        self.credentials.client_secret.expose_secret()
    }

    /// `urlencode(client_id):urlencode(client_secret)`, the credential that `Basic`
    /// authentication encodes in base64, for keeping its echoes out of error messages.
    pub(crate) fn basic_credential(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{}:{}",
            form_urlencoded::byte_serialize(self.client_id().as_str().as_bytes()).collect::<String>(),
            Zeroizing::new(form_urlencoded::byte_serialize(self.secret().as_bytes()).collect::<String>())
                .as_str()
        ))
    }

    /// Adds the credentials to a request: an `Authorization` header value to set, or form
    /// parameters.
    pub(crate) fn apply(&self, form: &mut Form) -> Result<Option<HeaderValue>, ConfigError> {
        match self.method {
            AuthMethod::ClientSecretBasic => {
                let mut value =
                    HeaderValue::from_str(self.credentials.basic.expose_secret()).map_err(|_| {
                        ConfigError::new(
                            ConfigErrorKind::InvalidCredentials,
                            "client credentials do not form a valid header",
                        )
                    })?;
                value.set_sensitive(true);
                Ok(Some(value))
            }
            AuthMethod::ClientSecretPost => {
                form.push("client_id", self.client_id().as_str());
                form.push("client_secret", self.secret());
                Ok(None)
            }
            AuthMethod::None => {
                form.push("client_id", self.client_id().as_str());
                Ok(None)
            }
        }
    }
}

/// `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`, as RFC 6749 §2.3.1
/// requires (the form-urlencoding step is the one many clients forget). Every intermediate copy
/// of the secret is zeroized when dropped.
fn basic_header(client_id: &ClientId, client_secret: &ClientSecret) -> SecretString {
    let secret = SecretString::from(
        form_urlencoded::byte_serialize(client_secret.expose_secret().as_bytes()).collect::<String>(),
    );
    let id: String = form_urlencoded::byte_serialize(client_id.as_str().as_bytes()).collect();
    let credentials = SecretString::from(format!("{id}:{}", secret.expose_secret()));
    let credentials = credentials.expose_secret().as_bytes();
    // Reserve the final size so the buffer is never reallocated (which would leave a copy behind).
    let capacity = "Basic ".len() + base64::encoded_len(credentials.len(), true).unwrap_or(0);
    let mut header = String::with_capacity(capacity);
    header.push_str("Basic ");
    STANDARD.encode_string(credentials, &mut header);
    SecretString::from(header)
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

    #[test]
    fn public_clients_send_only_their_id() {
        let auth = ClientAuth::public("cli app");
        let mut form = Form::new();
        assert!(auth.apply(&mut form).unwrap().is_none());
        assert_eq!(form.encode(), "client_id=cli+app");
        assert_eq!(auth.method(), AuthMethod::None);
    }
}
