//! # oauth2-kit-cache-moka
//!
//! A caching [`AccessTokenProvider`] whose token index is a bounded [moka] cache: for services
//! that request tokens for many scopes (per tenant, per audience) and want unused ones evicted.
//! Entries leave after [`MokaStorage::DEFAULT_TIME_TO_IDLE`] without a refresh, when they stop
//! being usable, or when the index is full.
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
//! let provider = oauth2_kit_cache_moka::caching(client);
//! for tenant in ["a", "b", "a", "b"] {
//!     provider.request_token(Some(&tenant.parse()?)).await?;
//! }
//! assert_eq!(server.requests(Route::Token), 2);
//! # Ok(())
//! # }
//! ```
//!
//! The behaviour is the core's [`CachingProvider`], shared with the tokio and async-std crates.
//! The storages ([`MokaStorage`], [`MokaIntrospectionStorage`]) need no runtime; the one-liners
//! fetch on tokio (feature `tokio`, the default: `TokioRuntime`) or, with
//! `default-features = false, features = ["async-std"]`, on async-std's executor
//! (`AsyncStdRuntime`), unless the builder is given another runtime.
//!
//! **moka is kept off the cached path.** A moka read costs about three times a read of the
//! lock-free map the other crates use (it records the access for its eviction policy; see
//! `docs/performance.md`). So reads are served by that same lock-free map, and moka is the
//! *index*: every stored token is also inserted into a `moka::sync::Cache` bounded in size and
//! idle time, and when moka evicts an entry, the eviction listener drops it from the map.
//! moka sees one read in 64 (per thread), so its least-recently-used order and idle timers
//! follow use at a small fraction of the cost; a scope nobody asks for leaves after the idle time.
//! (`moka::sync` rather than `moka::future`: its operations complete without an `await`.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use oauth2_kit::cache::{
    CacheStorage, CachedToken, CachingProvider, InMemoryStorage, IntrospectionStorage, TokenKey,
};
#[cfg(any(feature = "tokio", feature = "async-std"))]
use oauth2_kit::cache::{
    CachingIntrospection, CachingIntrospectionBuilder, CachingProviderBuilder, CachingTokenExchange,
    CachingTokenExchangeBuilder, IntrospectionCachePolicy,
};
#[cfg(any(feature = "tokio", feature = "async-std"))]
use oauth2_kit::grant::token_exchange::TokenExchange;
#[cfg(any(feature = "tokio", feature = "async-std"))]
use oauth2_kit::{AccessTokenProvider, TokenIntrospection};
use oauth2_kit::{IntrospectionResponse, Scope};
#[cfg(feature = "async-std")]
pub use oauth2_kit_cache_async_std::AsyncStdRuntime;
#[cfg(feature = "tokio")]
pub use oauth2_kit_cache_tokio::TokioRuntime;

/// The runtime the one-liners fetch on: tokio with the `tokio` feature (the default), else
/// async-std's executor (feature `async-std`). The storages need none: give them to a
/// [`CachingProvider::builder`] with any runtime.
#[cfg(any(feature = "tokio", feature = "async-std"))]
fn runtime() -> Arc<dyn oauth2_kit::runtime::Runtime> {
    #[cfg(feature = "tokio")]
    return Arc::new(TokioRuntime::new());
    #[cfg(not(feature = "tokio"))]
    return Arc::new(AsyncStdRuntime);
}

/// The caching provider of this crate (the core's [`CachingProvider`] with a moka index).
pub type CachingAccessTokenProvider = CachingProvider;

/// Caches `delegate`'s tokens in a [`MokaStorage`] with the defaults, fetching on tokio (or
/// async-std, see the features).
#[cfg(any(feature = "tokio", feature = "async-std"))]
pub fn caching(delegate: impl AccessTokenProvider + 'static) -> CachingAccessTokenProvider {
    builder(delegate).build()
}

/// A builder over `delegate` with a default [`MokaStorage`] and the tokio runtime (or
/// async-std's, see the features): change the policy, the storage (a [`MokaStorage::new`] with
/// other bounds), the runtime or the clock, then `build()`.
#[cfg(any(feature = "tokio", feature = "async-std"))]
pub fn builder(delegate: impl AccessTokenProvider + 'static) -> CachingProviderBuilder {
    CachingProvider::builder(Arc::new(delegate), runtime()).storage(Arc::new(MokaStorage::default()))
}

/// Caches the access tokens `exchange` obtains per subject (RFC 8693 token exchange): one
/// exchange per subject however many callers ask together, reused until due for refresh, never
/// handed to another subject; at most
/// [`DEFAULT_MAX_SUBJECTS`](oauth2_kit::cache::DEFAULT_MAX_SUBJECTS) subjects.
#[cfg(any(feature = "tokio", feature = "async-std"))]
pub fn caching_exchange(exchange: TokenExchange) -> CachingTokenExchange {
    exchange_builder(exchange).build()
}

/// A builder of a per-subject cache of exchanged tokens, set up for this runtime: change the
/// policy, the clock or the number of subjects kept, then `build()`.
#[cfg(any(feature = "tokio", feature = "async-std"))]
pub fn exchange_builder(exchange: TokenExchange) -> CachingTokenExchangeBuilder {
    CachingTokenExchange::builder(exchange, runtime())
}

/// Caches `delegate`'s introspection results in a [`MokaIntrospectionStorage`] (at most the
/// default policy's 10,000 results, least recently used evicted first), on tokio (or async-std).
#[cfg(any(feature = "tokio", feature = "async-std"))]
pub fn caching_introspection(delegate: impl TokenIntrospection + 'static) -> CachingIntrospection {
    introspection_builder(delegate, IntrospectionCachePolicy::default()).build()
}

