//! How the client authenticates to the authorization server: a client secret (RFC 6749
//! §2.3.1), or a signed assertion (RFC 7523 §2.2, OpenID Connect Core §9).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};
use url::form_urlencoded;
use zeroize::Zeroizing;

use crate::config_error::{ConfigError, ConfigErrorKind};
use crate::endpoint::Endpoint;
use crate::form::Form;
use crate::secret::{ClientId, ClientSecret};
use crate::signing::{JwsAlgorithm, JwtSigner, SharedSecretKey};

/// Why credentials could not be added to a request (the crate's `Error` has a variant for each;
/// this module stays below it).
#[derive(Debug)]
pub(crate) enum AuthFailure {
    Config(ConfigError),
    Signing(crate::signing::SigningError),
}

impl From<ConfigError> for AuthFailure {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

impl From<crate::signing::SigningError> for AuthFailure {
    fn from(error: crate::signing::SigningError) -> Self {
        Self::Signing(error)
    }
}

/// `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: short, since a fresh one is made for every request.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

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
    /// A JWT signed with the client secret (`HS256`), as `client_assertion` (RFC 7523 §2.2,
    /// OpenID Connect Core §9): the secret itself is never sent. Build such credentials with
    /// [`ClientAuth::client_secret_jwt`].
    ClientSecretJwt,
    /// A JWT signed with the client's private key, as `client_assertion` (RFC 7523 §2.2,
    /// OpenID Connect Core §9): no shared secret at all. Build such credentials with
    /// [`ClientAuth::private_key_jwt`].
    PrivateKeyJwt,
    /// Mutual TLS with a certificate of a PKI the server trusts (RFC 8705 §2.1): the client
    /// sends its `client_id`; the certificate its HTTP client presents is the credential.
    /// Build such credentials with [`ClientAuth::tls_client_auth`].
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate registered with the server (RFC 8705 §2.2).
    /// Build such credentials with [`ClientAuth::self_signed_tls_client_auth`].
    SelfSignedTlsClientAuth,
}

impl AuthMethod {
    /// The method's name in server metadata and client registrations
    /// (`token_endpoint_auth_method`, RFC 7591 §2).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// Whether the client authenticates with its TLS client certificate (RFC 8705).
    pub fn is_mutual_tls(self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an endpoint accepts for client authentication, as the server's metadata says
/// (`*_endpoint_auth_methods_supported`, `*_endpoint_auth_signing_alg_values_supported`);
/// `None`: not said.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthSupport {
    pub(crate) endpoint: &'static str,
    pub(crate) methods: Option<Vec<String>>,
    pub(crate) signing_algs: Option<Vec<String>>,
    /// The lists are the token endpoint's, for an endpoint that has none of its own: they pick
    /// a method, and refuse none (RFC 8414 leaves such an endpoint's methods to other means).
    pub(crate) inherited: bool,
}

impl AuthSupport {
    fn accepts(&self, method: AuthMethod) -> bool {
        // Servers list the methods of confidential clients; public clients are not refused on
        // that ground (Keycloak, for one, lists no `none` and serves public clients).
        method == AuthMethod::None
            || self.methods.as_ref().is_none_or(|methods| methods.iter().any(|m| m == method.as_str()))
    }

    fn accepts_alg(&self, alg: JwsAlgorithm) -> bool {
        self.signing_algs.as_ref().is_none_or(|algs| algs.iter().any(|a| a == alg.as_str()))
    }
}

/// The audience (`aud`) of the client's signed assertions (RFC 7523 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The server's token endpoint URL, whatever endpoint the assertion is sent to (RFC 7523
    /// §3 names it; most servers accept it). For an operation built on its own without a token
    /// endpoint (`IntrospectionClient::new`, ...), the URL of the endpoint called. The default.
    #[default]
    TokenEndpoint,
    /// The server's issuer identifier, for servers that want it (the operation's server must
    /// have one: from discovery, or `AuthorizationServer::issuer`).
    Issuer,
    /// Exactly this value.
    Value(String),
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
    /// Whether the method was chosen (else it is the default, and discovery may pick another
    /// the server accepts).
    method_chosen: bool,
    audience: AssertionAudience,
    /// The audience resolved for one server (set when an operation is obtained from a client).
    resolved_audience: Option<Arc<str>>,
}

