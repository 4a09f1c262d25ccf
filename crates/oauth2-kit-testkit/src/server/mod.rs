//! The embedded authorization server.

mod assertion;
mod browser;
mod dpop;
mod keys;
mod resource;
#[cfg(feature = "tls")]
mod tls;
mod token;

#[cfg(feature = "tls")]
pub use tls::self_signed_client_certificate;
mod wire;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use oauth2_kit::signing::PublicKey;
use oauth2_kit::{AuthMethod, AuthorizationServer, ClientSecret, Endpoint, Issuer, Password, Scope};
use tokio::time::Instant;
use url::Url;

use crate::background::Background;
use crate::fault::{Delivery, Fault, FaultQueue, Route};

/// The id of the client every [`TestServer`] registers unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "testkit-client";
/// The secret of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "testkit-secret";
/// The token lifetime unless configured: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// The user every [`TestServer`] registers, and logs in as, unless told otherwise.
pub const DEFAULT_USERNAME: &str = "alice";
/// The password of [`DEFAULT_USERNAME`].
pub const DEFAULT_PASSWORD: &str = "alice-password";
/// How long device codes live unless configured: ten minutes.
pub const DEFAULT_DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(600);

/// A client registered at the [`TestServer`].
///
/// A confidential client authenticates with its secret (`client_secret_basic`,
/// `client_secret_post`, or `client_secret_jwt` signed with it) or with an assertion signed by
/// one of its [keys](Self::public_key) (`private_key_jwt`).
///
/// ```
/// use std::time::Duration;
/// use oauth2_kit_testkit::TestClient;
///
/// let client = TestClient::new("reporting", "s3cret")
///     .scopes("read write".parse()?)
///     .token_lifetime(Duration::from_secs(4));
/// # drop(client);
/// # Ok::<(), oauth2_kit::ScopeError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TestClient {
    id: String,
    secret: ClientSecret,
    keys: Vec<PublicKey>,
    scopes: Option<Scope>,
    token_lifetime: Option<Duration>,
    client_credentials: bool,
    redirect_uris: Vec<String>,
    public: bool,
    /// The DPoP key the current token request proved (set per request on the server's copy,
    /// never registered).
    presented_jkt: Option<String>,
    /// The TLS client certificate of the current token request, by thumbprint (set per request
    /// on the server's copy, never registered).
    presented_x5t: Option<String>,
    /// How the client authenticates with a TLS client certificate, if it does.
    mtls: Option<MtlsIdentity>,
}

/// A client's TLS client certificate, as registered (RFC 8705 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
enum MtlsIdentity {
    /// `tls_client_auth`: a certificate the server issued, with this subject (common name).
    Subject(String),
    /// `self_signed_tls_client_auth`: this very certificate, by thumbprint.
    Thumbprint(String),
}

