//! Caching token introspection (sttp-oauth2's `CachingTokenIntrospection`): a resource server
//! that introspects every request's token asks the authorization server once per token and
//! lifetime, not once per request.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::flight::Flight;
use crate::introspection::{IntrospectionResponse, TokenIntrospection};
use crate::runtime::Runtime;
use crate::secret::AccessToken;
use crate::sync::lock;

/// How long introspection results are kept, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntrospectionCachePolicy {
    /// The longest a result is kept: an active result is kept until the earlier of the token's
    /// `exp` and this; an inactive one for this long. It is also how long a revoked token may
    /// still be seen as active. Default: 60 s.
    pub ttl: Duration,
    /// The most results kept; past it the oldest are dropped first. Default: 10,000.
    pub max_entries: usize,
}

impl IntrospectionCachePolicy {
    /// This policy with another [`ttl`](Self::ttl).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// This policy with another [`max_entries`](Self::max_entries).
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }
}

impl Default for IntrospectionCachePolicy {
    fn default() -> Self {
        Self { ttl: Duration::from_secs(60), max_entries: 10_000 }
    }
}

/// A token's cache key: its SHA-256, so that the cache never holds a token. `Debug` shows the
/// first four bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// The key of `token`.
    pub fn of(token: &AccessToken) -> Self {
        Self(Sha256::digest(token.expose_secret().as_bytes()).into())
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, ..] = self.0;
        write!(f, "TokenKey({a:02x}{b:02x}{c:02x}{d:02x}…)")
    }
}

/// Where a [`CachingIntrospection`] keeps results. The default is
/// [`BoundedIntrospectionStorage`]; `oauth2-kit-cache-moka` has one on moka.
pub trait IntrospectionStorage: Send + Sync + fmt::Debug + 'static {
    /// The result kept for `key`, if it is kept until after `now`.
    fn get(&self, key: &TokenKey, now: Instant) -> Option<IntrospectionResponse>;

    /// Keeps `response` for `key` until `until` (replacing what was there), within the bound;
    /// `now` is the cache's clock.
    fn put(&self, key: TokenKey, response: IntrospectionResponse, until: Instant, now: Instant);

    /// How many results are kept (expired ones not yet dropped included).
    fn len(&self) -> usize;

    /// Whether no result is kept.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A bounded map: at most `max_entries` results; when full, expired results go first, then the
/// oldest stored.
#[derive(Debug)]
pub struct BoundedIntrospectionStorage {
    max_entries: usize,
    state: Mutex<Bounded>,
}

#[derive(Debug, Default)]
struct Bounded {
    map: HashMap<TokenKey, Kept>,
    /// Keys in the order stored, with the sequence number of that store (a key stored again
    /// has a newer entry further back; the older one is skipped).
    order: VecDeque<(TokenKey, u64)>,
    next_seq: u64,
}

#[derive(Debug)]
struct Kept {
    response: IntrospectionResponse,
    until: Instant,
    seq: u64,
}

impl BoundedIntrospectionStorage {
    /// A storage of at most `max_entries` results (at least one).
    pub fn new(max_entries: usize) -> Self {
        Self { max_entries: max_entries.max(1), state: Mutex::default() }
    }
}

impl Bounded {
    /// Drops the oldest entry that is still the current one for its key.
    fn evict_oldest(&mut self) {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|kept| kept.seq == seq) {
                self.map.remove(&key);
                return;
            }
        }
    }

    fn drop_expired(&mut self, now: Instant) {
        self.map.retain(|_, kept| kept.until > now);
        let map = &self.map;
        self.order.retain(|(key, seq)| map.get(key).is_some_and(|kept| kept.seq == *seq));
    }
}

impl IntrospectionStorage for BoundedIntrospectionStorage {
    fn get(&self, key: &TokenKey, now: Instant) -> Option<IntrospectionResponse> {
        let state = lock(&self.state);
        state.map.get(key).filter(|kept| kept.until > now).map(|kept| kept.response.clone())
    }

    fn put(&self, key: TokenKey, response: IntrospectionResponse, until: Instant, now: Instant) {
        let mut state = lock(&self.state);
        if !state.map.contains_key(&key) && state.map.len() >= self.max_entries {
            state.drop_expired(now);
            while state.map.len() >= self.max_entries {
                state.evict_oldest();
            }
        }
        let seq = state.next_seq;
        state.next_seq = seq.wrapping_add(1);
        state.map.insert(key, Kept { response, until, seq });
        state.order.push_back((key, seq));
        // Keys stored again leave stale entries in `order`: compact it now and then.
        if state.order.len() > self.max_entries.saturating_mul(2) {
            let map = &state.map;
            let live: VecDeque<_> = state
                .order
                .iter()
                .copied()
                .filter(|(key, seq)| map.get(key).is_some_and(|kept| kept.seq == *seq))
                .collect();
            state.order = live;
        }
    }

