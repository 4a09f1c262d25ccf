//! The refresh token grant (RFC 6749 §6), shared by every client that gets refresh tokens.

use std::fmt;
use std::sync::Arc;

use crate::client_auth::ClientAuth;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::exchange::Transport;
use crate::grant::token_endpoint::{Replay, TokenEndpoint};
use crate::http::HttpClient;
use crate::scope::Scope;
use crate::secret::RefreshToken;
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "refresh_token";

/// The parameters a refresh sets itself: refused as extra parameters.
pub(crate) const RESERVED_PARAMS: &[&str] = &[
    "grant_type",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// Trades refresh tokens for new access tokens (RFC 6749 §6) at a token endpoint,
/// authenticated as a client: for tokens from any grant that hands out refresh tokens
/// (authorization code, password, device flow), kept by an application between runs.
///
/// The response carries the refresh token to use next time: the new one when the server
/// rotated it, else the one just used. A refresh is never sent twice for one call when the
/// server may have acted on the first (a rotated token would be spent). Cloning is cheap.
///
/// ```no_run
/// use oauth2_kit::{ClientAuth, RefreshClient, RefreshToken};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static, saved: RefreshToken) -> Result<(), Box<dyn std::error::Error>> {
/// let refresh = RefreshClient::new(
///     "https://auth.example.com/oauth2/token".parse()?,
///     ClientAuth::public("my-cli"),
///     http,
/// );
/// let token = refresh.refresh(&saved, None).await?;
/// let keep_for_next_time = token.refresh_token();
/// # drop(keep_for_next_time); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RefreshClient {
    token: Arc<TokenEndpoint>,
}

impl RefreshClient {
    /// Refreshes at `token_endpoint`, authenticated with `auth`, over `http` (the system clock,
    /// a 1 MiB limit on the answer, no retries).
    pub fn new(token_endpoint: Endpoint, auth: ClientAuth, http: impl HttpClient + 'static) -> Self {
        Self {
            token: Arc::new(TokenEndpoint {
                endpoint: token_endpoint,
                auth,
                transport: Transport::new(Arc::new(http)),
                extra_params: Vec::new(),
                retry: None,
                dpop: None,
            }),
        }
    }

    /// A client over a token endpoint already set up (shared settings).
    pub(crate) fn with_token_endpoint(token: TokenEndpoint) -> Self {
        Self { token: Arc::new(token) }
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Endpoint {
        &self.token.endpoint
    }

    /// A new access token for `refresh_token`, for the scope first granted or, with `scope`, a
    /// narrower one.
    pub async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        scope: Option<&Scope>,
    ) -> Result<TokenResponse> {
        self.token.refresh(refresh_token, scope).await
    }
}

impl fmt::Debug for RefreshClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshClient").field("token", &self.token).finish()
    }
}

impl TokenEndpoint {
    /// Trades `refresh_token` for a new access token, for the scope first granted or, with
    /// `scope`, a narrower one (parameter `scope`, RFC 6749 §6; sttp-oauth2 sent `scopes`, which
    /// servers ignore).
    ///
    /// The response carries the refresh token to use next time: the new one when the server
    /// rotated it, else the one just used (a server that does not rotate sends none).
    pub(crate) async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        scope: Option<&Scope>,
    ) -> Result<TokenResponse> {
        let mut params = vec![("refresh_token", refresh_token.expose_secret())];
        if let Some(scope) = scope {
            params.push(("scope", scope.as_str()));
        }
        // Not replayed after a failure the server may have acted on: with rotation, the first
        // copy would have spent the token and the second would fail (or, on a server that
        // detects reuse, revoke the whole grant).
        let token = self.request_retrying(GRANT_TYPE, &params, Replay::UnprocessedOnly).await?;
        Ok(keep_refresh_token(token, refresh_token))
    }
}

/// The response, with `used` as its refresh token if the server sent none.
pub(crate) fn keep_refresh_token(token: TokenResponse, used: &RefreshToken) -> TokenResponse {
    if token.refresh_token().is_some() { token } else { token.with_refresh_token(Some(used.clone())) }
}