impl TestClient {
    /// A confidential client that may use every grant with any scope, and any redirect URI
    /// until one is [registered](Self::redirect_uri).
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: ClientSecret::new(secret),
            keys: Vec::new(),
            scopes: None,
            token_lifetime: None,
            client_credentials: true,
            redirect_uris: Vec::new(),
            public: false,
            presented_jkt: None,
            presented_x5t: None,
            mtls: None,
        }
    }

    /// A public client (no secret: it sends only `client_id`). It must use PKCE, and may not use
    /// the client credentials or password grants.
    pub fn public(id: impl Into<String>) -> Self {
        Self { public: true, ..Self::new(id, "") }
    }

    /// A confidential client without a secret that authenticates with `private_key_jwt`: an
    /// assertion signed by `key`'s private half (RFC 7523 §2.2).
    ///
    /// ```
    /// use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
    /// use oauth2_kit_testkit::TestClient;
    ///
    /// let key = PrivateKey::generate(JwsAlgorithm::ES256)?.with_key_id("k1");
    /// let client = TestClient::with_key("signer", key.public_key());
    /// # drop(client);
    /// # Ok::<(), oauth2_kit::signing::SigningError>(())
    /// ```
    pub fn with_key(id: impl Into<String>, key: PublicKey) -> Self {
        Self::new(id, "").public_key(key)
    }

    /// A client that authenticates with a TLS client certificate the server issued for
    /// `subject` (`TestServer::issue_client_certificate`; `tls_client_auth`, RFC 8705 §2.1), over
    /// the server's mutual-TLS listener (`TestServerBuilder::mutual_tls`, feature `tls`).
    pub fn tls_client_auth(id: impl Into<String>, subject: impl Into<String>) -> Self {
        Self { mtls: Some(MtlsIdentity::Subject(subject.into())), ..Self::new(id, "") }
    }

    /// A client that authenticates with the self-signed `certificate`
    /// (`self_signed_client_certificate`; `self_signed_tls_client_auth`, RFC 8705 §2.2), over the
    /// server's mutual-TLS listener (`TestServerBuilder::mutual_tls`, feature `tls`). A
    /// certificate without a thumbprint (PKCS#12) matches nothing.
    pub fn self_signed_tls_client_auth(
        id: impl Into<String>,
        certificate: &oauth2_kit::http::ClientCertificate,
    ) -> Self {
        let thumbprint = certificate.thumbprint().unwrap_or_default();
        Self { mtls: Some(MtlsIdentity::Thumbprint(thumbprint)), ..Self::new(id, "") }
    }

    /// Accepts assertions signed by `key`'s private half too (`private_key_jwt`). A client may
    /// have several keys (a rotation); an assertion whose header names a `kid` is checked with
    /// the key of that identifier.
    pub fn public_key(mut self, key: PublicKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Registers a redirect URI; once one is, logins must use a registered one exactly.
    pub fn redirect_uri(mut self, uri: &Url) -> Self {
        self.redirect_uris.push(uri.as_str().to_owned());
        self
    }

    /// Restricts the scopes the client may request; requesting others gives `invalid_scope`.
    /// Requests without a scope get these.
    pub fn scopes(mut self, scopes: Scope) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// The lifetime of this client's tokens, instead of the server's.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = Some(lifetime);
        self
    }

    /// Forbids the client credentials grant (requests get `unauthorized_client`).
    pub fn without_client_credentials(mut self) -> Self {
        self.client_credentials = false;
        self
    }
}

/// A user of the [`TestServer`]: logs in (automatically, at `/authorize`), uses the password
/// grant, approves devices, and has UserInfo claims.
///
/// ```
/// use oauth2_kit_testkit::TestUser;
///
/// let bob = TestUser::new("bob", "bob-password").name("Bob Example").email("bob@example.com");
/// # drop(bob);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TestUser {
    username: String,
    password: Password,
    name: String,
    email: String,
}

impl TestUser {
    /// A user named `username` (also its `sub`), with claims derived from the name.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        let username = username.into();
        Self {
            name: format!("{username} Example"),
            email: format!("{username}@example.com"),
            password: Password::new(password.into()),
            username,
        }
    }

    /// The `name` claim.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `email` claim.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }
}

/// What happens at `/authorize`: the user logs in at once, or says no.
#[derive(Debug, Clone)]
enum Login {
    As(String),
    Deny,
}

/// A device authorization request.
#[derive(Debug, Clone)]
struct DeviceGrant {
    client_id: String,
    user_code: String,
    scope: Option<Scope>,
    status: DeviceStatus,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
}

#[derive(Debug, Clone)]
enum DeviceStatus {
    Pending,
    Approved(String),
    Denied,
    Used,
}

#[derive(Debug, Clone, Copy)]
struct DeviceSettings {
    /// `None`: the answer carries no `interval` (clients then wait 5 s).
    interval: Option<Duration>,
    lifetime: Duration,
}