    fn len(&self) -> usize {
        lock(&self.state).map.len()
    }
}

/// A [`TokenIntrospection`] that caches another one's results: active and inactive results
/// alike, each until the earlier of the token's `exp` and the policy's
/// [`ttl`](IntrospectionCachePolicy::ttl); errors are not kept. Concurrent calls for one token
/// share one request (run as a task, so a caller dropping its future cancels nothing).
///
/// Build it through a runtime crate (`oauth2_kit_cache_tokio::caching_introspection`, and the
/// async-std and moka equivalents), or [`builder`](Self::builder) with your own
/// [`Runtime`].
#[derive(Clone)]
pub struct CachingIntrospection {
    inner: Arc<Inner>,
}

struct Inner {
    delegate: Arc<dyn TokenIntrospection>,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    storage: Arc<dyn IntrospectionStorage>,
    policy: IntrospectionCachePolicy,
    flights: Mutex<HashMap<TokenKey, Arc<Flight<IntrospectionResponse>>>>,
    hits: AtomicU64,
    requests: AtomicU64,
}

impl CachingIntrospection {
    /// A builder over `delegate`, running its requests on `runtime`.
    pub fn builder(
        delegate: Arc<dyn TokenIntrospection>,
        runtime: Arc<dyn Runtime>,
    ) -> CachingIntrospectionBuilder {
        CachingIntrospectionBuilder {
            delegate,
            runtime,
            clock: Arc::new(SystemClock),
            storage: None,
            policy: IntrospectionCachePolicy::default(),
        }
    }

    /// Introspects `token`: the kept result if there is one, else the delegate's (shared with
    /// every concurrent caller for the same token).
    pub async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse> {
        let inner = &*self.inner;
        let key = TokenKey::of(token);
        if let Some(kept) = inner.storage.get(&key, inner.clock.now()) {
            inner.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(kept);
        }
        let (flight, start) = {
            let mut flights = lock(&inner.flights);
            // A request may have finished since the lock-free look: its task stores the result
            // before it removes its flight (under this lock), so a second look here cannot miss
            // both.
            if let Some(kept) = inner.storage.get(&key, inner.clock.now()) {
                inner.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(kept);
            }
            match flights.get(&key) {
                Some(flight) => (flight.clone(), false),
                None => {
                    let flight = Flight::new();
                    flights.insert(key, flight.clone());
                    (flight, true)
                }
            }
        };
        if start {
            let task = IntrospectTask {
                inner: self.inner.clone(),
                key,
                token: token.clone(),
                flight: flight.clone(),
                started: false,
            };
            if let Err(error) = inner.runtime.spawn(Box::pin(task.run())) {
                // The task was dropped unrun: its guard settled the flight with an error.
                tracing::warn!(%error, "cannot start a token introspection");
            }
        }
        flight.wait().await
    }

    /// How many calls were answered from the cache.
    pub fn hits(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// How many requests went to the delegate.
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// The storage (to read its [`len`](IntrospectionStorage::len), say).
    pub fn storage(&self) -> &Arc<dyn IntrospectionStorage> {
        &self.inner.storage
    }

    /// The policy.
    pub fn policy(&self) -> &IntrospectionCachePolicy {
        &self.inner.policy
    }
}

impl Inner {
    /// Until when `response`, received now, may be kept; `None` if not at all.
    fn keep_until(&self, response: &IntrospectionResponse) -> Option<Instant> {
        let now = self.clock.now();
        let mut keep = self.policy.ttl;
        if response.active {
            if let Some(exp) = response.exp {
                let exp = UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(exp).unwrap_or(0)));
                let left = exp.and_then(|exp| exp.duration_since(self.clock.system_time()).ok());
                keep = keep.min(left.unwrap_or(Duration::ZERO));
            }
        }
        if keep.is_zero() { None } else { now.checked_add(keep) }
    }
}

/// One introspection request, run as a task; settles its flight whatever happens.
struct IntrospectTask {
    inner: Arc<Inner>,
    key: TokenKey,
    token: AccessToken,
    flight: Arc<Flight<IntrospectionResponse>>,
    /// Whether a runtime began running the task.
    started: bool,
}

impl IntrospectTask {
    async fn run(mut self) {
        self.started = true;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let result = self.inner.delegate.introspect(&self.token).await;
        if let Ok(response) = &result {
            if let Some(until) = self.inner.keep_until(response) {
                self.inner.storage.put(self.key, response.clone(), until, self.inner.clock.now());
            }
        }
        self.settle(result);
    }

    fn settle(&self, result: Result<IntrospectionResponse>) {
        lock(&self.inner.flights).remove(&self.key);
        self.flight.finish(result);
    }
}

