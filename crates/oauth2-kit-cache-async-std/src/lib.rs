//! # oauth2-kit-cache-async-std
//!
//! A caching [`AccessTokenProvider`] on async-std (and smol), as sttp-oauth2's
//! `CachingAccessTokenProvider` is for Scala. It wraps any provider, reuses its token while it is fresh,
//! refreshes it in the background before it expires, and makes one token request per expiry
//! however many tasks ask at once.
//!
//! ```
//! use oauth2_kit::{AccessTokenProvider, ClientAuth, OAuth2Client};
//! use oauth2_kit_testkit::{Route, TestServer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # async_std::task::block_on(async {
//! # let server = TestServer::start()?;
//! let http = oauth2_kit_isahc::IsahcClient::new()?; // isahc needs no particular runtime
//! let auth = ClientAuth::new("testkit-client", "testkit-secret");
//! let client = OAuth2Client::new(server.authorization_server(), auth, http).client_credentials()?;
//!
//! let provider = oauth2_kit_cache_async_std::caching(client);
//! for _ in 0..100 {
//!     provider.request_token(None).await?;
//! }
//! assert_eq!(server.requests(Route::Token), 1);
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! **async-std is discontinued upstream** (RUSTSEC-2025-0052), so this crate does not depend
//! on it: it spawns on `async-global-executor` (the global executor async-std itself runs on,
//! which starts on first use and needs no runtime set up) and sleeps with `async-io` timers,
//! the reactor async-std and smol use, both maintained. It works unchanged in an async-std or a
//! smol application (its tests run the provider under `smol::block_on` as well). The behaviour is the
//! core's [`CachingProvider`], shared with the tokio and moka crates.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use oauth2_kit::cache::{
    CachingIntrospection, CachingIntrospectionBuilder, CachingProvider, CachingProviderBuilder,
    CachingTokenExchange, CachingTokenExchangeBuilder, InMemoryStorage,
};
use oauth2_kit::grant::token_exchange::TokenExchange;
use oauth2_kit::runtime::{BoxFuture, Runtime, SpawnError};
use oauth2_kit::{AccessTokenProvider, TokenIntrospection};

/// The caching provider of this crate (the core's [`CachingProvider`] on async-std).
pub type CachingAccessTokenProvider = CachingProvider;

/// Caches `delegate`'s tokens with the default [`CachePolicy`](oauth2_kit::cache::CachePolicy)
/// and storage.
pub fn caching(delegate: impl AccessTokenProvider + 'static) -> CachingAccessTokenProvider {
    builder(delegate).build()
}

/// A builder over `delegate`, set up for async-std: change the policy, the storage or the
/// clock, then `build()`.
pub fn builder(delegate: impl AccessTokenProvider + 'static) -> CachingProviderBuilder {
    CachingProvider::builder(Arc::new(delegate), Arc::new(AsyncStdRuntime))
        .storage(Arc::new(InMemoryStorage::new()))
}

/// Caches the access tokens `exchange` obtains per subject (RFC 8693 token exchange): one
/// exchange per subject however many callers ask together, reused until due for refresh, never
/// handed to another subject; at most
/// [`DEFAULT_MAX_SUBJECTS`](oauth2_kit::cache::DEFAULT_MAX_SUBJECTS) subjects.
pub fn caching_exchange(exchange: TokenExchange) -> CachingTokenExchange {
    exchange_builder(exchange).build()
}

/// A builder of a per-subject cache of exchanged tokens, set up for this runtime: change the
/// policy, the clock or the number of subjects kept, then `build()`.
pub fn exchange_builder(exchange: TokenExchange) -> CachingTokenExchangeBuilder {
    CachingTokenExchange::builder(exchange, Arc::new(AsyncStdRuntime))
}

/// Caches `delegate`'s introspection results (sttp-oauth2's `CachingTokenIntrospection`), with
/// the default [`IntrospectionCachePolicy`](oauth2_kit::cache::IntrospectionCachePolicy):
/// active and inactive results kept until the earlier of `exp` and 60 s, at most 10,000, one
/// request per token however many callers.
pub fn caching_introspection(delegate: impl TokenIntrospection + 'static) -> CachingIntrospection {
    introspection_builder(delegate).build()
}

/// A builder of a caching introspection over `delegate`, set up for this runtime: change the
/// policy, the storage or the clock, then `build()`.
pub fn introspection_builder(delegate: impl TokenIntrospection + 'static) -> CachingIntrospectionBuilder {
    CachingIntrospection::builder(Arc::new(delegate), Arc::new(AsyncStdRuntime))
}

/// The async-std binding of the core's [`Runtime`]: async-std's global executor
/// (`async-global-executor`, used directly) and `async-io` timers. Needs no running runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    fn spawn(&self, task: BoxFuture<()>) -> Result<(), SpawnError> {
        async_global_executor::spawn(task).detach();
        Ok(())
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(async move {
            async_io::Timer::after(duration).await;
        })
    }
}
