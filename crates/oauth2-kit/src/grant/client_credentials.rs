//! The client credentials grant (RFC 6749 §4.4), with introspection (RFC 7662) and revocation
//! (RFC 7009) for the tokens it gets.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::client_auth::{AuthMethod, ClientAuth};
use crate::clock::{Clock, SystemClock};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::exchange::Transport;
use crate::exchange::check_body_limit;
use crate::form::check_extra_params;
use crate::grant::token_endpoint::TokenEndpoint;
use crate::http::{BodyLimit, HttpClient};
use crate::introspection::{IntrospectionClient, IntrospectionResponse, TokenIntrospection, TokenTypeHint};
use crate::provider::AccessTokenProvider;
use crate::retry::RetryPolicy;
use crate::revocation::RevocationClient;
use crate::runtime::Runtime;
use crate::scope::Scope;
use crate::secret::{AccessToken, ClientId, ClientSecret, RefreshToken};
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "client_credentials";

/// Form parameters the client sets itself; extra parameters may not override them.
const RESERVED_PARAMS: &[&str] = &[
    "grant_type",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "token",
    "token_type_hint",
];

/// A confidential client using the client credentials grant: requests tokens for itself, and
/// introspects and revokes them.
///
/// Cheap to clone (the configuration is shared behind an `Arc`). Implements
/// [`AccessTokenProvider`] and [`TokenIntrospection`], and works over any [`HttpClient`].
///
/// ```no_run
/// use oauth2_kit::{ClientCredentials, Endpoint, Scope};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let token_url: Endpoint = "https://auth.example.com/oauth2/token".parse()?;
/// let client = ClientCredentials::builder(token_url, "my-service", "my-secret", http)
///     .introspection_endpoint("https://auth.example.com/oauth2/introspect".parse()?)
///     .build()?;
///
/// let token = client.request_token(Some(&"read write".parse::<Scope>()?)).await?;
/// let info = client.introspect(token.access_token()).await?;
/// println!("active: {}", info.active);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    token: TokenEndpoint,
    introspection: Option<IntrospectionClient>,
    revocation: Option<RevocationClient>,
}

impl ClientCredentials {
    /// A client with the defaults: `client_secret_basic` authentication, no introspection or
    /// revocation endpoint, a 1 MiB response limit. Use [`builder`](Self::builder) to change
    /// them.
    pub fn new(
        token_endpoint: Endpoint,
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
        http: impl HttpClient + 'static,
    ) -> Self {
        Self { inner: Arc::new(Self::builder(token_endpoint, client_id, client_secret, http).into_inner()) }
    }

    /// A builder for a client with non-default options.
    pub fn builder(
        token_endpoint: Endpoint,
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
        http: impl HttpClient + 'static,
    ) -> ClientCredentialsBuilder {
        Self::builder_with(token_endpoint, ClientAuth::new(client_id, client_secret), Arc::new(http))
    }

    /// A builder for a client authenticating with `auth`.
    pub(crate) fn builder_with(
        token_endpoint: Endpoint,
        auth: ClientAuth,
        http: Arc<dyn HttpClient>,
    ) -> ClientCredentialsBuilder {
        ClientCredentialsBuilder {
            token_endpoint,
            introspection_endpoint: None,
            revocation_endpoint: None,
            auth,
            extra_params: Vec::new(),
            http,
            clock: Arc::new(SystemClock),
            body_limit: BodyLimit::DEFAULT.0,
            retry: None,
        }
    }

    /// The client identifier.
    pub fn client_id(&self) -> &ClientId {
        self.inner.token.auth.client_id()
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Endpoint {
        &self.inner.token.endpoint
    }

    /// Requests a new access token (RFC 6749 §4.4.2), for `scope` or the client's default scope.
    pub async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        match scope {
            Some(scope) => self.inner.token.request(GRANT_TYPE, &[("scope", scope.as_str())]).await,
            None => self.inner.token.request(GRANT_TYPE, &[]).await,
        }
    }

    /// Introspects an access token (RFC 7662 §2.1) with `token_type_hint=access_token`.
    pub async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse> {
        self.introspection()?.introspect(token).await
    }

    /// Introspects a refresh token (RFC 7662 §2.1) with `token_type_hint=refresh_token`.
    pub async fn introspect_refresh_token(&self, token: &RefreshToken) -> Result<IntrospectionResponse> {
        self.introspection()?.introspect_refresh_token(token).await
    }

    /// Introspects any token with the given `token_type_hint`, or none.
    pub async fn introspect_with_hint(
        &self,
        token: &AccessToken,
        hint: Option<TokenTypeHint>,
    ) -> Result<IntrospectionResponse> {
        self.introspection()?.introspect_with_hint(token, hint).await
    }

    /// The introspection client configured with
    /// [`introspection_endpoint`](ClientCredentialsBuilder::introspection_endpoint).
    fn introspection(&self) -> Result<&IntrospectionClient> {
        self.inner.introspection.as_ref().ok_or_else(|| {
            Error::from(crate::config_error::ConfigError::missing(
                crate::config_error::EndpointKind::Introspection,
                "no introspection endpoint configured (ClientCredentialsBuilder::introspection_endpoint)",
            ))
        })
    }