/// Holds every issued token and client secret: its `Debug` shows neither.
struct ServerState {
    issuer: Mutex<String>,
    clients: Mutex<HashMap<String, TestClient>>,
    users: Mutex<HashMap<String, TestUser>>,
    tokens: Mutex<HashMap<String, token::IssuedToken>>,
    refresh_tokens: Mutex<HashMap<String, token::IssuedRefresh>>,
    codes: Mutex<HashMap<String, token::IssuedCode>>,
    /// `(presenter, jti)` of every assertion not yet expired, with its `exp`.
    assertion_ids: Mutex<HashMap<(String, String), u64>>,
    /// The issuers whose assertions the JWT bearer grant accepts, with their keys.
    assertion_issuers: Mutex<HashMap<String, Vec<PublicKey>>>,
    /// Pushed authorization requests by `request_uri`.
    pushed_requests: Mutex<HashMap<String, browser::PushedRequest>>,
    /// Whether `/authorize` takes only pushed requests.
    require_pushed_authorization: bool,
    devices: Mutex<HashMap<String, DeviceGrant>>,
    login: Mutex<Login>,
    rotate_refresh_tokens: Mutex<bool>,
    device: Mutex<DeviceSettings>,
    counts: Mutex<HashMap<Route, usize>>,
    faults: Mutex<FaultQueue>,
    token_lifetime: Mutex<Duration>,
    resource_scope: Option<Scope>,
    /// The client authentication methods accepted (and advertised).
    auth_methods: Vec<AuthMethod>,
    /// DPoP: the nonce required, proofs seen, bound tokens misused.
    dpop: dpop::DpopState,
    /// The mutual-TLS listener's origin, when there is one.
    mtls_origin: Mutex<Option<String>>,
    /// The client certificates the server issued: thumbprint to subject.
    issued_certificates: Mutex<HashMap<String, String>>,
    /// The keys that sign ID tokens and JWT access tokens.
    signing_keys: Mutex<keys::SigningKeys>,
    /// Whether access tokens are JWTs (RFC 9068) rather than opaque.
    jwt_access_tokens: bool,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState")
            .field("issuer", &*lock(&self.issuer))
            .field("clients", &lock(&self.clients).keys().collect::<Vec<_>>())
            .field("users", &lock(&self.users).keys().collect::<Vec<_>>())
            .field("tokens_issued", &lock(&self.tokens).len())
            .field("requests", &*lock(&self.counts))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Options of a [`TestServer`].
#[derive(Debug)]
#[must_use]
pub struct TestServerBuilder {
    clients: Vec<TestClient>,
    users: Vec<TestUser>,
    token_lifetime: Duration,
    resource_scope: Option<Scope>,
    rotate_refresh_tokens: bool,
    device: DeviceSettings,
    auth_methods: Vec<AuthMethod>,
    assertion_issuers: HashMap<String, Vec<PublicKey>>,
    require_pushed_authorization: bool,
    dpop_nonce: bool,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    mutual_tls: bool,
    jwt_access_tokens: bool,
    port: u16,
}

impl TestServerBuilder {
    /// Registers a client (in addition to the default one).
    pub fn client(mut self, client: TestClient) -> Self {
        self.clients.push(client);
        self
    }

    /// The lifetime of issued tokens. Default: [`DEFAULT_TOKEN_LIFETIME`].
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Registers a user (in addition to the default one, [`DEFAULT_USERNAME`]).
    pub fn user(mut self, user: TestUser) -> Self {
        self.users.push(user);
        self
    }

    /// Whether a refresh hands out a new refresh token and spends the old one (rotation).
    /// Default: `true`. Without rotation the answer to a refresh carries no refresh token.
    pub fn refresh_token_rotation(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    /// The polling interval device authorization answers carry; `None` leaves `interval` out (so
    /// clients wait the RFC's 5 s). Polling faster gets `slow_down`. Default: 5 s.
    pub fn device_interval(mut self, interval: Option<Duration>) -> Self {
        self.device.interval = interval;
        self
    }

    /// How long device codes live. Default: [`DEFAULT_DEVICE_CODE_LIFETIME`].
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.device.lifetime = lifetime;
        self
    }

    /// The client authentication methods the server accepts and lists in its metadata
    /// (`token_endpoint_auth_methods_supported`, and the same for introspection and
    /// revocation); a client using another gets `invalid_client`. Public clients are served
    /// whatever the list. Default: all of `client_secret_basic`, `client_secret_post`,
    /// `client_secret_jwt`, `private_key_jwt` and `none`.
    ///
    /// ```
    /// use oauth2_kit::AuthMethod;
    /// use oauth2_kit_testkit::TestServer;
    ///
    /// // A server that wants signed assertions only.
    /// let server = TestServer::builder().auth_methods([AuthMethod::PrivateKeyJwt]).start()?;
    /// # drop(server);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn auth_methods(mut self, methods: impl IntoIterator<Item = AuthMethod>) -> Self {
        self.auth_methods = methods.into_iter().collect();
        self
    }

    /// Trusts `issuer`'s assertions signed by `key` in the JWT bearer grant (RFC 7523 §2.1):
    /// the token is issued for the assertion's `sub`, to whichever client presents it. A
    /// client's own keys vouch for assertions whose `iss` is that client, without this.
    pub fn trust_assertion_issuer(mut self, issuer: impl Into<String>, key: PublicKey) -> Self {
        self.assertion_issuers.entry(issuer.into()).or_default().push(key);
        self
    }