/// A builder of a caching introspection over `delegate` with `policy` and a
/// [`MokaIntrospectionStorage`] bounded by the policy's `max_entries`, on tokio (or async-std).
#[cfg(any(feature = "tokio", feature = "async-std"))]
pub fn introspection_builder(
    delegate: impl TokenIntrospection + 'static,
    policy: IntrospectionCachePolicy,
) -> CachingIntrospectionBuilder {
    CachingIntrospection::builder(Arc::new(delegate), runtime())
        .policy(policy)
        .storage(Arc::new(MokaIntrospectionStorage::new(policy.max_entries as u64)))
}

/// Introspection results in a `moka::sync::Cache`: bounded in number (least recently used
/// evicted first), each dropped when it is no longer to be kept.
#[derive(Debug, Clone)]
pub struct MokaIntrospectionStorage {
    cache: Cache<TokenKey, (IntrospectionResponse, Instant)>,
}

impl MokaIntrospectionStorage {
    /// A storage of at most `max_entries` results.
    pub fn new(max_entries: u64) -> Self {
        let cache = Cache::builder()
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .max_capacity(max_entries)
            .expire_after(KeptUntil)
            .build();
        Self { cache }
    }
}

impl IntrospectionStorage for MokaIntrospectionStorage {
    fn get(&self, key: &TokenKey, now: Instant) -> Option<IntrospectionResponse> {
        // The cache's clock decides, not moka's (they differ in tests in virtual time).
        self.cache.get(key).filter(|(_, until)| *until > now).map(|(response, _)| response)
    }

    fn put(&self, key: TokenKey, response: IntrospectionResponse, until: Instant, _now: Instant) {
        self.cache.insert(key, (response, until));
    }

    fn len(&self) -> usize {
        self.cache.run_pending_tasks();
        usize::try_from(self.cache.entry_count()).unwrap_or(usize::MAX)
    }
}

/// Drops a result at the instant it stops being kept (housekeeping: reads check it too).
struct KeptUntil;

impl moka::Expiry<TokenKey, (IntrospectionResponse, Instant)> for KeptUntil {
    fn expire_after_create(
        &self,
        _: &TokenKey,
        (_, until): &(IntrospectionResponse, Instant),
        created_at: Instant,
    ) -> Option<Duration> {
        Some(until.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _: &TokenKey,
        (_, until): &(IntrospectionResponse, Instant),
        updated_at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(until.saturating_duration_since(updated_at))
    }
}

/// A bounded token storage: reads from a lock-free map, bounds and idle eviction from a
/// `moka::sync::Cache` index (least recently used first): at most `max_scopes` scopes, each
/// evicted after `time_to_idle` without use, or once its token is no longer usable.
#[derive(Debug, Clone)]
pub struct MokaStorage {
    front: InMemoryStorage,
    index: Cache<Option<Scope>, CachedToken>,
}

impl MokaStorage {
    /// Default bound on the number of scopes kept.
    pub const DEFAULT_MAX_SCOPES: u64 = 10_000;
    /// Default idle time after which an unused scope is evicted.
    pub const DEFAULT_TIME_TO_IDLE: Duration = Duration::from_secs(3600);

    /// A storage of at most `max_scopes` scopes, evicting a scope unused for `time_to_idle`.
    pub fn new(max_scopes: u64, time_to_idle: Duration) -> Self {
        let front = InMemoryStorage::new();
        let evict_from = front.clone();
        let index = Cache::builder()
            // LRU, not moka's default TinyLFU: a new scope must always be admitted (its token
            // was just fetched), and recency is what "idle" means here.
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .max_capacity(max_scopes)
            .time_to_idle(time_to_idle)
            .expire_after(UntilUnusable)
            .eviction_listener(move |scope: Arc<Option<Scope>>, token: CachedToken, _cause| {
                // Only that generation: a replaced entry's successor stays.
                evict_from.remove(scope.as_ref().as_ref(), token.generation);
            })
            .build();
        Self { front, index }
    }

    /// How many scopes the index holds (after pending evictions run).
    pub fn len(&self) -> u64 {
        self.index.run_pending_tasks();
        self.index.entry_count()
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

/// One read in this many also touches the moka index, so that its recency and idle timers see
/// a scope's use without a moka read on every call.
const TOUCH_EVERY: u32 = 64;

impl CacheStorage for MokaStorage {
    fn get(&self, scope: Option<&Scope>) -> Option<CachedToken> {
        thread_local! {
            static READS: Cell<u32> = const { Cell::new(0) };
        }
        let touch = READS.with(|reads| {
            let n = reads.get().wrapping_add(1);
            reads.set(n);
            n % TOUCH_EVERY == 0
        });
        if touch {
            drop(self.index.get(&scope.cloned()));
        }
        self.front.get(scope)
    }

    fn put(&self, scope: Option<&Scope>, token: CachedToken) {
        self.front.put(scope, token.clone());
        self.index.insert(scope.cloned(), token);
    }

    fn remove(&self, scope: Option<&Scope>, generation: u64) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let removed = self.front.remove(scope, generation);
        let result = self.index.entry(scope.cloned()).and_compute_with(|current| match current {
            Some(entry) if entry.value().generation == generation => Op::Remove,
            _ => Op::Nop,
        });
        // What callers see is the read map: report its removal (the index follows).
        let _ = matches!(result, CompResult::Removed(_));
        removed
    }
}
