//! The refresh token grant (RFC 6749 §6), shared by every client that gets refresh tokens.

use crate::error::Result;
use crate::grant::token_endpoint::{Replay, TokenEndpoint};
use crate::scope::Scope;
use crate::secret::RefreshToken;
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "refresh_token";

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
