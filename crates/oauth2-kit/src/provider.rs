//! The `AccessTokenProvider` contract: anything that can hand out access tokens.

use async_trait::async_trait;

use crate::dpop::DpopKey;
use crate::error::Result;
use crate::scope::Scope;
use crate::secret::AccessToken;
use crate::token::TokenResponse;

/// Hands out access tokens (sttp-oauth2 users know it by the same name).
///
/// Implemented by grant clients such as [`ClientCredentials`](crate::ClientCredentials), which
/// ask the server every time, and by [`CachingProvider`](crate::cache::CachingProvider), which
/// wraps another provider. Dyn-compatible and `Send + Sync`, so a provider can be shared as an
/// `Arc<dyn AccessTokenProvider>`.
///
/// ```
/// use std::sync::Arc;
/// use oauth2_kit::{AccessTokenProvider, Scope};
///
/// async fn token_for(provider: Arc<dyn AccessTokenProvider>) -> oauth2_kit::Result<()> {
///     let scope: Scope = "read".parse()?; // a `ScopeError` is a configuration error
///     let token = provider.request_token(Some(&scope)).await?;
///     println!("got a {} token", token.token_type());
///     Ok(())
/// }
/// ```
#[async_trait]
pub trait AccessTokenProvider: Send + Sync {
    /// A token for `scope` (or the client's default scope when `None`).
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse>;

    /// A token for `scope` that is at hand without waiting (a cache's usable token), or `None`
    /// when [`request_token`](Self::request_token) must be awaited. Callers on a hot path (the
    /// bearer client) try this first, saving a boxed future per call. Default: `None`.
    fn cached_token(&self, scope: Option<&Scope>) -> Option<TokenResponse> {
        let _ = scope;
        None
    }

    /// Reports that `token`, handed out for `scope`, was rejected (a resource server answered
    /// `401 invalid_token`). A caching provider drops it if it still holds that very token, so
    /// the next call fetches a new one; a report about an older token changes nothing. Returns
    /// whether a token was dropped. Default: nothing to drop, `false`.
    fn invalidate(&self, scope: Option<&Scope>, token: &AccessToken) -> bool {
        let _ = (scope, token);
        false
    }

    /// What identifies this provider's tokens across processes, for a shared (fleet) cache: the
    /// grant, the token endpoint, the client and anything else that changes the token (extra
    /// parameters), one per line. Two providers with the same identity must get
    /// interchangeable tokens for a scope. It is hashed into the store's key, never stored as
    /// is; it must not contain a secret. Default: `None` (the provider cannot say; a shared
    /// store then needs an explicit identity).
    fn cache_identity(&self) -> Option<String> {
        None
    }

    /// The DPoP key this provider's token requests prove possession of, when its tokens are
    /// bound to one ([`OAuth2ClientBuilder::dpop`](crate::OAuth2ClientBuilder::dpop)): a bearer
    /// client over the provider signs its proofs with it. A wrapping provider (a cache) answers
    /// with its delegate's. Default: `None`.
    fn dpop_key(&self) -> Option<DpopKey> {
        None
    }
}

#[async_trait]
impl<T: AccessTokenProvider + ?Sized> AccessTokenProvider for std::sync::Arc<T> {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        (**self).request_token(scope).await
    }

    fn cached_token(&self, scope: Option<&Scope>) -> Option<TokenResponse> {
        (**self).cached_token(scope)
    }

    fn invalidate(&self, scope: Option<&Scope>, token: &AccessToken) -> bool {
        (**self).invalidate(scope, token)
    }

    fn cache_identity(&self) -> Option<String> {
        (**self).cache_identity()
    }

    fn dpop_key(&self) -> Option<DpopKey> {
        (**self).dpop_key()
    }
}
