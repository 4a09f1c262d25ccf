//! One client for every operation: the authorization server, the client's authentication, the
//! HTTP client and the shared settings, given once.

use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::client_auth::{AuthSupport, ClientAuth};
use crate::clock::{Clock, SystemClock};
use crate::config_error::{ConfigError, ConfigErrorKind, EndpointKind};
use crate::discovery::ServerMetadata;
use crate::dpop::DpopKey;
use crate::endpoint::{Endpoint, Redacted};
use crate::error::Result;
use crate::exchange::{Transport, check_body_limit};
use crate::form::check_extra_params;
use crate::grant::RefreshClient;
use crate::grant::authorization_code::{self, AuthorizationCodeProvider, AuthorizationCodeProviderBuilder};
use crate::grant::client_credentials::ClientCredentials;
use crate::grant::device_code::DeviceCodeClient;
use crate::grant::jwt_bearer::{AssertionSource, JwtBearer};
use crate::grant::password::PasswordGrant;
use crate::grant::token_endpoint::TokenEndpoint;
use crate::grant::token_exchange::TokenExchange;
use crate::http::{BodyLimit, HttpClient};
use crate::introspection::IntrospectionClient;
use crate::issuer::Issuer;
use crate::retry::RetryPolicy;
use crate::revocation::RevocationClient;
use crate::runtime::Runtime;
use crate::userinfo::UserInfoClient;

/// An authorization server as a client sees it: the endpoints it has (set one by one, from a
/// [preset](crate::presets) layout, or from its discovered metadata) and its issuer when known. Only what an
/// operation needs is checked, when the operation is obtained from an [`OAuth2Client`].
///
/// ```
/// use oauth2_kit::AuthorizationServer;
///
/// let server = AuthorizationServer::new()
///     .token("https://auth.example.com/oauth2/token".parse()?)
///     .introspection("https://auth.example.com/oauth2/introspect".parse()?);
/// assert!(server.has(oauth2_kit::EndpointKind::Introspection));
/// assert!(!server.has(oauth2_kit::EndpointKind::Revocation));
/// # Ok::<(), oauth2_kit::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct AuthorizationServer {
    issuer: Option<Issuer>,
    require_issuer: bool,
    authorization: Option<Place>,
    token: Option<Place>,
    introspection: Option<Place>,
    revocation: Option<Place>,
    userinfo: Option<Place>,
    device_authorization: Option<Place>,
    end_session: Option<Place>,
    pushed_authorization: Option<Place>,
    jwks: Option<Place>,
    /// The algorithms the server signs ID tokens with (`id_token_signing_alg_values_supported`).
    #[cfg(feature = "jwt")]
    id_token_algs: Option<Vec<String>>,
    /// The algorithms it signs introspection responses with
    /// (`introspection_signing_alg_values_supported`, RFC 9701).
    #[cfg(feature = "jwt")]
    introspection_signing_algs: Option<Vec<String>>,
    /// Whether login links must go through the pushed authorization request endpoint.
    require_pushed_authorization: bool,
    /// The endpoints for clients that present a TLS client certificate (RFC 8705 §5).
    mtls_aliases: Vec<(EndpointKind, Place)>,
    /// What the token, introspection and revocation endpoints accept for client
    /// authentication, as the metadata says.
    token_auth: AuthSupport,
    introspection_auth: AuthSupport,
    revocation_auth: AuthSupport,
}

impl fmt::Debug for AuthorizationServer {
    /// Endpoints as [`Endpoint`] shows them: no user info, no query values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_struct("AuthorizationServer");
        list.field("issuer", &self.issuer).field("require_issuer", &self.require_issuer);
        for (name, place) in [
            ("authorization", &self.authorization),
            ("token", &self.token),
            ("introspection", &self.introspection),
            ("revocation", &self.revocation),
            ("userinfo", &self.userinfo),
            ("device_authorization", &self.device_authorization),
            ("end_session", &self.end_session),
            ("pushed_authorization", &self.pushed_authorization),
            ("jwks", &self.jwks),
        ] {
            if let Some(place) = place {
                list.field(name, &format_args!("{place:?}"));
            }
        }
        list.finish()
    }
}

/// Where an endpoint is: checked already, or as a server advertised it (checked when used, so
/// one unusable endpoint in a server's metadata fails only the operations that need it).
#[derive(Clone)]
enum Place {
    Checked(Endpoint),
    Advertised(Url),
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Checked(endpoint) => fmt::Debug::fmt(endpoint, f),
            Self::Advertised(url) => write!(f, "{}", Redacted(url)),
        }
    }
}

