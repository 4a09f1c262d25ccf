//! The resource owner password credentials grant (RFC 6749 §4.3), and a provider bound to one
//! user (sttp-oauth2's `PasswordGrantProvider`).
//!
//! OAuth 2.0 Security BCP (RFC 9700 §2.4) says not to use this grant: the client sees the user's
//! password. It remains for first-party clients of servers that offer nothing else.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::extra_fields::FromTokenResponse;
use crate::grant::token_endpoint::{TokenEndpoint, convert};
use crate::provider::AccessTokenProvider;
use crate::scope::Scope;
use crate::secret::Password;
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "password";

/// A client of the password grant: trades a user's name and password for tokens. Obtained
/// from [`OAuth2Client::password`](crate::OAuth2Client::password); cheap to clone.
///
/// The response is the standard one (RFC 6749 §5.1); a server's own members are in
/// [`TokenResponse::extra`], or typed with [`request_token_as`](Self::request_token_as).
/// Refresh the tokens with [`OAuth2Client::refresh`](crate::OAuth2Client::refresh).
///
/// ```no_run
/// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client, Password};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let server = AuthorizationServer::new().token("https://auth.example.com/token".parse()?);
/// let client = OAuth2Client::new(server, ClientAuth::new("first-party-app", "app-secret"), http);
/// let token = client.password()?.request_token("alice", &Password::new("correct horse"), None).await?;
/// # drop(token);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PasswordGrant {
    token: Arc<TokenEndpoint>,
}

impl PasswordGrant {
    /// The parameters the grant sets itself: refused as extra parameters.
    pub(crate) const RESERVED_PARAMS: &[&str] = &[
        "grant_type",
        "username",
        "password",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
    ];

    /// The grant at a token endpoint already set up (shared settings checked).
    pub(crate) fn new(token: TokenEndpoint) -> Self {
        Self { token: Arc::new(token) }
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

    /// A provider that requests tokens for this user: an [`AccessTokenProvider`], so it can be
    /// cached and used by a bearer client like any other.
    pub fn provider(&self, username: impl Into<String>, password: Password) -> PasswordProvider {
        PasswordProvider { client: self.clone(), username: username.into(), password }
    }
}

impl fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrant").field("token", &self.token).finish()
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
    fn dpop_key(&self) -> Option<crate::dpop::DpopKey> {
        self.client.token.dpop.clone()
    }
}