impl Drop for IntrospectTask {
    /// A task that ends without a result (no runtime ran it, its runtime shut down, or the
    /// delegate panicked) must not leave its flight behind: its waiters get an error and the
    /// next call tries again. As for the caching token provider: a task a runtime began is
    /// `FetchAborted` (panicked, or dropped unfinished), one none began is a `NoRuntime`
    /// configuration error.
    fn drop(&mut self) {
        if self.flight.result.get().is_none() {
            let error = if self.started {
                Error::FetchAborted { panicked: std::thread::panicking() }
            } else {
                Error::from(crate::config_error::ConfigError::new(
                    crate::config_error::ConfigErrorKind::NoRuntime,
                    "the introspection ended without a result: no async runtime ran it to completion",
                ))
            };
            self.settle(Err(error));
        }
    }
}

#[async_trait]
impl TokenIntrospection for CachingIntrospection {
    async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse> {
        CachingIntrospection::introspect(self, token).await
    }
}

impl fmt::Debug for CachingIntrospection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingIntrospection")
            .field("policy", &self.inner.policy)
            .field("storage", &self.inner.storage)
            .field("hits", &self.hits())
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

/// Options of a [`CachingIntrospection`].
#[must_use]
pub struct CachingIntrospectionBuilder {
    delegate: Arc<dyn TokenIntrospection>,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    storage: Option<Arc<dyn IntrospectionStorage>>,
    policy: IntrospectionCachePolicy,
}

impl CachingIntrospectionBuilder {
    /// The policy. Default: [`IntrospectionCachePolicy::default`].
    pub fn policy(mut self, policy: IntrospectionCachePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The storage. Default: a [`BoundedIntrospectionStorage`] of the policy's `max_entries`.
    pub fn storage(mut self, storage: Arc<dyn IntrospectionStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// The clock. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the cache.
    pub fn build(self) -> CachingIntrospection {
        let storage = self
            .storage
            .unwrap_or_else(|| Arc::new(BoundedIntrospectionStorage::new(self.policy.max_entries)));
        CachingIntrospection {
            inner: Arc::new(Inner {
                delegate: self.delegate,
                runtime: self.runtime,
                clock: self.clock,
                storage,
                policy: self.policy,
                flights: Mutex::default(),
                hits: AtomicU64::new(0),
                requests: AtomicU64::new(0),
            }),
        }
    }
}

impl fmt::Debug for CachingIntrospectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingIntrospectionBuilder").field("policy", &self.policy).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(active: bool) -> IntrospectionResponse {
        IntrospectionResponse::from_json(if active { br#"{"active":true}"# } else { br#"{"active":false}"# })
            .unwrap()
    }

    #[test]
    fn the_bound_drops_the_oldest() {
        let storage = BoundedIntrospectionStorage::new(2);
        let now = SystemClock.now();
        let key = |n: &str| TokenKey::of(&AccessToken::new(n));
        let later = |s: u64| now + Duration::from_secs(s);
        storage.put(key("a"), response(true), later(10), now);
        storage.put(key("b"), response(true), later(20), now);
        storage.put(key("c"), response(false), later(30), now);
        assert_eq!(storage.len(), 2);
        assert!(storage.get(&key("a"), now).is_none(), "the oldest went");
        // Stored again, `c` keeps its place: the next eviction takes `b`.
        for _ in 0..10 {
            storage.put(key("c"), response(false), later(30), now);
        }
        storage.put(key("d"), response(true), later(40), now);
        assert!(storage.get(&key("b"), now).is_none());
        assert!(storage.get(&key("c"), now).is_some());
        assert_eq!(storage.len(), 2);
        assert!(storage.get(&key("d"), later(39)).is_some());
        assert!(storage.get(&key("d"), later(40)).is_none(), "kept until, not past");
    }

    #[test]
    fn the_bound_drops_expired_entries_first() {
        let storage = BoundedIntrospectionStorage::new(2);
        let now = SystemClock.now();
        let key = |n: &str| TokenKey::of(&AccessToken::new(n));
        let later = |s: u64| now + Duration::from_secs(s);
        storage.put(key("old-but-long"), response(true), later(50), now);
        storage.put(key("short"), response(true), later(5), now);
        storage.put(key("new"), response(true), later(60), later(10));
        assert!(
            storage.get(&key("old-but-long"), later(10)).is_some(),
            "the expired one went, not the oldest"
        );
        assert!(storage.get(&key("new"), later(10)).is_some());
        assert_eq!(storage.len(), 2);
    }

    #[test]
    fn keys_hide_the_token() {
        let shown = format!("{:?}", TokenKey::of(&AccessToken::new("secret-token")));
        assert!(!shown.contains("secret"), "{shown}");
        assert_ne!(TokenKey::of(&AccessToken::new("a")), TokenKey::of(&AccessToken::new("b")));
    }
}