impl Place {
    fn endpoint(&self) -> Result<Endpoint, ConfigError> {
        match self {
            Self::Checked(endpoint) => Ok(endpoint.clone()),
            Self::Advertised(url) => Endpoint::new(url.clone()),
        }
    }
}

impl AuthorizationServer {
    /// A server with no endpoint yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The server of discovered `metadata`: its endpoints, its issuer, whether it sends `iss`
    /// in login callbacks (RFC 9207, then required), and the client authentication methods and
    /// signing algorithms its endpoints accept (`*_endpoint_auth_methods_supported`,
    /// `*_endpoint_auth_signing_alg_values_supported`; the introspection and revocation
    /// endpoints follow the token endpoint's lists when they have none of their own).
    ///
    /// With those lists, an operation obtained from an [`OAuth2Client`] uses a method the
    /// endpoint accepts: credentials made with [`ClientAuth::new`] (whose method is the default,
    /// `client_secret_basic`) use `client_secret_post`, else `client_secret_jwt`, when the server
    /// lists those and not the default; a method or algorithm chosen explicitly that the server
    /// does not list is a [`ConfigError`] of kind
    /// [`UnsupportedByServer`](ConfigErrorKind::UnsupportedByServer) at the getter, before
    /// anything is sent.
    pub fn from_metadata(metadata: &ServerMetadata) -> Self {
        let advertised = |url: &Option<Url>| url.clone().map(Place::Advertised);
        let token_methods = &metadata.token_endpoint_auth_methods_supported;
        let token_algs = &metadata.token_endpoint_auth_signing_alg_values_supported;
        // An endpoint without lists of its own takes the token endpoint's to pick a method, and
        // refuses none by them (RFC 8414 leaves its methods to "other means"; servers that omit
        // them, oidc-provider for one, use one rule for every endpoint).
        let own_or_token = |endpoint, methods: &Option<Vec<String>>, algs: &Option<Vec<String>>| match methods
        {
            Some(_) => AuthSupport {
                endpoint,
                methods: methods.clone(),
                signing_algs: algs.clone(),
                inherited: false,
            },
            None => AuthSupport {
                endpoint,
                methods: token_methods.clone(),
                signing_algs: algs.clone().or_else(|| token_algs.clone()),
                inherited: token_methods.is_some(),
            },
        };
        Self {
            issuer: Some(metadata.issuer.clone()),
            require_issuer: metadata
                .extra
                .get("authorization_response_iss_parameter_supported")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            authorization: advertised(&metadata.authorization_endpoint),
            token: advertised(&metadata.token_endpoint),
            introspection: advertised(&metadata.introspection_endpoint),
            revocation: advertised(&metadata.revocation_endpoint),
            userinfo: advertised(&metadata.userinfo_endpoint),
            device_authorization: advertised(&metadata.device_authorization_endpoint),
            end_session: advertised(&metadata.end_session_endpoint),
            pushed_authorization: advertised(&metadata.pushed_authorization_request_endpoint),
            jwks: advertised(&metadata.jwks_uri),
            #[cfg(feature = "jwt")]
            id_token_algs: string_list(&metadata.extra, "id_token_signing_alg_values_supported"),
            #[cfg(feature = "jwt")]
            introspection_signing_algs: string_list(
                &metadata.extra,
                "introspection_signing_alg_values_supported",
            ),
            require_pushed_authorization: metadata.require_pushed_authorization_requests,
            mtls_aliases: metadata
                .mtls_endpoint_aliases
                .as_ref()
                .map(|aliases| {
                    [
                        (EndpointKind::Token, &aliases.token_endpoint),
                        (EndpointKind::Introspection, &aliases.introspection_endpoint),
                        (EndpointKind::Revocation, &aliases.revocation_endpoint),
                        (EndpointKind::UserInfo, &aliases.userinfo_endpoint),
                        (EndpointKind::DeviceAuthorization, &aliases.device_authorization_endpoint),
                        (EndpointKind::PushedAuthorization, &aliases.pushed_authorization_request_endpoint),
                    ]
                    .into_iter()
                    .filter_map(|(kind, url)| Some((kind, Place::Advertised(url.clone()?))))
                    .collect()
                })
                .unwrap_or_default(),
            token_auth: AuthSupport {
                endpoint: "token",
                methods: token_methods.clone(),
                signing_algs: token_algs.clone(),
                inherited: false,
            },
            introspection_auth: own_or_token(
                "introspection",
                &metadata.introspection_endpoint_auth_methods_supported,
                &metadata.introspection_endpoint_auth_signing_alg_values_supported,
            ),
            revocation_auth: own_or_token(
                "revocation",
                &metadata.revocation_endpoint_auth_methods_supported,
                &metadata.revocation_endpoint_auth_signing_alg_values_supported,
            ),
        }
    }

