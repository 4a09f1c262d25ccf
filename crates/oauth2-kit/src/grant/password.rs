//! The resource owner password credentials grant (RFC 6749 §4.3), and a provider bound to one
//! user (sttp-oauth2's `PasswordGrantProvider`).
//!
//! OAuth 2.0 Security BCP (RFC 9700 §2.4) says not to use this grant: the client sees the user's
//! password. It remains for first-party clients of servers that offer nothing else.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::client_auth::ClientAuth;
use crate::clock::Clock;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::exchange::{Transport, check_body_limit};
use crate::extra_fields::FromTokenResponse;
use crate::form::check_extra_params;
use crate::grant::token_endpoint::{TokenEndpoint, convert};
use crate::http::HttpClient;
use crate::introspection::TokenTypeHint;
use crate::provider::AccessTokenProvider;
use crate::retry::RetryPolicy;
use crate::runtime::Runtime;
use crate::scope::Scope;
use crate::secret::{Password, RefreshToken};
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "password";

const RESERVED: &[&str] =
    &["grant_type", "username", "password", "scope", "refresh_token", "client_id", "client_secret"];

/// A client of the password grant: trades a user's name and password for tokens.
///
/// The response is the standard one (RFC 6749 §5.1; sttp-oauth2 decoded one vendor's extended
/// response, so standard servers failed); a server's own members are in
/// [`TokenResponse::extra`], or typed with [`request_token_as`](Self::request_token_as).
///
/// ```no_run
/// use oauth2_kit::{ClientAuth, Password};
/// use oauth2_kit::grant::password::PasswordGrant;
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let client = PasswordGrant::new(
///     "https://auth.example.com/token".parse()?,
///     ClientAuth::new("first-party-app", "app-secret"),
///     http,
/// );
/// let token = client.request_token("alice", &Password::new("correct horse"), None).await?;
/// # drop(token);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PasswordGrant {
    token: Arc<TokenEndpoint>,
    revocation_endpoint: Option<Endpoint>,
}

impl PasswordGrant {
    /// A client with the defaults (see [`builder`](Self::builder)).
    pub fn new(token_endpoint: Endpoint, client: ClientAuth, http: impl HttpClient + 'static) -> Self {
        let builder = Self::builder(token_endpoint, client, http);
        Self { token: Arc::new(builder.token), revocation_endpoint: None }
    }

    /// A builder for a client with non-default options.
    pub fn builder(
        token_endpoint: Endpoint,
        client: ClientAuth,
        http: impl HttpClient + 'static,
    ) -> PasswordGrantBuilder {
        PasswordGrantBuilder {
            token: TokenEndpoint {
                endpoint: token_endpoint,
                auth: client,
                transport: Transport::new(Arc::new(http)),
                extra_params: Vec::new(),
                retry: None,
            },
            revocation_endpoint: None,
        }
    }

    /// Requests tokens for `username` with `password` (RFC 6749 §4.3.2), for `scope` or the
    /// client's default.
    pub async fn request_token(
        &self,
        username: &str,
        password: &Password,
        scope: Option<&Scope>,
    ) -> Result<TokenResponse> {
        let mut params = vec![("username", username), ("password", password.expose_secret())];
        if let Some(scope) = scope {
            params.push(("scope", scope.as_str()));
        }
        self.token.request(GRANT_TYPE, &params).await
    }

    /// [`request_token`](Self::request_token), handed back as `T` (for instance
    /// [`WithFields<F>`](crate::WithFields)).
    pub async fn request_token_as<T: FromTokenResponse>(
        &self,
        username: &str,
        password: &Password,
        scope: Option<&Scope>,
    ) -> Result<T> {
        convert(self.request_token(username, password, scope).await?)
    }

    /// A new access token from a refresh token (RFC 6749 §6); the refresh token is kept, or
    /// replaced if the server rotated it.
    pub async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        scope: Option<&Scope>,
    ) -> Result<TokenResponse> {
        self.token.refresh(refresh_token, scope).await
    }

    /// Revokes a refresh token (RFC 7009). An unknown token is success.
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        self.token
            .revoke(
                self.revocation_endpoint.as_ref(),
                token.expose_secret(),
                Some(TokenTypeHint::RefreshToken),
            )
            .await
    }

    /// A provider that requests tokens for this user: an [`AccessTokenProvider`], so it can be
    /// cached and used by a bearer client like any other.
    pub fn provider(&self, username: impl Into<String>, password: Password) -> PasswordProvider {
        PasswordProvider { client: self.clone(), username: username.into(), password }
    }
}

impl fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("token", &self.token)
            .field("revocation_endpoint", &self.revocation_endpoint)
            .finish()
    }
}

/// Options of a [`PasswordGrant`] client.
#[must_use]
pub struct PasswordGrantBuilder {
    token: TokenEndpoint,
    revocation_endpoint: Option<Endpoint>,
}

impl PasswordGrantBuilder {
    /// Retries token requests that fail transiently, as `policy` says, sleeping on `runtime`
    /// (see [`RetryPolicy`]). A refresh is retried only after failures that say the server did
    /// not act on it (a refresh token may be single-use). Default: no retries.
    pub fn retry(mut self, policy: RetryPolicy, runtime: Arc<dyn Runtime>) -> Self {
        self.token.retry = Some((policy, runtime));
        self
    }

    /// The revocation endpoint (RFC 7009). Default: none.
    pub fn revocation_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.revocation_endpoint = Some(endpoint);
        self
    }

    /// An extra form parameter for every token request. Default: none.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.token.extra_params.push((name.into(), value.into()));
        self
    }

    /// The largest response body read, in bytes. Default: 1 MiB.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.token.transport.body_limit = bytes;
        self
    }

    /// The clock that stamps token requests. Default: [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.token.transport.clock = clock;
        self
    }

    /// Checks the options and builds the client.
    pub fn build(self) -> Result<PasswordGrant> {
        check_extra_params(&self.token.extra_params, RESERVED)?;
        check_body_limit(self.token.transport.body_limit)?;
        Ok(PasswordGrant { token: Arc::new(self.token), revocation_endpoint: self.revocation_endpoint })
    }
}

impl fmt::Debug for PasswordGrantBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrantBuilder").field("token", &self.token).finish_non_exhaustive()
    }
}

/// The password grant for one user, as an [`AccessTokenProvider`]: each `request_token` sends
/// the user's name and password. Wrap it in a cache to reuse tokens.
#[derive(Clone)]
pub struct PasswordProvider {
    client: PasswordGrant,
    username: String,
    password: Password,
}

impl fmt::Debug for PasswordProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordProvider")
            .field("client", &self.client)
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

#[async_trait]
impl AccessTokenProvider for PasswordProvider {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        self.client.request_token(&self.username, &self.password, scope).await
    }

    fn cache_identity(&self) -> Option<String> {
        Some(format!("{}username={:?}\n", self.client.token.identity(GRANT_TYPE), self.username))
    }
}
