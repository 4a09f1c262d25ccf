//! # oauth2-kit-cache-tokio
//!
//! A caching [`AccessTokenProvider`] on tokio, as sttp-oauth2's `CachingAccessTokenProvider` is
//! for Scala. It wraps
//! any provider (a [`ClientCredentials`](oauth2_kit::ClientCredentials) grant, say), reuses
//! its token while it is fresh, refreshes it in the background before it expires, and makes one
//! token request per expiry however many tasks ask at once.
//!
//! ```
//! use oauth2_kit::{AccessTokenProvider, ClientAuth, OAuth2Client};
//! use oauth2_kit_testkit::{Route, TestServer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = TestServer::start()?;
//! let http = oauth2_kit_reqwest::ReqwestClient::new()?;
//! let auth = ClientAuth::new("testkit-client", "testkit-secret");
//! let client = OAuth2Client::new(server.authorization_server(), auth, http).client_credentials()?;
//!
//! let provider = oauth2_kit_cache_tokio::caching(client);
//! for _ in 0..100 {
//!     provider.request_token(None).await?;
//! }
//! assert_eq!(server.requests(Route::Token), 1);
//! # Ok(())
//! # }
//! ```
//!
//! The behaviour (lifetime model, single flight, cancellation safety, backoff, error keeping,
//! invalidation, counters) is the core's [`CachingProvider`], shared with the async-std and moka
//! crates; this crate supplies the tokio [`Runtime`] binding and the default storage
//! ([`InMemoryStorage`], lock-free reads). Building a provider outside a tokio runtime is fine;
//! fetches are spawned on the runtime current at the call (or the one captured when the
//! provider was built).

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
use tokio::runtime::Handle;

/// The caching provider of this crate (the core's [`CachingProvider`] on tokio).
pub type CachingAccessTokenProvider = CachingProvider;

/// Caches `delegate`'s tokens with the default [`CachePolicy`](oauth2_kit::cache::CachePolicy)
/// and storage.
pub fn caching(delegate: impl AccessTokenProvider + 'static) -> CachingAccessTokenProvider {
    builder(delegate).build()
}

/// A builder over `delegate`, set up for tokio: change the policy, the storage or the clock,
/// then `build()`.
pub fn builder(delegate: impl AccessTokenProvider + 'static) -> CachingProviderBuilder {
    CachingProvider::builder(Arc::new(delegate), Arc::new(TokioRuntime::new()))
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
    CachingTokenExchange::builder(exchange, Arc::new(TokioRuntime::new()))
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
    CachingIntrospection::builder(Arc::new(delegate), Arc::new(TokioRuntime::new()))
}

/// The tokio binding of the core's [`Runtime`]: `tokio::spawn` and `tokio::time::sleep`.
#[derive(Debug, Clone, Default)]
pub struct TokioRuntime {
    handle: Option<Handle>,
}

impl TokioRuntime {
    /// Spawns on the runtime current at each spawn, else on the one current now (if any).
    /// Never panics, inside a runtime or not.
    pub fn new() -> Self {
        Self { handle: Handle::try_current().ok() }
    }

    /// Spawns on the runtime current at each spawn, else on `handle`.
    pub fn with_handle(handle: Handle) -> Self {
        Self { handle: Some(handle) }
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, task: BoxFuture<()>) -> Result<(), SpawnError> {
        let handle = match Handle::try_current() {
            Ok(current) => current,
            Err(_) => self.handle.clone().ok_or_else(|| {
                SpawnError("no tokio runtime is running (build the provider inside one, or use TokioRuntime::with_handle)".into())
            })?,
        };
        drop(handle.spawn(task));
        Ok(())
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        // Only ever polled inside a spawned task, so a runtime is present.
        Box::pin(tokio::time::sleep(duration))
    }
}