    /// `kind` at `url` as a server layout says it is: checked when an operation needs it.
    pub(crate) fn advertised(mut self, kind: EndpointKind, url: Url) -> Self {
        let place = Some(Place::Advertised(url));
        match kind {
            EndpointKind::Authorization => self.authorization = place,
            EndpointKind::Token => self.token = place,
            EndpointKind::Introspection => self.introspection = place,
            EndpointKind::Revocation => self.revocation = place,
            EndpointKind::UserInfo => self.userinfo = place,
            EndpointKind::DeviceAuthorization => self.device_authorization = place,
            EndpointKind::EndSession => self.end_session = place,
            EndpointKind::PushedAuthorization => self.pushed_authorization = place,
            EndpointKind::Jwks => self.jwks = place,
        }
        self
    }

    /// The authorization endpoint (RFC 6749 §3.1), where users log in.
    #[must_use]
    pub fn authorization(mut self, endpoint: Endpoint) -> Self {
        self.authorization = Some(Place::Checked(endpoint));
        self
    }

    /// The token endpoint (RFC 6749 §3.2).
    #[must_use]
    pub fn token(mut self, endpoint: Endpoint) -> Self {
        self.token = Some(Place::Checked(endpoint));
        self
    }

    /// The introspection endpoint (RFC 7662).
    #[must_use]
    pub fn introspection(mut self, endpoint: Endpoint) -> Self {
        self.introspection = Some(Place::Checked(endpoint));
        self
    }

    /// The revocation endpoint (RFC 7009).
    #[must_use]
    pub fn revocation(mut self, endpoint: Endpoint) -> Self {
        self.revocation = Some(Place::Checked(endpoint));
        self
    }

    /// The UserInfo endpoint (OpenID Connect Core §5.3).
    #[must_use]
    pub fn userinfo(mut self, endpoint: Endpoint) -> Self {
        self.userinfo = Some(Place::Checked(endpoint));
        self
    }

    /// The device authorization endpoint (RFC 8628).
    #[must_use]
    pub fn device_authorization(mut self, endpoint: Endpoint) -> Self {
        self.device_authorization = Some(Place::Checked(endpoint));
        self
    }

    /// Where users log out (OpenID Connect RP-Initiated Logout, or a server's own logout page).
    #[must_use]
    pub fn end_session(mut self, endpoint: Endpoint) -> Self {
        self.end_session = Some(Place::Checked(endpoint));
        self
    }

    /// The pushed authorization request endpoint (RFC 9126), where login links' parameters are
    /// posted first; with `required`, login links go only that way
    /// ([`LoginLinkBuilder::push`](crate::grant::authorization_code::LoginLinkBuilder::push)).
    #[must_use]
    pub fn pushed_authorization(mut self, endpoint: Endpoint, required: bool) -> Self {
        self.pushed_authorization = Some(Place::Checked(endpoint));
        self.require_pushed_authorization = required;
        self
    }

    /// The server's JSON Web Key Set (`jwks_uri`): the keys that check the ID tokens, JWT
    /// access tokens and signed introspection responses it issues.
    #[must_use]
    pub fn jwks(mut self, endpoint: Endpoint) -> Self {
        self.jwks = Some(Place::Checked(endpoint));
        self
    }

    /// The endpoint `kind` for clients that present a TLS client certificate (RFC 8705 §5's
    /// `mtls_endpoint_aliases`): an [`OAuth2Client`] whose HTTP client
    /// [presents one](crate::http::HttpClient::presents_certificate) sends `kind`'s requests
    /// there.
    #[must_use]
    pub fn mtls_alias(mut self, kind: EndpointKind, endpoint: Endpoint) -> Self {
        self.mtls_aliases.retain(|(existing, _)| *existing != kind);
        self.mtls_aliases.push((kind, Place::Checked(endpoint)));
        self
    }

    /// The endpoint `kind` for a client that presents a TLS client certificate when `mtls`:
    /// its alias if the server has one, else the endpoint itself.
    pub(crate) fn endpoint_for(&self, kind: EndpointKind, mtls: bool) -> Result<Endpoint, ConfigError> {
        match self.mtls_aliases.iter().find(|(alias, _)| mtls && *alias == kind) {
            Some((_, place)) => place.endpoint(),
            None => self.endpoint(kind),
        }
    }