struct Credentials {
    client_id: ClientId,
    client_secret: ClientSecret,
    /// The `Authorization` value for `client_secret_basic`, built once, zeroized on drop.
    basic: SecretString,
    /// What signs the assertions of `client_secret_jwt` and `private_key_jwt`.
    signer: Option<Arc<dyn JwtSigner>>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.credentials.client_id)
            .field("client_secret", &self.credentials.client_secret)
            .field("method", &self.method)
            .field("signer", &self.credentials.signer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl ClientAuth {
    /// Credentials presented with [`AuthMethod::ClientSecretBasic`] (see
    /// [`with_method`](Self::with_method) for the others that use the secret).
    pub fn new(client_id: impl Into<ClientId>, client_secret: impl Into<ClientSecret>) -> Self {
        let client_id = client_id.into();
        let client_secret = client_secret.into();
        let signer: Arc<dyn JwtSigner> = Arc::new(SharedSecretKey::new(client_secret.clone()));
        Self::with_parts(client_id, client_secret, Some(signer), AuthMethod::default())
    }

    fn with_parts(
        client_id: ClientId,
        client_secret: ClientSecret,
        signer: Option<Arc<dyn JwtSigner>>,
        method: AuthMethod,
    ) -> Self {
        let basic = basic_header(&client_id, &client_secret);
        Self {
            credentials: Arc::new(Credentials { client_id, client_secret, basic, signer }),
            method,
            method_chosen: method != AuthMethod::default(),
            audience: AssertionAudience::default(),
            resolved_audience: None,
        }
    }

    /// Credentials presented as a JWT signed with the client secret ([`AuthMethod::ClientSecretJwt`],
    /// `HS256`): the secret never leaves the client.
    ///
    /// ```
    /// use oauth2_kit::{AuthMethod, ClientAuth};
    ///
    /// let auth = ClientAuth::client_secret_jwt("my-app", "a-long-random-client-secret-of-32+-bytes");
    /// assert_eq!(auth.method(), AuthMethod::ClientSecretJwt);
    /// ```
    pub fn client_secret_jwt(client_id: impl Into<ClientId>, client_secret: impl Into<ClientSecret>) -> Self {
        Self::new(client_id, client_secret).with_method(AuthMethod::ClientSecretJwt)
    }

    /// Credentials presented as a JWT signed with the client's private key
    /// ([`AuthMethod::PrivateKeyJwt`]): `signer` is a key in memory (`signing::PrivateKey`,
    /// feature `signing`) or one of your own over a KMS or an HSM. Each request carries a new
    /// assertion (`iss` = `sub` = the client id, `aud` as [`with_assertion_audience`](Self::with_assertion_audience)
    /// says, a fresh `jti`, `iat`, and `exp` a minute later), retries included.
    pub fn private_key_jwt(client_id: impl Into<ClientId>, signer: impl JwtSigner + 'static) -> Self {
        Self::with_parts(
            client_id.into(),
            ClientSecret::new(String::new()),
            Some(Arc::new(signer)),
            AuthMethod::PrivateKeyJwt,
        )
    }

    /// The audience of the signed assertions. Default: [`AssertionAudience::TokenEndpoint`].
    #[must_use]
    pub fn with_assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self.resolved_audience = None;
        self
    }

    /// These credentials for an endpoint of the server whose token endpoint and issuer are
    /// given, and which accepts what `support` says: the method picked (when none was chosen,
    /// the first the endpoint accepts of `client_secret_basic`, `client_secret_post` and
    /// `client_secret_jwt`) and checked, the assertion audience made concrete. Fails when the
    /// server does not accept the method or the signing algorithm, or the audience is the issuer
    /// and there is none.
    pub(crate) fn for_server(
        &self,
        token_endpoint: Option<&Endpoint>,
        issuer: Option<&crate::issuer::Issuer>,
        support: &AuthSupport,
    ) -> Result<Self, ConfigError> {
        let mut auth = self.clone();
        if !self.method_chosen && !support.accepts(self.method) {
            let hs256_accepted = support.accepts_alg(JwsAlgorithm::HS256);
            let picked =
                [AuthMethod::ClientSecretPost, AuthMethod::ClientSecretJwt].into_iter().find(|method| {
                    support.accepts(*method) && (*method != AuthMethod::ClientSecretJwt || hs256_accepted)
                });
            if let Some(method) = picked {
                auth.method = method;
            }
        }
        if support.inherited {
            return auth.with_audience_for(token_endpoint, issuer);
        }
        if !support.accepts(auth.method) {
            let listed = format!("{:?}", support.methods.as_deref().unwrap_or_default());
            return Err(ConfigError::new(
                ConfigErrorKind::UnsupportedByServer,
                format!(
                    "the server's metadata says its {} endpoint does not accept client authentication {} (it lists: {listed})",
                    support.endpoint, auth.method
                ),
            ));
        }
        if !matches!(auth.method, AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt) {
            return Ok(auth);
        }
        if let Some(signer) = self.credentials.signer.as_deref() {
            if !support.accepts_alg(signer.algorithm()) {
                let listed = format!("{:?}", support.signing_algs.as_deref().unwrap_or_default());
                return Err(ConfigError::new(
                    ConfigErrorKind::UnsupportedByServer,
                    format!(
                        "the server's metadata says its {} endpoint does not accept assertions signed with {} (it lists: {listed})",
                        support.endpoint,
                        signer.algorithm()
                    ),
                ));
            }
        }
        auth.with_audience_for(token_endpoint, issuer)
    }

    /// These credentials with the assertion audience made concrete for the server whose token
    /// endpoint and issuer are given (nothing to do for methods that sign nothing).
    fn with_audience_for(
        mut self,
        token_endpoint: Option<&Endpoint>,
        issuer: Option<&crate::issuer::Issuer>,
    ) -> Result<Self, ConfigError> {
        if !matches!(self.method, AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt) {
            return Ok(self);
        }
        let resolved: Option<Arc<str>> = match &self.audience {
            AssertionAudience::TokenEndpoint => token_endpoint.map(|endpoint| endpoint.as_str().into()),
            AssertionAudience::Issuer => Some(
                issuer
                    .ok_or_else(|| {
                        ConfigError::new(
                            ConfigErrorKind::InvalidSetting,
                            "the assertion audience is the issuer, and the server has none (AuthorizationServer::issuer)",
                        )
                    })?
                    .as_str()
                    .into(),
            ),
            AssertionAudience::Value(value) => Some(value.as_str().into()),
        };
        self.resolved_audience = resolved;
        Ok(self)
    }

    /// A public client: only an identifier, sent as `client_id` in the form
    /// ([`AuthMethod::None`]). For grants a public client may use (authorization code with PKCE,
    /// refresh, device authorization).
    pub fn public(client_id: impl Into<ClientId>) -> Self {
        Self::new(client_id, ClientSecret::new(String::new())).with_method(AuthMethod::None)
    }

    /// A client that authenticates with the TLS client certificate its HTTP client presents,
    /// issued by a PKI the server trusts ([`AuthMethod::TlsClientAuth`], RFC 8705 §2.1): only
    /// `client_id` goes in the form. The HTTP client must present a certificate
    /// ([`HttpClient::presents_certificate`](crate::http::HttpClient::presents_certificate); the
    /// adapters' `client_certificate`), which an [`OAuth2Client`](crate::OAuth2Client) checks
    /// when an operation is obtained.
    ///
    /// ```
    /// use oauth2_kit::{AuthMethod, ClientAuth};
    ///
    /// let auth = ClientAuth::tls_client_auth("payments-service");
    /// assert_eq!(auth.method(), AuthMethod::TlsClientAuth);
    /// ```
    pub fn tls_client_auth(client_id: impl Into<ClientId>) -> Self {
        Self::new(client_id, ClientSecret::new(String::new())).with_method(AuthMethod::TlsClientAuth)
    }

    /// A client that authenticates with a self-signed TLS client certificate registered with the
    /// server ([`AuthMethod::SelfSignedTlsClientAuth`], RFC 8705 §2.2); otherwise as
    /// [`tls_client_auth`](Self::tls_client_auth).
    pub fn self_signed_tls_client_auth(client_id: impl Into<ClientId>) -> Self {
        Self::new(client_id, ClientSecret::new(String::new()))
            .with_method(AuthMethod::SelfSignedTlsClientAuth)
    }

    /// Chooses how the credentials are presented.
    #[must_use]
    pub fn with_method(mut self, method: AuthMethod) -> Self {
        self.method = method;
        self.method_chosen = true;
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

    /// Adds the credentials to a request to `endpoint`: an `Authorization` header value to set,
    /// or form parameters (with a new signed assertion for the JWT methods, stamped `now`).
    pub(crate) async fn apply(
        &self,
        form: &mut Form,
        endpoint: &Endpoint,
        now: SystemTime,
    ) -> Result<Option<HeaderValue>, AuthFailure> {
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
            AuthMethod::None | AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
                form.push("client_id", self.client_id().as_str());
                Ok(None)
            }
            AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt => {
                let assertion = self.assertion(endpoint, now).await?;
                form.push("client_id", self.client_id().as_str());
                form.push("client_assertion_type", JWT_BEARER_ASSERTION);
                form.push("client_assertion", assertion.expose_secret());
                Ok(None)
            }
        }
    }

    /// A new signed assertion for a request to `endpoint` (RFC 7523 §3).
    async fn assertion(&self, endpoint: &Endpoint, now: SystemTime) -> Result<SecretString, AuthFailure> {
        let signer = self.credentials.signer.as_deref().ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::InvalidCredentials,
                "these credentials have no key to sign with",
            )
        })?;
        let expected = match self.method {
            AuthMethod::ClientSecretJwt => signer.algorithm() == JwsAlgorithm::HS256,
            _ => signer.algorithm() != JwsAlgorithm::HS256,
        };
        if !expected {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidKey,
                "client_secret_jwt signs with the client secret (HS256), private_key_jwt with a private key",
            )
            .into());
        }
        let audience = self.resolved_audience.as_deref().unwrap_or_else(|| endpoint.as_str());
        let issued = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let jti = crate::random::random_urlsafe(16)?;
        let claims = AssertionClaims {
            iss: self.client_id().as_str(),
            sub: self.client_id().as_str(),
            aud: audience,
            jti: &jti,
            iat: issued,
            exp: issued.saturating_add(ASSERTION_LIFETIME.as_secs()),
        };
        Ok(crate::signing::compact(signer, "JWT", &claims).await?)
    }
}