    /// The revocation client configured with
    /// [`revocation_endpoint`](ClientCredentialsBuilder::revocation_endpoint).
    fn revocation(&self) -> Result<&RevocationClient> {
        self.inner.revocation.as_ref().ok_or_else(|| {
            Error::from(crate::config_error::ConfigError::missing(
                crate::config_error::EndpointKind::Revocation,
                "no revocation endpoint configured (ClientCredentialsBuilder::revocation_endpoint)",
            ))
        })
    }

    /// Revokes an access token (RFC 7009 §2.1) with `token_type_hint=access_token`. Revoking a
    /// token the server does not know is success, as the RFC says.
    pub async fn revoke(&self, token: &AccessToken) -> Result<()> {
        self.revocation()?.revoke(token).await
    }

    /// Revokes a refresh token (RFC 7009 §2.1) with `token_type_hint=refresh_token`.
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        self.revocation()?.revoke_refresh_token(token).await
    }

    /// Revokes any token with the given `token_type_hint`, or none.
    pub async fn revoke_with_hint(&self, token: &AccessToken, hint: Option<TokenTypeHint>) -> Result<()> {
        self.revocation()?.revoke_with_hint(token, hint).await
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("ClientCredentials")
            .field("token", &inner.token)
            .field("introspection", &inner.introspection)
            .field("revocation", &inner.revocation)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AccessTokenProvider for ClientCredentials {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        ClientCredentials::request_token(self, scope).await
    }

    fn cache_identity(&self) -> Option<String> {
        Some(self.inner.token.identity(GRANT_TYPE))
    }
}

#[async_trait]
impl TokenIntrospection for ClientCredentials {
    async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse> {
        ClientCredentials::introspect(self, token).await
    }
}

/// Options of a [`ClientCredentials`] client. Every option has a default; see each method.
#[must_use]
pub struct ClientCredentialsBuilder {
    token_endpoint: Endpoint,
    introspection_endpoint: Option<Endpoint>,
    revocation_endpoint: Option<Endpoint>,
    auth: ClientAuth,
    extra_params: Vec<(String, String)>,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
    body_limit: usize,
    retry: Option<(RetryPolicy, Arc<dyn Runtime>)>,
}

impl ClientCredentialsBuilder {
    /// Retries token requests that fail transiently (connection failures, timeouts, `5xx`,
    /// `429` honouring `Retry-After`; never an OAuth 2.0 error response), as `policy` says,
    /// sleeping on `runtime` (`oauth2_kit_cache_tokio::TokioRuntime`, the async-std one, ...).
    /// Default: no retries (a caching provider retries in the background on its own).
    /// Introspection and revocation are not retried.
    pub fn retry(mut self, policy: RetryPolicy, runtime: Arc<dyn Runtime>) -> Self {
        self.retry = Some((policy, runtime));
        self
    }

    /// How the client authenticates. Default: [`AuthMethod::ClientSecretBasic`].
    pub fn auth_method(mut self, method: AuthMethod) -> Self {
        self.auth = self.auth.with_method(method);
        self
    }

    /// The introspection endpoint (RFC 7662). Default: none; `introspect` then fails with
    /// [`Error::Config`].
    pub fn introspection_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.introspection_endpoint = Some(endpoint);
        self
    }

    /// The revocation endpoint (RFC 7009). Default: none; `revoke` then fails with
    /// [`Error::Config`].
    pub fn revocation_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.revocation_endpoint = Some(endpoint);
        self
    }

    /// An extra form parameter for every token request (`audience`, `resource`, ...). Default:
    /// none. Parameters the client sets itself (`grant_type`, `scope`, `client_id`,
    /// `client_secret`, ...) are refused by [`build`](Self::build).
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// The largest response body read, in bytes. Default: 1 MiB.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The clock that stamps token requests. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the options and builds the client.
    pub fn build(self) -> Result<ClientCredentials> {
        check_extra_params(&self.extra_params, RESERVED_PARAMS)?;
        check_body_limit(self.body_limit)?;
        Ok(ClientCredentials { inner: Arc::new(self.into_inner()) })
    }

    fn into_inner(self) -> Inner {
        let transport = Transport { http: self.http, clock: self.clock, body_limit: self.body_limit };
        let introspection = self
            .introspection_endpoint
            .map(|e| IntrospectionClient::with_transport(e, self.auth.clone(), transport.clone()));
        let revocation = self
            .revocation_endpoint
            .map(|e| RevocationClient::with_transport(e, self.auth.clone(), transport.clone()));
        Inner {
            token: TokenEndpoint {
                endpoint: self.token_endpoint,
                auth: self.auth,
                transport,
                extra_params: self.extra_params,
                retry: self.retry,
            },
            introspection,
            revocation,
        }
    }
}

impl fmt::Debug for ClientCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsBuilder")
            .field("token_endpoint", &self.token_endpoint)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}