    /// Whether `/authorize` takes only pushed authorization requests (RFC 9126, advertised as
    /// `require_pushed_authorization_requests`). Default: `false` (both ways work).
    pub fn require_pushed_authorization_requests(mut self, required: bool) -> Self {
        self.require_pushed_authorization = required;
        self
    }

    /// Whether DPoP proofs must carry a nonce of the server's (RFC 9449 §8, §9): a proof without
    /// the current one is refused with `use_dpop_nonce` and the nonce in `DPoP-Nonce`, at the
    /// token endpoint and at the resources. [`TestServer::rotate_dpop_nonce`] changes it (and
    /// turns the requirement on). Default: `false`.
    pub fn dpop_nonce(mut self, required: bool) -> Self {
        self.dpop_nonce = required;
        self
    }

    /// Starts a second listener, over TLS, that asks clients for a certificate (mutual TLS, RFC
    /// 8705; feature `tls`): the discovery document names its endpoints as
    /// `mtls_endpoint_aliases`; clients registered with [`TestClient::tls_client_auth`] or
    /// [`TestClient::self_signed_tls_client_auth`] authenticate there with their certificate;
    /// tokens requested over it are bound to the certificate (`cnf.x5t#S256`), and `/resource`
    /// and `/userinfo` then take them only over a connection that presents it. Clients trust
    /// [`TestServer::tls_root_certificate`]. Default: off.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn mutual_tls(mut self) -> Self {
        self.mutual_tls = true;
        self
    }

    /// A scope the protected resource requires; tokens without it get `403 insufficient_scope`.
    /// Default: none (any active token is accepted).
    pub fn resource_scope(mut self, scope: Scope) -> Self {
        self.resource_scope = Some(scope);
        self
    }

    /// Listens on 127.0.0.1:`port` (default 0: a free port, which tests want; a fixed one for a
    /// server that other programs on the machine are configured to reach).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Issues access tokens as JWTs (RFC 9068: `typ` `at+jwt`, signed with the server's
    /// [current key](TestServer::rotate_signing_key), `aud` the token request's resources or
    /// else the server's `/resource` URL) instead of opaque ones. They introspect, revoke and
    /// open `/resource` as opaque ones do.
    pub fn jwt_access_tokens(mut self, jwt: bool) -> Self {
        self.jwt_access_tokens = jwt;
        self
    }

    /// Starts the server on `127.0.0.1` on an ephemeral port, on a thread of its own (so it works
    /// from any async runtime, or none). It stops when the [`TestServer`] is dropped.
    pub fn start(self) -> io::Result<TestServer> {
        let clients = self.clients.into_iter().map(|c| (c.id.clone(), c)).collect();
        let users = self.users.into_iter().map(|u| (u.username.clone(), u)).collect();
        let state = Arc::new(ServerState {
            issuer: Mutex::new(String::new()),
            clients: Mutex::new(clients),
            users: Mutex::new(users),
            tokens: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            assertion_ids: Mutex::new(HashMap::new()),
            assertion_issuers: Mutex::new(self.assertion_issuers),
            pushed_requests: Mutex::new(HashMap::new()),
            require_pushed_authorization: self.require_pushed_authorization,
            devices: Mutex::new(HashMap::new()),
            login: Mutex::new(Login::As(DEFAULT_USERNAME.to_owned())),
            rotate_refresh_tokens: Mutex::new(self.rotate_refresh_tokens),
            device: Mutex::new(self.device),
            counts: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultQueue::default()),
            token_lifetime: Mutex::new(self.token_lifetime),
            resource_scope: self.resource_scope,
            auth_methods: self.auth_methods,
            dpop: dpop::DpopState::default(),
            mtls_origin: Mutex::new(None),
            issued_certificates: Mutex::new(HashMap::new()),
            signing_keys: Mutex::default(),
            jwt_access_tokens: self.jwt_access_tokens,
        });
        if self.dpop_nonce {
            *lock(&state.dpop.nonce) =
                Some(wire::new_secret().map_err(|_| io::Error::other("no randomness"))?);
        }
        let app = Router::new()
            .route("/token", post(token::token))
            .route("/introspect", post(token::introspect))
            .route("/revoke", post(token::revoke))
            .route("/resource", get(resource::resource).post(resource::resource))
            .route("/authorize", get(browser::authorize))
            .route("/par", post(browser::pushed_authorization))
            .route("/device_authorization", post(browser::device_authorization))
            .route("/device", get(browser::device_page))
            .route("/userinfo", get(resource::userinfo).post(resource::userinfo))
            .route("/jwks", get(keys::jwks))
            .route("/.well-known/openid-configuration", get(resource::discovery))
            .route("/.well-known/oauth-authorization-server", get(resource::discovery))
            .with_state(state.clone());
        #[cfg(feature = "tls")]
        let app = app.layer(axum::middleware::from_fn(tls::peer_certificate_header));
        #[cfg(feature = "tls")]
        let mtls = match self.mutual_tls {
            false => None,
            true => {
                let pki = Arc::new(tls::Pki::new()?);
                let (served, pki_for_listener) = (app.clone(), pki.clone());
                let listener = Background::start("mutual-tls", move |listener| {
                    tls::serve(listener, served, pki_for_listener)
                })?;
                *lock(&state.mtls_origin) = Some(format!("https://{}", listener.addr()));
                Some((listener, pki))
            }
        };
        let server = Background::start_on("authorization-server", self.port, move |listener| async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "testkit server stopped");
            }
        })?;
        let url = Url::parse(&format!("http://{}/", server.addr()))
            .map_err(|e| io::Error::other(format!("server URL: {e}")))?;
        let endpoint = |path: &str| -> io::Result<Endpoint> {
            let joined = url.join(path).map_err(|e| io::Error::other(format!("server URL: {e}")))?;
            Endpoint::new(joined).map_err(|e| io::Error::other(e.to_string()))
        };
        let endpoints = Endpoints {
            token: endpoint("token")?,
            introspection: endpoint("introspect")?,
            revocation: endpoint("revoke")?,
            resource: endpoint("resource")?.url().clone(),
            authorization: endpoint("authorize")?,
            userinfo: endpoint("userinfo")?,
            device_authorization: endpoint("device_authorization")?,
            pushed_authorization: endpoint("par")?,
            jwks: endpoint("jwks")?,
            issuer: Issuer::new(url.as_str().trim_end_matches('/'))
                .map_err(|e| io::Error::other(format!("issuer: {e}")))?,
        };
        *lock(&state.issuer) = endpoints.issuer.as_str().to_owned();
        Ok(TestServer {
            server,
            url,
            endpoints,
            state,
            #[cfg(feature = "tls")]
            mtls,
        })
    }
}

