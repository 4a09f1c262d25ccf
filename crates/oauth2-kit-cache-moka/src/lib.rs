//! # oauth2-kit-cache-moka
//!
//! A caching [`AccessTokenProvider`] whose token index is a bounded [moka] cache: for services
//! that request tokens for many scopes (per tenant, per audience) and want unused ones evicted.
//! Entries leave the index after [`MokaStorage::DEFAULT_TIME_TO_IDLE`] without a read, when
//! they stop being usable, or when the index is full.
//!
//! ```
//! use oauth2_kit::{AccessTokenProvider, ClientCredentials};
//! use oauth2_kit_testkit::{Route, TestServer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = TestServer::start()?;
//! # let token_url = server.token_endpoint();
//! let http = oauth2_kit_reqwest::ReqwestClient::new()?;
//! let client = ClientCredentials::new(token_url, "testkit-client", "testkit-secret", http);
//!
//! let provider = oauth2_kit_cache_moka::caching(client);
//! for tenant in ["a", "b", "a", "b"] {
//!     provider.request_token(Some(&tenant.parse()?)).await?;
//! }
//! assert_eq!(server.requests(Route::Token), 2);
//! # Ok(())
//! # }
//! ```
//!
//! The behaviour is the core's [`CachingProvider`], shared with the tokio and async-std crates;
//! fetches run on tokio ([`TokioRuntime`]) unless the builder is given another runtime. The index
//! is a `moka::sync::Cache` rather than `moka::future::Cache`: its reads complete without an
//! `await`, which keeps them on the cached path without a boxed future, and bounding and idle
//! eviction are the same. A moka read costs more than the lock-free map of the other crates
//! (it records the access for eviction): see `docs/performance.md` for the figures.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use oauth2_kit::cache::{CacheStorage, CachedToken, CachingProvider, CachingProviderBuilder};
use oauth2_kit::{AccessTokenProvider, Scope};
pub use oauth2_kit_cache_tokio::TokioRuntime;

/// The caching provider of this crate (the core's [`CachingProvider`] with a moka index).
pub type CachingAccessTokenProvider = CachingProvider;

/// Caches `delegate`'s tokens in a [`MokaStorage`] with the defaults, fetching on tokio.
pub fn caching(delegate: impl AccessTokenProvider + 'static) -> CachingAccessTokenProvider {
    builder(delegate).build()
}

/// A builder over `delegate` with a default [`MokaStorage`] and the tokio runtime: change the
/// policy, the storage (a [`MokaStorage::new`] with other bounds), the runtime or the clock,
/// then `build()`.
pub fn builder(delegate: impl AccessTokenProvider + 'static) -> CachingProviderBuilder {
    CachingProvider::builder(Arc::new(delegate), Arc::new(TokioRuntime::new()))
        .storage(Arc::new(MokaStorage::default()))
}

/// A bounded token index on `moka::sync::Cache`, keyed by scope: at most `max_scopes` entries,
/// each evicted after `time_to_idle` without a read, or once it is no longer usable.
#[derive(Debug, Clone)]
pub struct MokaStorage {
    cache: Cache<Option<Scope>, CachedToken>,
}

impl MokaStorage {
    /// Default bound on the number of scopes kept.
    pub const DEFAULT_MAX_SCOPES: u64 = 10_000;
    /// Default idle time after which an unread scope is evicted.
    pub const DEFAULT_TIME_TO_IDLE: Duration = Duration::from_secs(3600);

    /// An index of at most `max_scopes` scopes, evicting a scope unread for `time_to_idle`.
    pub fn new(max_scopes: u64, time_to_idle: Duration) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_scopes)
            .time_to_idle(time_to_idle)
            .expire_after(UntilUnusable)
            .build();
        Self { cache }
    }

    /// How many scopes the index holds (after pending evictions run).
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MokaStorage {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_SCOPES, Self::DEFAULT_TIME_TO_IDLE)
    }
}

/// Evicts an entry once its token is no longer usable (housekeeping only: the provider never
/// hands out an unusable token, whatever the index holds).
struct UntilUnusable;

impl moka::Expiry<Option<Scope>, CachedToken> for UntilUnusable {
    fn expire_after_create(
        &self,
        _: &Option<Scope>,
        token: &CachedToken,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(token.times.usable_until.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _: &Option<Scope>,
        token: &CachedToken,
        updated_at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(token.times.usable_until.saturating_duration_since(updated_at))
    }
}

impl CacheStorage for MokaStorage {
    fn get(&self, scope: Option<&Scope>) -> Option<CachedToken> {
        self.cache.get(&scope.cloned())
    }

    fn put(&self, scope: Option<&Scope>, token: CachedToken) {
        self.cache.insert(scope.cloned(), token);
    }

    fn remove(&self, scope: Option<&Scope>, generation: u64) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let result = self.cache.entry(scope.cloned()).and_compute_with(|current| match current {
            Some(entry) if entry.value().generation == generation => Op::Remove,
            _ => Op::Nop,
        });
        matches!(result, CompResult::Removed(_))
    }
}
