//! The caching state machine, written once for every runtime.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use event_listener::Event;

use crate::cache::jwt::lifetime_from_exp;
use crate::cache::metrics::{CacheMetrics, Metrics, RefreshReason};
use crate::cache::policy::CachePolicy;
use crate::cache::storage::{CacheStorage, CachedToken, InMemoryStorage};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::provider::AccessTokenProvider;
use crate::runtime::Runtime;
use crate::scope::Scope;
use crate::secret::AccessToken;
use crate::token::TokenResponse;

/// An [`AccessTokenProvider`] that caches the tokens of another one: the seed's
/// `CachingAccessTokenProvider`, for any runtime.
///
/// Use it through a runtime crate (`oauth2-kit-cache-tokio`, `oauth2-kit-cache-async-std`,
/// `oauth2-kit-cache-moka`), which supplies the [`Runtime`] and a default [`CacheStorage`].
///
/// For each scope (order and duplicates do not matter; scopes never block each other) a cached
/// token is, by [`CachePolicy`]:
///
/// - **fresh**: returned at once, with no lock and no allocation beyond a reference count;
/// - **stale** (past its refresh point, before its hard margin): returned at once, and exactly
///   one background refresh runs;
/// - **expired or absent**: callers wait for one shared fetch, whose result (token or error) they
///   all get.
///
/// Fetches run as spawned tasks: a caller that drops its future (the one that started the fetch
/// included) neither cancels nor restarts it, and its result is cached for later callers. A
/// failed refresh never replaces a usable token; background retries back off exponentially with
/// jitter and honour `Retry-After`. Once no usable token is left, waiters get the error, which is
/// kept for a while ([`CachePolicy::error_ttl`]) so a herd costs the identity provider one request.
#[derive(Clone)]
pub struct CachingProvider {
    inner: Arc<Inner>,
}

struct Inner {
    delegate: Arc<dyn AccessTokenProvider>,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    storage: Arc<dyn CacheStorage>,
    policy: CachePolicy,
    /// Per-scope fetch state; touched only off the fresh path, never held across an await.
    flights: Mutex<HashMap<Option<Scope>, KeyState>>,
    metrics: Metrics,
    generation: AtomicU64,
    random: AtomicU64,
}

#[derive(Default)]
struct KeyState {
    /// The fetch or refresh running for this scope, if any.
    flight: Option<Arc<Flight>>,
    /// The last error, handed to new callers until the instant given.
    kept_error: Option<(Error, Instant)>,
}

/// One fetch, shared by every caller waiting for it.
struct Flight {
    result: OnceLock<Result<TokenResponse>>,
    done: Event,
}

impl Flight {
    fn new() -> Arc<Self> {
        Arc::new(Self { result: OnceLock::new(), done: Event::new() })
    }

    fn finish(&self, result: Result<TokenResponse>) {
        let _ = self.result.set(result);
        self.done.notify(usize::MAX);
    }