/// An OAuth 2.0 authorization server and protected resource, in process, on loopback.
///
/// Endpoints:
/// - `POST /token`: the client credentials, authorization code (with PKCE `S256` or `plain`),
///   refresh token (rotating by default), password, device code and JWT bearer (RFC 7523 §2.1,
///   assertions of [trusted issuers](TestServerBuilder::trust_assertion_issuer)) and token
///   exchange (RFC 8693: this server's active access tokens, or trusted issuers' JWTs, as
///   subjects) grants;
/// - `GET /authorize`: an automatic login as the [current user](TestServer::login_as), straight
///   back to the redirect URI with a code and `iss` (RFC 9207), or `access_denied` after
///   [`deny_logins`](TestServer::deny_logins);
/// - `POST /device_authorization` (RFC 8628) and its verification page `GET /device`;
/// - `POST /par`, pushed authorization requests (RFC 9126): `/authorize` then takes the
///   `request_uri` once, and [only that](TestServerBuilder::require_pushed_authorization_requests)
///   when so configured;
/// - `POST /introspect` (RFC 7662), `POST /revoke` (RFC 7009; revoking a refresh token ends its
///   access tokens too);
/// - `GET`/`POST /userinfo` (OpenID Connect) and the discovery documents under `/.well-known/`;
/// - `GET`/`POST /resource`, a protected resource that checks bearer tokens: `401` with an
///   RFC 6750 challenge for a missing, unknown, expired or revoked token, `403
///   insufficient_scope` when a [required scope](TestServerBuilder::resource_scope) is missing,
///   else `200` with the token's client and scope and the request body echoed.
///
/// Confidential clients authenticate with `client_secret_basic`, `client_secret_post`,
/// `client_secret_jwt` or `private_key_jwt` (the assertion's signature, `iss` = `sub`, `aud` the
/// issuer or one of the server's endpoints, `exp`, `iat` and `jti` checked, a `jti` never
/// accepted twice), public ones with their `client_id` alone. The server counts requests per endpoint and can inject
/// faults into the next requests.
///
/// ```
/// use oauth2_kit_testkit::{Route, TestServer};
///
/// let server = TestServer::start()?;
/// assert!(server.token_endpoint().as_str().starts_with("http://127.0.0.1:"));
/// assert_eq!(server.requests(Route::Token), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TestServer {
    server: Background,
    url: Url,
    endpoints: Endpoints,
    state: Arc<ServerState>,
    /// The mutual-TLS listener and its certificates.
    #[cfg(feature = "tls")]
    mtls: Option<(Background, Arc<tls::Pki>)>,
}