    /// The server's issuer identifier: login callbacks carrying `iss` (RFC 9207) must name it;
    /// with `required`, callbacks without `iss` are refused too.
    #[must_use]
    pub fn issuer(mut self, issuer: Issuer, required: bool) -> Self {
        self.issuer = Some(issuer);
        self.require_issuer = required;
        self
    }

    /// The server's issuer identifier, when known (from discovery, a preset or
    /// [`issuer`](Self::issuer)).
    pub fn issuer_identifier(&self) -> Option<&Issuer> {
        self.issuer.as_ref()
    }

    /// Whether the server has the endpoint `kind`.
    pub fn has(&self, kind: EndpointKind) -> bool {
        self.place(kind).is_some()
    }

    fn place(&self, kind: EndpointKind) -> Option<&Place> {
        match kind {
            EndpointKind::Authorization => self.authorization.as_ref(),
            EndpointKind::Token => self.token.as_ref(),
            EndpointKind::Introspection => self.introspection.as_ref(),
            EndpointKind::Revocation => self.revocation.as_ref(),
            EndpointKind::UserInfo => self.userinfo.as_ref(),
            EndpointKind::DeviceAuthorization => self.device_authorization.as_ref(),
            EndpointKind::EndSession => self.end_session.as_ref(),
            EndpointKind::PushedAuthorization => self.pushed_authorization.as_ref(),
            EndpointKind::Jwks => self.jwks.as_ref(),
        }
    }

    /// The endpoint `kind`, checked: missing or unusable is a [`ConfigError`].
    pub fn endpoint(&self, kind: EndpointKind) -> Result<Endpoint, ConfigError> {
        let place = self.place(kind).ok_or_else(|| {
            ConfigError::missing(kind, format!("the authorization server has no {} endpoint", name(kind)))
        })?;
        place.endpoint()
    }
}

/// A metadata member that lists strings.
#[cfg(feature = "jwt")]
fn string_list(extra: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<Vec<String>> {
    let list = extra.get(name)?.as_array()?;
    Some(list.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect())
}

fn name(kind: EndpointKind) -> &'static str {
    match kind {
        EndpointKind::Authorization => "authorization",
        EndpointKind::Token => "token",
        EndpointKind::Introspection => "introspection",
        EndpointKind::Revocation => "revocation",
        EndpointKind::UserInfo => "UserInfo",
        EndpointKind::DeviceAuthorization => "device authorization",
        EndpointKind::EndSession => "end-session",
        EndpointKind::PushedAuthorization => "pushed authorization request",
        EndpointKind::Jwks => "key set (jwks_uri)",
    }
}

/// One client of one authorization server, from which every operation is obtained the same
/// way: the server ([`AuthorizationServer`]), how the client authenticates ([`ClientAuth`]),
/// the [`HttpClient`], and the settings every operation shares (clock, body limit, retries,
/// extra token parameters), all given once.
///
/// Each getter returns the operation's client, or a configuration error
/// ([`ConfigErrorKind::MissingEndpoint`] and the endpoint it needs) before anything is sent:
/// a missing endpoint is found when the operation is obtained, never on a call. The operation
/// clients are cheap to clone and can also be built on their own
/// ([`IntrospectionClient::new`], ...).
///
/// | operation | obtained with | called with |
/// |---|---|---|
/// | client credentials | [`client_credentials`](Self::client_credentials) | `request_token(scope)` |
/// | password | [`password`](Self::password) | `request_token(user, password, scope)`, `provider(..)` |
/// | authorization code | [`authorization_code`](Self::authorization_code)`(redirect_uri)?.build()` | `login_link()`, `complete_login(..)` |
/// | refresh | [`refresh`](Self::refresh) | `refresh(refresh_token, scope)` |
/// | device flow | [`device`](Self::device) | `request_authorization(scope)`, `poll_token(..)` |
/// | introspection | [`introspection`](Self::introspection) | `introspect(token)` |
/// | revocation | [`revocation`](Self::revocation) | `revoke(token)`, `revoke_refresh_token(..)` |
/// | UserInfo | [`userinfo`](Self::userinfo) | `fetch(token)` |
///
/// ```no_run
/// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let server = AuthorizationServer::new()
///     .token("https://auth.example.com/oauth2/token".parse()?)
///     .introspection("https://auth.example.com/oauth2/introspect".parse()?);
/// let client = OAuth2Client::new(server, ClientAuth::new("my-service", "my-secret"), http);
///
/// let token = client.client_credentials()?.request_token(Some(&"read".parse()?)).await?;
/// let active = client.introspection()?.introspect(token.access_token()).await?.active;
/// # drop(active); Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuth2Client {
    inner: Arc<Inner>,
}