    async fn wait(&self) -> Result<TokenResponse> {
        loop {
            if let Some(result) = self.result.get() {
                return result.clone();
            }
            let listener = self.done.listen();
            if let Some(result) = self.result.get() {
                return result.clone();
            }
            listener.await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a caller found in the cache.
enum Lookup {
    Ready(TokenResponse),
    Wait(Arc<Flight>),
    Failed(Error),
}

impl CachingProvider {
    /// A builder over `delegate`, running its fetches on `runtime`. Runtime crates call this;
    /// applications use theirs.
    pub fn builder(
        delegate: Arc<dyn AccessTokenProvider>,
        runtime: Arc<dyn Runtime>,
    ) -> CachingProviderBuilder {
        CachingProviderBuilder {
            delegate,
            runtime,
            clock: Arc::new(SystemClock),
            storage: None,
            policy: CachePolicy::default(),
        }
    }

    /// A token for `scope`: the cached one while it is usable, else one shared fetch's result.
    pub async fn get(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        if let Some(cached) = inner.storage.get(scope) {
            if now < cached.times.refresh_at {
                inner.metrics.hit();
                return Ok(cached.token);
            }
            if now < cached.times.usable_until {
                inner.metrics.stale_served();
                self.ensure_refresh(scope, RefreshReason::Stale);
                return Ok(cached.token);
            }
        }
        inner.metrics.miss();
        match self.join_or_fetch(scope) {
            Lookup::Ready(token) => Ok(token),
            Lookup::Failed(error) => Err(error),
            Lookup::Wait(flight) => flight.wait().await,
        }
    }

    /// The cached token for `scope` if it is usable now, without waiting or fetching.
    pub fn cached(&self, scope: Option<&Scope>) -> Option<TokenResponse> {
        let cached = self.inner.storage.get(scope)?;
        (self.inner.clock.now() < cached.times.usable_until).then_some(cached.token)
    }

    /// Drops the cached token for `scope` if it is still `token` (compare, then invalidate), so
    /// that a late report about an old token (a 401, say) never drops a newer one. The next call
    /// fetches a new token. Returns whether a token was dropped.
    pub fn invalidate(&self, scope: Option<&Scope>, token: &AccessToken) -> bool {
        let inner = &*self.inner;
        match inner.storage.get(scope) {
            Some(cached) if cached.token.access_token() == token => {
                let removed = inner.storage.remove(scope, cached.generation);
                if removed {
                    tracing::debug!(scope = ?scope.map(Scope::as_str), "cached token invalidated");
                }
                removed
            }
            _ => false,
        }
    }

    /// The provider's counters.
    pub fn metrics(&self) -> CacheMetrics {
        self.inner.metrics.snapshot()
    }

    /// The lifetime model in use.
    pub fn policy(&self) -> &CachePolicy {
        &self.inner.policy
    }

    /// Finds a usable token, a kept error, or the fetch to wait for (starting one if none runs).
    fn join_or_fetch(&self, scope: Option<&Scope>) -> Lookup {
        let inner = &*self.inner;
        let (flight, started) = {
            let mut flights = lock(&inner.flights);
            let now = inner.clock.now();
            // A fetch may have finished since the lock-free look.
            if let Some(cached) = inner.storage.get(scope) {
                if now < cached.times.usable_until {
                    return Lookup::Ready(cached.token);
                }
            }
            let state = flights.entry(scope.cloned()).or_default();
            if let Some(flight) = &state.flight {
                return Lookup::Wait(flight.clone());
            }
            match &state.kept_error {
                Some((error, until)) if now < *until => {
                    inner.metrics.error_served();
                    return Lookup::Failed(error.clone());
                }
                _ => state.kept_error = None,
            }
            let flight = Flight::new();
            state.flight = Some(flight.clone());
            let reason = if inner.storage.get(scope).is_some() {
                RefreshReason::Expired
            } else {
                RefreshReason::Absent
            };
            (flight, reason)
        };
        self.spawn_fetch(scope, flight.clone(), started);
        Lookup::Wait(flight)
    }

    /// Starts a background refresh for a stale token unless one runs already.
    fn ensure_refresh(&self, scope: Option<&Scope>, reason: RefreshReason) {
        let flight = {
            let mut flights = lock(&self.inner.flights);
            let state = flights.entry(scope.cloned()).or_default();
            if state.flight.is_some() {
                return;
            }
            let flight = Flight::new();
            state.flight = Some(flight.clone());
            flight
        };
        self.spawn_fetch(scope, flight, reason);
    }

    fn spawn_fetch(&self, scope: Option<&Scope>, flight: Arc<Flight>, reason: RefreshReason) {
        let task = FetchTask { inner: self.inner.clone(), scope: scope.cloned(), flight, reason };
        let inner = self.inner.clone();
        let scope = scope.cloned();
        if let Err(error) = self.inner.runtime.spawn(Box::pin(task.run())) {
            tracing::warn!(%error, "cannot start a token fetch");
            let error = Error::Config(error.to_string());
            if let Some(flight) = lock(&inner.flights).get_mut(&scope).and_then(|s| s.flight.take()) {
                flight.finish(Err(error));
            }
        }
    }
}

/// One fetch, with its background retries, run as a spawned task.
struct FetchTask {
    inner: Arc<Inner>,
    scope: Option<Scope>,
    flight: Arc<Flight>,
    reason: RefreshReason,
}

impl FetchTask {
    async fn run(self) {
        let inner = &*self.inner;
        let scope = self.scope.as_ref();
        let mut reason = self.reason;
        let mut attempt: u32 = 0;
        loop {
            inner.metrics.refresh(reason);
            tracing::debug!(scope = ?scope.map(Scope::as_str), ?reason, attempt, "requesting a token");
            let result = inner.delegate.request_token(scope).await;
            let now = inner.clock.now();
            let error = match result {
                Ok(token) => {
                    let cached = inner.entry(token.clone());
                    tracing::debug!(
                        scope = ?scope.map(Scope::as_str),
                        lifetime_s = cached.times.expires_at.saturating_duration_since(token.requested_at()).as_secs(),
                        "token cached"
                    );
                    inner.storage.put(scope, cached);
                    self.settle(Ok(token), None);
                    return;
                }
                Err(error) => error,
            };
            inner.metrics.failure();
            let usable_until =
                inner.storage.get(scope).map(|cached| cached.times.usable_until).filter(|until| now < *until);
            let Some(until) = usable_until else {
                // No usable token left: every waiter gets the error, kept for a while.
                let ttl = inner.policy.error_ttl(&error);
                tracing::warn!(scope = ?scope.map(Scope::as_str), %error, keep_s = ttl.as_secs(), "token request failed");
                self.settle(Err(error), Some(now.checked_add(ttl).unwrap_or(now)));
                return;
            };
            // A usable token remains: keep serving it, retry after a backoff (but no later than
            // when it stops being usable).
            let delay = inner.policy.backoff(attempt, inner.random(), error.retry_after());
            let delay = delay.min(until.saturating_duration_since(now));
            tracing::warn!(
                scope = ?scope.map(Scope::as_str),
                %error,
                retry_in_ms = delay.as_millis() as u64,
                "token refresh failed; the cached token is still usable"
            );
            inner.runtime.sleep(delay).await;
            attempt = attempt.saturating_add(1);
            reason = RefreshReason::Retry;
        }
    }

    /// Publishes the result: clears the running flight (and sets or clears the kept error)
    /// before waking the waiters.
    fn settle(&self, result: Result<TokenResponse>, keep_error_until: Option<Instant>) {
        {
            let mut flights = lock(&self.inner.flights);
            let state = flights.entry(self.scope.clone()).or_default();
            state.flight = None;
            state.kept_error = match (&result, keep_error_until) {
                (Err(error), Some(until)) => Some((error.clone(), until)),
                _ => None,
            };
        }
        self.flight.finish(result);
    }
}

impl Inner {
    /// A cache entry for a fresh token: its lifetime from `expires_in`, else the JWT's `exp`,
    /// else the default; its instants from the policy, with a jitter drawn now.
    fn entry(&self, token: TokenResponse) -> CachedToken {
        let lifetime = token
            .expires_in()
            .or_else(|| lifetime_from_exp(token.access_token().expose_secret(), self.clock.system_time()))
            .unwrap_or(self.policy.default_lifetime);
        let times = self.policy.times(token.requested_at(), lifetime, self.random());
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        CachedToken { token, times, generation }
    }

    /// A number in `[0, 1)` for jitter (splitmix64; quality matters little, speed and no
    /// dependency do).
    fn random(&self) -> f64 {
        let mut z = self
            .random
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl fmt::Debug for CachingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProvider")
            .field("runtime", &self.inner.runtime)
            .field("storage", &self.inner.storage)
            .field("policy", &self.inner.policy)
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AccessTokenProvider for CachingProvider {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        self.get(scope).await
    }
}

/// Options of a [`CachingProvider`].
#[must_use]
pub struct CachingProviderBuilder {
    delegate: Arc<dyn AccessTokenProvider>,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    storage: Option<Arc<dyn CacheStorage>>,
    policy: CachePolicy,
}

impl CachingProviderBuilder {
    /// Where tokens are kept. Default: [`InMemoryStorage`] (runtime crates may set another).
    pub fn storage(mut self, storage: Arc<dyn CacheStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// The lifetime model. Default: [`CachePolicy::default`].
    pub fn policy(mut self, policy: CachePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock. Default: [`SystemClock`]. Tests pass a virtual one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The runtime that runs fetches and sleeps between retries.
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = runtime;
        self
    }

    /// Builds the provider. Spawns nothing: constructing it outside a running runtime is fine.
    pub fn build(self) -> CachingProvider {
        let seed =
            self.clock.system_time().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        CachingProvider {
            inner: Arc::new(Inner {
                delegate: self.delegate,
                runtime: self.runtime,
                clock: self.clock,
                storage: self.storage.unwrap_or_else(|| Arc::new(InMemoryStorage::new())),
                policy: self.policy,
                flights: Mutex::new(HashMap::new()),
                metrics: Metrics::default(),
                generation: AtomicU64::new(1),
                random: AtomicU64::new(seed),
            }),
        }
    }
}

impl fmt::Debug for CachingProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProviderBuilder").field("policy", &self.policy).finish_non_exhaustive()
    }
}