#[derive(Debug)]
struct Endpoints {
    token: Endpoint,
    introspection: Endpoint,
    revocation: Endpoint,
    resource: Url,
    issuer: Issuer,
    authorization: Endpoint,
    userinfo: Endpoint,
    device_authorization: Endpoint,
    pushed_authorization: Endpoint,
    jwks: Endpoint,
}

impl TestServer {
    /// Starts a server with the default client ([`DEFAULT_CLIENT_ID`] /
    /// [`DEFAULT_CLIENT_SECRET`], any scope) and one-hour tokens.
    pub fn start() -> io::Result<TestServer> {
        Self::builder().start()
    }

    /// A builder, with the default client registered.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            clients: vec![TestClient::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)],
            users: vec![TestUser::new(DEFAULT_USERNAME, DEFAULT_PASSWORD)],
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            resource_scope: None,
            rotate_refresh_tokens: true,
            assertion_issuers: HashMap::new(),
            require_pushed_authorization: false,
            dpop_nonce: false,
            mutual_tls: false,
            jwt_access_tokens: false,
            port: 0,
            auth_methods: vec![
                AuthMethod::ClientSecretBasic,
                AuthMethod::ClientSecretPost,
                AuthMethod::ClientSecretJwt,
                AuthMethod::PrivateKeyJwt,
                AuthMethod::None,
                AuthMethod::TlsClientAuth,
                AuthMethod::SelfSignedTlsClientAuth,
            ],
            device: DeviceSettings {
                interval: Some(oauth2_kit::grant::device_code::DEFAULT_INTERVAL),
                lifetime: DEFAULT_DEVICE_CODE_LIFETIME,
            },
        }
    }

    /// The server's base URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The server as a client sees it: every endpoint, and the issuer that login callbacks
    /// always name (RFC 9207), as [`OAuth2Client::discover`](oauth2_kit::OAuth2Client::discover)
    /// would find them, without the round trip.
    ///
    /// ```
    /// use oauth2_kit::{ClientAuth, OAuth2Client};
    /// use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start()?;
    /// let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    /// let client = OAuth2Client::new(server.authorization_server(), auth, oauth2_kit_reqwest::ReqwestClient::new()?);
    /// let token = client.client_credentials()?.request_token(None).await?;
    /// assert!(client.introspection()?.introspect(token.access_token()).await?.active);
    /// # Ok(()) }
    /// ```
    pub fn authorization_server(&self) -> AuthorizationServer {
        let endpoints = &self.endpoints;
        AuthorizationServer::new()
            .issuer(endpoints.issuer.clone(), true)
            .authorization(endpoints.authorization.clone())
            .token(endpoints.token.clone())
            .introspection(endpoints.introspection.clone())
            .revocation(endpoints.revocation.clone())
            .userinfo(endpoints.userinfo.clone())
            .device_authorization(endpoints.device_authorization.clone())
            .jwks(endpoints.jwks.clone())
            .pushed_authorization(
                endpoints.pushed_authorization.clone(),
                self.state.require_pushed_authorization,
            )
    }

    /// `GET /jwks`: the server's signing keys (`jwks_uri`), which check its ID tokens and JWT
    /// access tokens.
    pub fn jwks_endpoint(&self) -> Endpoint {
        self.endpoints.jwks.clone()
    }

    /// Signs from now on with a new key (its `kid` returned), published beside the older ones:
    /// tokens signed before still verify, tokens signed after carry the new `kid`.
    pub fn rotate_signing_key(&self) -> String {
        lock(&self.state.signing_keys).rotate().unwrap_or_default()
    }

    /// Unpublishes every signing key but the current one, as a server does when it retires
    /// keys: tokens signed with the older ones no longer verify.
    pub fn retire_old_signing_keys(&self) {
        lock(&self.state.signing_keys).retire_older();
    }

    /// `POST /par`, pushed authorization requests (RFC 9126).
    pub fn pushed_authorization_endpoint(&self) -> Endpoint {
        self.endpoints.pushed_authorization.clone()
    }

    /// `POST /token`.
    pub fn token_endpoint(&self) -> Endpoint {
        self.endpoints.token.clone()
    }

    /// `POST /introspect`.
    pub fn introspection_endpoint(&self) -> Endpoint {
        self.endpoints.introspection.clone()
    }

    /// `POST /revoke`.
    pub fn revocation_endpoint(&self) -> Endpoint {
        self.endpoints.revocation.clone()
    }

    /// The issuer (`http://127.0.0.1:PORT`, no trailing slash), whose discovery documents are
    /// at `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`.
    pub fn issuer(&self) -> Issuer {
        self.endpoints.issuer.clone()
    }

    /// `GET /authorize`: logs the [current user](Self::login_as) in at once and redirects back
    /// with a code (or, after [`deny_logins`](Self::deny_logins), with `access_denied`).
    pub fn authorization_endpoint(&self) -> Endpoint {
        self.endpoints.authorization.clone()
    }

    /// `GET`/`POST /userinfo`.
    pub fn userinfo_endpoint(&self) -> Endpoint {
        self.endpoints.userinfo.clone()
    }

    /// `POST /device_authorization` (RFC 8628).
    pub fn device_authorization_endpoint(&self) -> Endpoint {
        self.endpoints.device_authorization.clone()
    }

    /// Registers another user while the server runs.
    pub fn add_user(&self, user: TestUser) {
        lock(&self.state.users).insert(user.username.clone(), user);
    }

    /// Logins at `/authorize` and device approvals are by `username` from now on (default:
    /// [`DEFAULT_USERNAME`]).
    pub fn login_as(&self, username: impl Into<String>) {
        *lock(&self.state.login) = Login::As(username.into());
    }

    /// Logins at `/authorize` are refused (`access_denied`) from now on, until
    /// [`login_as`](Self::login_as).
    pub fn deny_logins(&self) {
        *lock(&self.state.login) = Login::Deny;
    }

    /// Turns refresh token rotation on or off while the server runs.
    pub fn set_refresh_token_rotation(&self, rotate: bool) {
        *lock(&self.state.rotate_refresh_tokens) = rotate;
    }

    /// Approves the pending device request with `user_code` as the current user (what the user
    /// does at the verification URI; `GET /device?user_code=...&action=approve` does the same).
    /// Returns whether there was such a request.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.state.answer_device(user_code, true)
    }

    /// Denies the pending device request with `user_code`.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.state.answer_device(user_code, false)
    }

    /// `/resource`, the protected resource (`GET` or `POST`).
    pub fn resource_url(&self) -> Url {
        self.endpoints.resource.clone()
    }

    /// How many requests reached `route` (faulted ones included).
    pub fn requests(&self, route: Route) -> usize {
        lock(&self.state.counts).get(&route).copied().unwrap_or(0)
    }

    /// A handle that reads [`requests`](Self::requests)`(route)` from anywhere (another thread,
    /// after the server moved).
    pub fn requests_counter(&self, route: Route) -> impl Fn() -> usize + Send + Sync + 'static {
        let state = self.state.clone();
        move || lock(&state.counts).get(&route).copied().unwrap_or(0)
    }

    /// Sets every request count to zero.
    pub fn reset_counts(&self) {
        lock(&self.state.counts).clear();
    }

    /// Applies `fault` to the next `times` requests to `route`, after any faults already queued.
    pub fn inject(&self, route: Route, fault: Fault, times: usize) {
        lock(&self.state.faults).push(route, fault, times);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Registers another client while the server runs.
    pub fn register(&self, client: TestClient) {
        lock(&self.state.clients).insert(client.id.clone(), client);
    }

    /// Changes the lifetime of tokens issued from now on (clients with their own lifetime keep
    /// it).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        *lock(&self.state.token_lifetime) = lifetime;
    }

    /// Revokes every token issued so far, as an administrator would.
    pub fn revoke_all_tokens(&self) {
        lock(&self.state.tokens).values_mut().for_each(|t| t.revoked = true);
    }

    /// How many tokens the server has issued.
    pub fn tokens_issued(&self) -> usize {
        lock(&self.state.tokens).len()
    }

    /// The mutual-TLS listener's origin (`https://127.0.0.1:<port>`), when the server was built
    /// with [`mutual_tls`](TestServerBuilder::mutual_tls).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn mtls_url(&self) -> Option<Url> {
        self.mtls.as_ref().and_then(|(listener, _)| Url::parse(&format!("https://{}/", listener.addr())).ok())
    }

    /// The CA certificate (PEM) of the mutual-TLS listener's certificate: what clients trust
    /// (the adapters' `root_certificates`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_root_certificate(&self) -> Option<String> {
        self.mtls.as_ref().map(|(_, pki)| pki.root.clone())
    }

    /// A client certificate of this server's client CA for `subject` (its common name), for a
    /// client registered with [`TestClient::tls_client_auth`]; its files live under a directory
    /// of the server's own, removed when the server stops. Fails when the server has no
    /// [mutual-TLS listener](TestServerBuilder::mutual_tls).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn issue_client_certificate(&self, subject: &str) -> io::Result<oauth2_kit::http::ClientCertificate> {
        let (_, pki) =
            self.mtls.as_ref().ok_or_else(|| io::Error::other("the server has no mutual-TLS listener"))?;
        let (certificate, thumbprint) = pki.issue(subject)?;
        lock(&self.state.issued_certificates).insert(thumbprint, subject.to_owned());
        Ok(certificate)
    }

    /// Replaces the DPoP nonce proofs must carry with a new one, and requires it from now on
    /// (see [`TestServerBuilder::dpop_nonce`]); returns it.
    pub fn rotate_dpop_nonce(&self) -> String {
        let mut bytes = [0u8; 16];
        // A nonce needs to differ from the last, not to be secret: a counter would do.
        let _ = getrandom::fill(&mut bytes);
        let nonce = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
        *lock(&self.state.dpop.nonce) = Some(nonce.clone());
        nonce
    }

    /// How many times a DPoP-bound token reached `/resource` or `/userinfo` without a valid
    /// proof of its key: as a bearer token, without a proof, or with another key's (each is
    /// refused with `401`). A client that keeps bound tokens bound leaves it at zero.
    pub fn misused_bound_tokens(&self) -> usize {
        self.state.dpop.misused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

type Shared = State<Arc<ServerState>>;

impl ServerState {
    /// The origin a request came to: the mutual-TLS listener's, or the issuer's (what DPoP
    /// proofs' `htu` must name).
    fn origin(&self, headers: &http::HeaderMap) -> String {
        #[cfg(feature = "tls")]
        if headers.contains_key(tls::OVER_TLS) {
            if let Some(origin) = lock(&self.mtls_origin).clone() {
                return origin;
            }
        }
        let _ = headers;
        lock(&self.issuer).clone()
    }

    /// The thumbprint of the TLS client certificate a request came with (over the mutual-TLS
    /// listener only).
    #[allow(clippy::unused_self)]
    fn peer_certificate(&self, headers: &http::HeaderMap) -> Option<String> {
        #[cfg(feature = "tls")]
        return headers.get(tls::PEER_CERTIFICATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        #[cfg(not(feature = "tls"))]
        {
            let _ = headers;
            None
        }
    }

    /// Counts the request and applies the next fault, if any: returns the answer that replaces
    /// the normal one.
    async fn enter(&self, route: Route) -> Option<Response> {
        *lock(&self.counts).entry(route).or_insert(0) += 1;
        let fault = lock(&self.faults).next(route)?;
        if let Some(delay) = fault.delay {
            tokio::time::sleep(delay).await;
        }
        if !fault.replaces_answer() {
            return None;
        }
        let status = fault.status.unwrap_or(StatusCode::OK);
        let body = fault.body.unwrap_or_default();
        let mut response = match fault.delivery {
            Delivery::Whole => (status, body).into_response(),
            Delivery::CloseMidBody => {
                // The head and the first part go out (chunked), then, a moment later so that
                // they are on the wire, the connection drops before the last chunk.
                let stream = futures_lite::stream::unfold(Some(body), |part| async move {
                    match part {
                        Some(body) => Some((Ok(body), None)),
                        None => {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            Some((Err(std::io::Error::other("the server dropped the connection")), None))
                        }
                    }
                });
                (status, axum::body::Body::from_stream(stream)).into_response()
            }
            Delivery::Trickle(every) => {
                let bytes: Vec<u8> = body.to_vec();
                let stream = futures_lite::stream::unfold(0usize, move |i| {
                    let byte = bytes.get(i).copied();
                    async move {
                        let byte = byte?;
                        tokio::time::sleep(every).await;
                        Some((Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(&[byte])), i + 1))
                    }
                });
                (status, axum::body::Body::from_stream(stream)).into_response()
            }
        };
        for (name, value) in fault.headers {
            response.headers_mut().append(name, value);
        }
        Some(response)
    }
}