struct Inner {
    server: AuthorizationServer,
    auth: ClientAuth,
    transport: Transport,
    extra_params: Vec<(String, String)>,
    /// Resource indicators (RFC 8707), sent after the extra parameters.
    resources: Vec<String>,
    retry: Option<RetryPolicy>,
    runtime: Option<Arc<dyn Runtime>>,
    dpop: Option<DpopKey>,
    /// The server's key set, fetched when first needed and shared by every operation.
    #[cfg(feature = "jwt")]
    jwks: std::sync::OnceLock<crate::jwt::Jwks>,
}

impl OAuth2Client {
    /// A client of `server`, authenticating with `auth`, over `http`, with the default
    /// settings.
    pub fn new(server: AuthorizationServer, auth: ClientAuth, http: impl HttpClient + 'static) -> Self {
        Self { inner: Arc::new(Self::builder(server, auth, http).into_inner()) }
    }

    /// A builder, for settings other than the defaults.
    pub fn builder(
        server: AuthorizationServer,
        auth: ClientAuth,
        http: impl HttpClient + 'static,
    ) -> OAuth2ClientBuilder {
        OAuth2ClientBuilder {
            server,
            auth,
            http: Arc::new(http),
            clock: Arc::new(SystemClock),
            body_limit: BodyLimit::DEFAULT.0,
            extra_params: Vec::new(),
            resources: Vec::new(),
            retry: None,
            runtime: None,
            dpop: None,
        }
    }

    /// A client of the server `issuer` names, from its discovered metadata (its OpenID
    /// configuration, or else its RFC 8414 document; see [`ServerMetadata::discover`]), with the
    /// default settings.
    pub async fn discover(
        issuer: &Issuer,
        auth: ClientAuth,
        http: impl HttpClient + Clone + 'static,
    ) -> Result<Self> {
        let metadata = ServerMetadata::discover(issuer, http.clone()).await?;
        Ok(Self::new(AuthorizationServer::from_metadata(&metadata), auth, http))
    }

    /// The authorization server.
    pub fn server(&self) -> &AuthorizationServer {
        &self.inner.server
    }

    /// The client's authentication.
    pub fn auth(&self) -> &ClientAuth {
        &self.inner.auth
    }

    /// The client credentials grant (RFC 6749 §4.4), an
    /// [`AccessTokenProvider`](crate::AccessTokenProvider): needs the token endpoint.
    pub fn client_credentials(&self) -> Result<ClientCredentials> {
        Ok(ClientCredentials::new(self.token_endpoint(ClientCredentials::RESERVED_PARAMS, true)?))
    }

    /// The JWT bearer grant (RFC 7523 §2.1), an [`AccessTokenProvider`](crate::AccessTokenProvider)
    /// that trades an assertion from `source` (a [`SignedAssertion`](crate::grant::jwt_bearer::SignedAssertion)
    /// it signs, or one obtained elsewhere) for a token: needs the token endpoint.
    pub fn jwt_bearer(&self, source: impl AssertionSource + 'static) -> Result<JwtBearer> {
        let token = self.token_endpoint(JwtBearer::RESERVED_PARAMS, true)?;
        Ok(JwtBearer::new(token, Arc::new(source), self.inner.server.issuer.clone()))
    }

    /// Token exchange (RFC 8693): trade a subject token (and an actor token) for another
    /// token; needs the token endpoint. The client's resource indicators are not sent: each
    /// exchange names its own (`TokenExchangeRequest::resource`), so that an exchanged token is
    /// never for more than its request says.
    pub fn token_exchange(&self) -> Result<TokenExchange> {
        Ok(TokenExchange::new(self.token_endpoint_for(TokenExchange::RESERVED_PARAMS, true, false)?))
    }

    /// The password grant (RFC 6749 §4.3): needs the token endpoint.
    pub fn password(&self) -> Result<PasswordGrant> {
        Ok(PasswordGrant::new(self.token_endpoint(PasswordGrant::RESERVED_PARAMS, true)?))
    }

    /// The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), for users sent back to
    /// `redirect_uri`: needs the authorization and token endpoints. Returns the provider's
    /// builder, for the options only this grant has (the token response type, PKCE); the
    /// server's issuer and end-session endpoint come from the server. A code exchange is
    /// retried (with a retry policy) only after failures the server surely did not act on.
    pub fn authorization_code(&self, redirect_uri: Url) -> Result<AuthorizationCodeProviderBuilder> {
        let server = &self.inner.server;
        let authorization = server.endpoint(EndpointKind::Authorization)?;
        let token = self.token_endpoint(authorization_code::RESERVED_PARAMS, true)?;
        let mtls = self.presents_certificate();
        let issuer = server.issuer.clone().map(|issuer| (issuer, server.require_issuer));
        Ok(AuthorizationCodeProvider::builder(
            authorization,
            redirect_uri,
            token,
            server.end_session.as_ref().map(Place::endpoint),
            issuer,
            authorization_code::Pushed {
                endpoint: server
                    .pushed_authorization
                    .as_ref()
                    .map(|_| server.endpoint_for(EndpointKind::PushedAuthorization, mtls)),
                required: server.require_pushed_authorization,
            },
            #[cfg(feature = "jwt")]
            self.id_token_validator(),
        ))
    }