/// The claims of a client assertion (RFC 7523 §3), in this order.
#[derive(serde::Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: u64,
    exp: u64,
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

    fn apply(auth: &ClientAuth, form: &mut Form) -> Result<Option<HeaderValue>, AuthFailure> {
        let endpoint: Endpoint = "https://as.example/token".parse().unwrap();
        futures_lite::future::block_on(auth.apply(form, &endpoint, UNIX_EPOCH + Duration::from_secs(1_000)))
    }

    fn decode_basic(value: &HeaderValue) -> String {
        let s = value.to_str().unwrap();
        let b64 = s.strip_prefix("Basic ").unwrap();
        String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
    }

    fn support(methods: Option<&[&str]>, algs: Option<&[&str]>) -> AuthSupport {
        let list = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        AuthSupport {
            endpoint: "token",
            methods: methods.map(list),
            signing_algs: algs.map(list),
            inherited: false,
        }
    }

    #[test]
    fn the_default_method_is_picked_from_the_servers_list_and_a_chosen_one_is_checked() {
        use AuthMethod::{ClientSecretBasic, ClientSecretJwt, ClientSecretPost, PrivateKeyJwt};
        let default = ClientAuth::new("id", "secret");
        let signed = ClientAuth::private_key_jwt("id", SharedSecretKey::new("k"));
        /// Credentials, methods listed, algorithms listed, method used (`None`: refused).
        type Case<'a> = (&'a ClientAuth, Option<&'a [&'a str]>, Option<&'a [&'a str]>, Option<AuthMethod>);
        let cases: [Case<'_>; 11] = [
            (&default, None, None, Some(ClientSecretBasic)),
            (&default, Some(&["client_secret_basic", "client_secret_post"]), None, Some(ClientSecretBasic)),
            (&default, Some(&["client_secret_post", "private_key_jwt"]), None, Some(ClientSecretPost)),
            (&default, Some(&["private_key_jwt", "client_secret_jwt"]), None, Some(ClientSecretJwt)),
            (&default, Some(&["client_secret_jwt"]), Some(&["RS256"]), None),
            (&default, Some(&["private_key_jwt"]), None, None),
            (&default.clone().with_method(ClientSecretBasic), Some(&["client_secret_post"]), None, None),
            (&ClientAuth::public("id"), Some(&["client_secret_basic"]), None, Some(AuthMethod::None)),
            (&signed, Some(&["client_secret_basic"]), None, None),
            (&signed, Some(&["private_key_jwt"]), Some(&["ES256", "HS256"]), Some(PrivateKeyJwt)),
            (&signed, Some(&["private_key_jwt"]), Some(&["ES256"]), None),
        ];
        for (index, (auth, methods, algs, expected)) in cases.into_iter().enumerate() {
            let result = auth.for_server(None, None, &support(methods, algs));
            match (result, expected) {
                (Ok(used), Some(method)) => assert_eq!(used.method(), method, "case {index}"),
                (Err(error), None) => {
                    assert_eq!(error.kind(), ConfigErrorKind::UnsupportedByServer, "case {index}");
                    assert!(error.to_string().contains("token endpoint"), "case {index}: {error}");
                }
                (result, expected) => panic!("case {index}: {result:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn the_token_endpoints_lists_inherited_by_another_endpoint_pick_and_refuse_nothing() {
        let inherited = |methods: &[&str], algs: &[&str]| AuthSupport {
            inherited: true,
            ..support(Some(methods), Some(algs))
        };
        let default = ClientAuth::new("id", "secret");
        let picked = default.for_server(None, None, &inherited(&["client_secret_post"], &[])).unwrap();
        assert_eq!(picked.method(), AuthMethod::ClientSecretPost);
        let basic = default.clone().with_method(AuthMethod::ClientSecretBasic);
        assert_eq!(
            basic.for_server(None, None, &inherited(&["private_key_jwt"], &[])).unwrap().method(),
            AuthMethod::ClientSecretBasic
        );
        let signed = ClientAuth::private_key_jwt("id", SharedSecretKey::new("k"));
        assert!(signed.for_server(None, None, &inherited(&["private_key_jwt"], &["ES256"])).is_ok());
    }

    #[test]
    fn a_refusal_quotes_the_servers_list_escaped() {
        let support = support(Some(&["private_key_jwt\u{1b}[31m"]), None);
        let error = ClientAuth::new("id", "secret")
            .with_method(AuthMethod::ClientSecretBasic)
            .for_server(None, None, &support)
            .unwrap_err();
        assert!(!error.to_string().contains('\u{1b}'), "{error}");
    }

    #[test]
    fn basic_urlencodes_before_base64() {
        let auth = ClientAuth::new("my client:1", "s3cr:t%+ é");
        let mut form = Form::new();
        let header = apply(&auth, &mut form).unwrap().unwrap();
        assert!(header.is_sensitive());
        assert_eq!(decode_basic(&header), "my+client%3A1:s3cr%3At%25%2B+%C3%A9");
        assert!(form.is_empty());
    }

    #[test]
    fn post_puts_credentials_in_the_form() {
        let auth = ClientAuth::new("id", "s3cr:t%+ é").with_method(AuthMethod::ClientSecretPost);
        let mut form = Form::new();
        assert!(apply(&auth, &mut form).unwrap().is_none());
        assert_eq!(form.encode(), "client_id=id&client_secret=s3cr%3At%25%2B+%C3%A9");
    }

    #[test]
    fn public_clients_send_only_their_id() {
        let auth = ClientAuth::public("cli app");
        let mut form = Form::new();
        assert!(apply(&auth, &mut form).unwrap().is_none());
        assert_eq!(form.encode(), "client_id=cli+app");
        assert_eq!(auth.method(), AuthMethod::None);
    }

    fn claims_of(form: &Form) -> serde_json::Value {
        let body = form.encode();
        let assertion = url::form_urlencoded::parse(body.as_bytes())
            .find(|(name, _)| name == "client_assertion")
            .map(|(_, value)| value.into_owned())
            .unwrap();
        let claims = assertion.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap())
            .unwrap()
    }

    #[test]
    fn client_secret_jwt_sends_a_fresh_signed_assertion_and_never_the_secret() {
        let auth = ClientAuth::client_secret_jwt("app", "a-client-secret-that-is-long-enough!");
        let (mut first, mut second) = (Form::new(), Form::new());
        assert!(apply(&auth, &mut first).unwrap().is_none());
        apply(&auth, &mut second).unwrap();
        let body = first.encode();
        assert!(body.starts_with(
            "client_id=app&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
        ), "{body}");
        assert!(!body.contains("a-client-secret"));
        let claims = claims_of(&first);
        assert_eq!(claims["iss"], "app");
        assert_eq!(claims["sub"], "app");
        assert_eq!(claims["aud"], "https://as.example/token", "the endpoint called, when unresolved");
        assert_eq!((claims["iat"].as_u64(), claims["exp"].as_u64()), (Some(1_000), Some(1_060)));
        assert_ne!(claims["jti"], claims_of(&second)["jti"], "a new jti per request");
    }

    #[test]
    fn the_audience_is_resolved_for_a_server() {
        let token: Endpoint = "https://as.example/oauth2/token".parse().unwrap();
        let issuer: crate::issuer::Issuer = "https://as.example".parse().unwrap();
        let auth = ClientAuth::client_secret_jwt("app", "a-client-secret-that-is-long-enough!");
        let mut form = Form::new();
        apply(&auth.for_server(Some(&token), None, &AuthSupport::default()).unwrap(), &mut form).unwrap();
        assert_eq!(claims_of(&form)["aud"], "https://as.example/oauth2/token");
        let by_issuer = auth.clone().with_assertion_audience(AssertionAudience::Issuer);
        let mut form = Form::new();
        apply(
            &by_issuer.for_server(Some(&token), Some(&issuer), &AuthSupport::default()).unwrap(),
            &mut form,
        )
        .unwrap();
        assert_eq!(claims_of(&form)["aud"], "https://as.example");
        let error = by_issuer.for_server(Some(&token), None, &AuthSupport::default()).unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::InvalidSetting);
        // A secret method is not touched.
        assert!(ClientAuth::new("a", "b").for_server(None, None, &AuthSupport::default()).is_ok());
    }

    #[test]
    fn a_signer_that_fails_is_a_signing_error_and_nothing_is_added() {
        #[derive(Debug)]
        struct Down;
        #[async_trait::async_trait]
        impl JwtSigner for Down {
            fn algorithm(&self) -> crate::signing::JwsAlgorithm {
                crate::signing::JwsAlgorithm::ES256
            }
            fn key_id(&self) -> Option<&str> {
                Some("kms-key")
            }
            async fn sign(&self, _: &[u8]) -> Result<Vec<u8>, crate::signing::SigningError> {
                Err(crate::signing::SigningError::new("the KMS is unreachable"))
            }
        }
        let mut form = Form::new();
        let error = apply(&ClientAuth::private_key_jwt("app", Down), &mut form).unwrap_err();
        assert!(matches!(error, AuthFailure::Signing(_)), "{error:?}");
        assert!(form.is_empty());
        // A secret used as if it were a private key, and the reverse, are refused.
        let wrong = ClientAuth::new("app", "secret").with_method(AuthMethod::PrivateKeyJwt);
        let AuthFailure::Config(error) = apply(&wrong, &mut form).unwrap_err() else {
            panic!("a configuration error")
        };
        assert_eq!(error.kind(), ConfigErrorKind::InvalidKey);
    }
}
