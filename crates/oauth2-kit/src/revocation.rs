//! Token revocation (RFC 7009): telling the server a token is no longer needed.

use std::fmt;
use std::sync::Arc;

use crate::client_auth::ClientAuth;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::exchange::{Operation, TokenFormEndpoint, Transport};
use crate::http::HttpClient;
use crate::secret::{AccessToken, RefreshToken};
use crate::token_type::TokenTypeHint;

/// Revokes tokens at an authorization server's revocation endpoint (RFC 7009), authenticated
/// as a client. Needs nothing but that endpoint: no token endpoint, no grant.
///
/// Revoking a token the server does not know (expired, revoked already, never issued) is a
/// success, as the RFC says; so is a `200` with an empty or non-JSON body. Cloning is cheap.
///
/// ```no_run
/// use oauth2_kit::{ClientAuth, RevocationClient};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static, token: oauth2_kit::RefreshToken) -> Result<(), Box<dyn std::error::Error>> {
/// let revocation = RevocationClient::new(
///     "https://auth.example.com/oauth2/revoke".parse()?,
///     ClientAuth::new("my-app", "my-secret"),
///     http,
/// );
/// revocation.revoke_refresh_token(&token).await?; // the user logged out
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RevocationClient {
    inner: Arc<TokenFormEndpoint>,
}

impl RevocationClient {
    /// Revokes at `endpoint`, authenticated with `auth`, over `http` (the system clock, a 1 MiB
    /// limit on the answer).
    pub fn new(endpoint: Endpoint, auth: ClientAuth, http: impl HttpClient + 'static) -> Self {
        Self::with_transport(endpoint, auth, Transport::new(Arc::new(http)))
    }

    /// A client over a transport already set up (the grant clients' settings).
    pub(crate) fn with_transport(endpoint: Endpoint, auth: ClientAuth, transport: Transport) -> Self {
        Self { inner: Arc::new(TokenFormEndpoint { endpoint, auth, transport }) }
    }

    /// The revocation endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Revokes an access token, with `token_type_hint=access_token`.
    pub async fn revoke(&self, token: &AccessToken) -> Result<()> {
        self.revoke_secret(token.expose_secret(), Some(&TokenTypeHint::AccessToken)).await
    }

    /// Revokes a refresh token, with `token_type_hint=refresh_token` (servers then revoke the
    /// access tokens of the same grant too, RFC 7009 §2.1).
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        self.revoke_secret(token.expose_secret(), Some(&TokenTypeHint::RefreshToken)).await
    }

    /// Revokes a token with the given `token_type_hint`, or none.
    pub async fn revoke_with_hint(&self, token: &AccessToken, hint: Option<TokenTypeHint>) -> Result<()> {
        self.revoke_secret(token.expose_secret(), hint.as_ref()).await
    }

    pub(crate) async fn revoke_secret(&self, token: &str, hint: Option<&TokenTypeHint>) -> Result<()> {
        self.inner.post_token(Operation::Revocation, token, hint).await?.success()
    }
}

impl fmt::Debug for RevocationClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RevocationClient").field(&self.inner).finish()
    }
}