    /// The validator of the server's ID tokens for this client, or why there is none.
    #[cfg(feature = "jwt")]
    fn id_token_validator(&self) -> Result<crate::jwt::IdTokenValidator, ConfigError> {
        let issuer = self.issuer_required("ID tokens are validated against it")?;
        let jwks = self.jwks().map_err(|error| match error {
            crate::Error::Config(error) => error,
            other => ConfigError::new(ConfigErrorKind::InvalidEndpoint, other.to_string()),
        })?;
        Ok(crate::jwt::IdTokenValidator::new(
            jwks,
            issuer.as_str().to_owned(),
            self.inner.auth.client_id().as_str().to_owned(),
            self.inner.server.id_token_algs.as_deref(),
            self.inner.transport.clock.clone(),
        ))
    }

    /// The refresh token grant (RFC 6749 §6), for refresh tokens from any grant: needs the
    /// token endpoint. A refresh is retried (with a retry policy) only after failures the
    /// server surely did not act on: a rotated refresh token is good for one use.
    pub fn refresh(&self) -> Result<RefreshClient> {
        Ok(RefreshClient::with_token_endpoint(
            self.token_endpoint(crate::grant::REFRESH_RESERVED_PARAMS, true)?,
        ))
    }

    /// The device authorization grant (RFC 8628): needs the device authorization and token
    /// endpoints, and a runtime to sleep between polls ([`OAuth2ClientBuilder::runtime`]).
    /// The extra parameters go with the device authorization request and the token polls;
    /// polls are not retried by the retry policy (polling backs off on its own).
    pub fn device(&self) -> Result<DeviceCodeClient> {
        let inner = &*self.inner;
        let runtime = inner.runtime.clone().ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::NoRuntime,
                "the device flow sleeps between polls: give the client a runtime (OAuth2ClientBuilder::runtime)",
            )
        })?;
        let device = self.endpoint(EndpointKind::DeviceAuthorization)?;
        let token = self.token_endpoint(DeviceCodeClient::RESERVED_PARAMS, false)?;
        Ok(DeviceCodeClient::new(device, token, runtime))
    }

    /// Token introspection (RFC 7662), a [`TokenIntrospection`](crate::TokenIntrospection):
    /// needs the introspection endpoint only.
    pub fn introspection(&self) -> Result<IntrospectionClient> {
        let inner = &*self.inner;
        let client = IntrospectionClient::with_transport(
            self.endpoint(EndpointKind::Introspection)?,
            self.auth_for(EndpointKind::Introspection)?,
            inner.transport.clone(),
        );
        #[cfg(feature = "jwt")]
        let client = client.with_signed(self.signed_introspection());
        Ok(client)
    }

    /// What checks the server's signed introspection responses (RFC 9701), when its issuer and
    /// key set are known.
    #[cfg(feature = "jwt")]
    fn signed_introspection(&self) -> Option<crate::introspection::signed::SignedIntrospection> {
        let issuer = self.inner.server.issuer_identifier()?;
        let jwks = self.jwks().ok()?;
        Some(crate::introspection::signed::SignedIntrospection::new(
            jwks,
            issuer.as_str().to_owned(),
            self.inner.auth.client_id().as_str().to_owned(),
            self.inner.server.introspection_signing_algs.as_deref(),
            self.inner.transport.clock.clone(),
        ))
    }

    /// Token revocation (RFC 7009): needs the revocation endpoint only.
    pub fn revocation(&self) -> Result<RevocationClient> {
        let inner = &*self.inner;
        Ok(RevocationClient::with_transport(
            self.endpoint(EndpointKind::Revocation)?,
            self.auth_for(EndpointKind::Revocation)?,
            inner.transport.clone(),
        ))
    }

    /// The OpenID Connect UserInfo endpoint: needs that endpoint only (and a user's access
    /// token on each call, not the client's authentication). With a DPoP key, tokens are sent
    /// as DPoP tokens, with proofs.
    pub fn userinfo(&self) -> Result<UserInfoClient> {
        let inner = &*self.inner;
        Ok(UserInfoClient::with_transport(
            self.endpoint(EndpointKind::UserInfo)?,
            inner.transport.clone(),
            inner.dpop.clone(),
        ))
    }

    /// The server's key set (`jwks_uri`), kept as [`Jwks`](crate::jwt::Jwks) says: one for
    /// the client, shared by every operation that checks the server's JWTs (ID tokens, JWT
    /// access tokens, signed introspection responses), fetched when first needed. Needs the
    /// server's `jwks_uri` (from discovery, or [`AuthorizationServer::jwks`]).
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    pub fn jwks(&self) -> Result<crate::jwt::Jwks> {
        let inner = &*self.inner;
        if let Some(jwks) = inner.jwks.get() {
            return Ok(jwks.clone());
        }
        let endpoint = self.inner.server.endpoint(EndpointKind::Jwks)?;
        let jwks = crate::jwt::Jwks::with_transport(endpoint, inner.transport.clone(), Default::default());
        Ok(inner.jwks.get_or_init(|| jwks).clone())
    }

    /// Validates JWT access tokens (RFC 9068) issued by this server for `audience` (the
    /// resource server's identifier): what a resource server calls on every request. Needs the
    /// server's issuer identifier and key set (both from discovery, or
    /// [`AuthorizationServer::issuer`] and [`AuthorizationServer::jwks`]).
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    pub fn jwt_access_tokens(&self, audience: impl Into<String>) -> Result<crate::jwt::JwtAccessTokens> {
        let issuer = self.issuer_required("JWT access tokens name their issuer in `iss`")?;
        Ok(crate::jwt::JwtAccessTokens::new(self.jwks()?, &issuer, audience)
            .with_clock(self.inner.transport.clock.clone()))
    }

    /// The server's issuer identifier, which `why` needs.
    #[cfg(feature = "jwt")]
    fn issuer_required(&self, why: &str) -> Result<Issuer, ConfigError> {
        self.inner.server.issuer_identifier().cloned().ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::InvalidIssuer,
                format!("the authorization server's issuer is not known ({why}): discover the server, or set AuthorizationServer::issuer"),
            )
        })
    }

    /// Whether the HTTP client presents a TLS client certificate.
    fn presents_certificate(&self) -> bool {
        self.inner.transport.http.presents_certificate()
    }

    /// The endpoint `kind`: its mutual-TLS alias when the HTTP client presents a certificate and
    /// the server has one (RFC 8705 §5).
    fn endpoint(&self, kind: EndpointKind) -> Result<Endpoint, ConfigError> {
        self.inner.server.endpoint_for(kind, self.presents_certificate())
    }

    /// The client's authentication at `kind` (the token endpoint's rules for the endpoints
    /// that have none of their own): the method picked and checked against what the server's
    /// metadata says the endpoint accepts, the audience of its signed assertions made concrete.
    /// Mutual-TLS authentication needs an HTTP client that presents a certificate.
    fn auth_for(&self, kind: EndpointKind) -> Result<ClientAuth, ConfigError> {
        if self.inner.auth.method().is_mutual_tls() && !self.presents_certificate() {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidSetting,
                format!(
                    "{} authenticates with a TLS client certificate, and the HTTP client presents none (give the adapter's builder a client_certificate)",
                    self.inner.auth.method()
                ),
            ));
        }
        let server = &self.inner.server;
        let token = server.endpoint(EndpointKind::Token).ok();
        let support = match kind {
            EndpointKind::Introspection => &server.introspection_auth,
            EndpointKind::Revocation => &server.revocation_auth,
            _ => &server.token_auth,
        };
        self.inner.auth.for_server(token.as_ref(), server.issuer.as_ref(), support)
    }

    /// The token endpoint with the shared settings, the extra parameters checked against the
    /// ones the operation sets itself (`reserved`); `retries`: whether the retry policy applies.
    fn token_endpoint(&self, reserved: &[&str], retries: bool) -> Result<TokenEndpoint> {
        self.token_endpoint_for(reserved, retries, true)
    }

    /// [`token_endpoint`](Self::token_endpoint), with the client's resource indicators or
    /// without them (`resources`).
    fn token_endpoint_for(&self, reserved: &[&str], retries: bool, resources: bool) -> Result<TokenEndpoint> {
        let inner = &*self.inner;
        let endpoint = self.endpoint(EndpointKind::Token)?;
        check_extra_params(&inner.extra_params, reserved)?;
        let retry = if retries { inner.retry.zip(inner.runtime.clone()) } else { None };
        let resources = inner
            .resources
            .iter()
            .filter(|_| resources)
            .map(|resource| ("resource".to_owned(), resource.clone()));
        Ok(TokenEndpoint {
            endpoint,
            auth: self.auth_for(EndpointKind::Token)?,
            transport: inner.transport.clone(),
            extra_params: inner.extra_params.iter().cloned().chain(resources).collect(),
            retry,
            dpop: inner.dpop.clone(),
        })
    }
}

