//! The client credentials grant (RFC 6749 §4.4).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::grant::token_endpoint::TokenEndpoint;
use crate::provider::AccessTokenProvider;
use crate::scope::Scope;
use crate::secret::ClientId;
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "client_credentials";

/// A confidential client's grant for tokens of its own (client credentials): an
/// [`AccessTokenProvider`], obtained from
/// [`OAuth2Client::client_credentials`](crate::OAuth2Client::client_credentials). Cheap to
/// clone; wrap it in a caching provider to reuse tokens.
///
/// ```no_run
/// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client, Scope};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let server = AuthorizationServer::new()
///     .token("https://auth.example.com/oauth2/token".parse()?)
///     .introspection("https://auth.example.com/oauth2/introspect".parse()?);
/// let client = OAuth2Client::new(server, ClientAuth::new("my-service", "my-secret"), http);
///
/// let token = client.client_credentials()?.request_token(Some(&"read write".parse::<Scope>()?)).await?;
/// let info = client.introspection()?.introspect(token.access_token()).await?;
/// println!("active: {}", info.active);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientCredentials {
    token: Arc<TokenEndpoint>,
}

impl ClientCredentials {
    /// The parameters the grant sets itself: refused as extra parameters.
    pub(crate) const RESERVED_PARAMS: &[&str] =
        &["grant_type", "scope", "client_id", "client_secret", "client_assertion", "client_assertion_type"];

    /// The grant at a token endpoint already set up (shared settings checked).
    pub(crate) fn new(token: TokenEndpoint) -> Self {
        Self { token: Arc::new(token) }
    }

    /// The client identifier.
    pub fn client_id(&self) -> &ClientId {
        self.token.auth.client_id()
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Endpoint {
        &self.token.endpoint
    }

    /// Requests a new access token (RFC 6749 §4.4.2), for `scope` or the client's default scope.
    pub async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        match scope {
            Some(scope) => self.token.request(GRANT_TYPE, &[("scope", scope.as_str())]).await,
            None => self.token.request(GRANT_TYPE, &[]).await,
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials").field("token", &self.token).finish()
    }
}

#[async_trait]
impl AccessTokenProvider for ClientCredentials {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        ClientCredentials::request_token(self, scope).await
    }

    fn cache_identity(&self) -> Option<String> {
        Some(self.token.identity(GRANT_TYPE))
    }
    fn dpop_key(&self) -> Option<crate::dpop::DpopKey> {
        self.token.dpop.clone()
    }
}