impl fmt::Debug for OAuth2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Client")
            .field("server", &self.inner.server)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// The settings an [`OAuth2Client`] gives the operations it hands out (which setting reaches
/// which operation: the table in the [guide](crate::guide::client)).
#[must_use]
pub struct OAuth2ClientBuilder {
    server: AuthorizationServer,
    auth: ClientAuth,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
    body_limit: usize,
    extra_params: Vec<(String, String)>,
    resources: Vec<Url>,
    retry: Option<RetryPolicy>,
    runtime: Option<Arc<dyn Runtime>>,
    dpop: Option<DpopKey>,
}

impl OAuth2ClientBuilder {
    /// The clock of token lifetimes and retries. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The largest response body read, in bytes. Default: 1 MiB. Zero is refused by
    /// [`build`](Self::build).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// A parameter sent with every token request, and with the device authorization request
    /// (`audience`, `resource`, ...). A parameter the
    /// client sets itself is refused when the operation is obtained.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// A resource indicator (RFC 8707): the URI of a protected resource the client's tokens are
    /// for, sent as `resource` with every token request (but token exchange's, whose requests
    /// name their own), device authorization request and login link; may be given several
    /// times. It must be absolute without a fragment (checked
    /// by [`build`](Self::build)).
    ///
    /// ```
    /// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
    /// # fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
    /// let server = AuthorizationServer::new().token("https://auth.example.com/token".parse()?);
    /// let client = OAuth2Client::builder(server, ClientAuth::new("svc", "secret"), http)
    ///     .resource("https://orders.example.com/".parse()?)
    ///     .build()?;
    /// # drop(client); Ok(()) }
    /// ```
    pub fn resource(mut self, resource: Url) -> Self {
        self.resources.push(resource);
        self
    }

    /// Sender-constrained tokens (DPoP, RFC 9449): every token request carries a proof of
    /// `key`, so the server binds the tokens it issues to the key (`token_type` `DPoP`); login
    /// links name the key (`dpop_jkt`); servers' nonces are followed (one retry when a server
    /// asks for a new one). Tokens bound to the key are sent only with its proofs.
    ///
    /// ```
    /// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
    /// use oauth2_kit::dpop::DpopKey;
    /// # #[cfg(feature = "signing")]
    /// # fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
    /// let server = AuthorizationServer::new().token("https://auth.example.com/token".parse()?);
    /// let client = OAuth2Client::builder(server, ClientAuth::new("svc", "secret"), http)
    ///     .dpop(DpopKey::generate()?)
    ///     .build()?;
    /// # drop(client); Ok(()) }
    /// ```
    pub fn dpop(mut self, key: DpopKey) -> Self {
        self.dpop = Some(key);
        self
    }

    /// Transient failures of token requests are retried by `policy` (sleeping on the
    /// [`runtime`](Self::runtime), which [`build`](Self::build) then requires).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The async runtime that sleeps between retries and device-flow polls.
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The client: refuses a zero body limit, retries without a runtime, and a resource with a
    /// fragment.
    pub fn build(self) -> Result<OAuth2Client, ConfigError> {
        check_body_limit(self.body_limit)?;
        if self.resources.iter().any(|resource| resource.fragment().is_some()) {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidSetting,
                "a resource indicator may not have a fragment (RFC 8707 §2)",
            ));
        }
        if self.retry.is_some() && self.runtime.is_none() {
            return Err(ConfigError::new(
                ConfigErrorKind::NoRuntime,
                "retries sleep between attempts: give the client a runtime (OAuth2ClientBuilder::runtime)",
            ));
        }
        Ok(OAuth2Client { inner: Arc::new(self.into_inner()) })
    }

    fn into_inner(self) -> Inner {
        Inner {
            server: self.server,
            auth: self.auth,
            transport: Transport { http: self.http, clock: self.clock, body_limit: self.body_limit },
            extra_params: self.extra_params,
            resources: self.resources.iter().map(|resource| resource.as_str().to_owned()).collect(),
            retry: self.retry,
            runtime: self.runtime,
            dpop: self.dpop,
            #[cfg(feature = "jwt")]
            jwks: std::sync::OnceLock::new(),
        }
    }
}

impl fmt::Debug for OAuth2ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2ClientBuilder")
            .field("server", &self.server)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}
