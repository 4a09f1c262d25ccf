//! The caching state machine, written once for every runtime.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use event_listener::Event;

use crate::cache::jwt::lifetime_from_exp;
use crate::cache::metrics::{CacheMetrics, Metrics, RefreshReason};
use crate::cache::policy::CachePolicy;
use crate::cache::shared::{
    Lease, Shared, SharedKey, SharedOptions, SharedToken, SharedTokenStore, operation_bound,
};
use crate::cache::storage::{CacheStorage, CachedToken, InMemoryStorage};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::http::{TransportError, TransportErrorKind};
use crate::provider::AccessTokenProvider;
use crate::random::JitterSource;
use crate::runtime::Runtime;
use crate::scope::Scope;
use crate::secret::AccessToken;
use crate::sync::lock;
use crate::token::TokenResponse;

/// An [`AccessTokenProvider`] that caches the tokens of another one, for any runtime (what
/// sttp-oauth2's `CachingAccessTokenProvider` does for Scala).
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
    /// Wakes refreshers sleeping between retries (after an invalidation).
    retry_now: Event,
    /// The fleet's shared store, if any.
    shared: Option<Shared>,
    /// Per scope, the last token reported rejected (with a shared store): never taken back
    /// from the store.
    rejected: Mutex<HashMap<Option<Scope>, AccessToken>>,
    random: JitterSource,
}

#[derive(Default)]
struct KeyState {
    /// The fetch or refresh running for this scope, if any.
    flight: Option<Arc<Flight>>,
    /// The last error, handed to new callers until the instant given.
    kept_error: Option<(Error, Instant)>,
}

/// One token fetch, shared by every caller waiting for it.
type Flight = crate::flight::Flight<TokenResponse>;

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
            shared: None,
        }
    }

    /// Whether `other` is this very provider (a clone of it).
    pub(crate) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A token for `scope`: the cached one while it is usable, else one shared fetch's result.
    ///
    /// The returned future does nothing until polled; a cached read completes on its first poll.
    #[inline]
    pub fn get<'a>(&'a self, scope: Option<&'a Scope>) -> Get<'a> {
        Get { provider: self, scope, waiting: None }
    }

    /// The cached path alone: a usable cached token for `scope` (starting the background
    /// refresh if it is stale), or `None` without waiting when there is none. No lock, no
    /// allocation beyond a reference count. [`get`](Self::get) is this, then a shared fetch.
    #[inline]
    pub fn try_get(&self, scope: Option<&Scope>) -> Option<TokenResponse> {
        let inner = &*self.inner;
        let cached = inner.storage.get(scope)?;
        // Coarse clocks: a tick (milliseconds) of error against margins of seconds, and a
        // quarter of the cost of two precise reads.
        let (now, wall) = inner.clock.now_coarse();
        if !wall_usable(&cached, wall) {
            return None;
        }
        if now < cached.times.refresh_at {
            inner.metrics.hit();
            return Some(cached.token);
        }
        if now < cached.times.usable_until {
            inner.metrics.stale_served();
            self.ensure_refresh(scope, cached.generation);
            return Some(cached.token);
        }
        None
    }

    /// No usable token: a kept error, or the shared fetch's result.
    async fn miss(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        self.inner.metrics.miss();
        match self.join_or_fetch(scope) {
            Lookup::Ready(token) => Ok(token),
            Lookup::Failed(error) => Err(error),
            Lookup::Wait(flight) => flight.wait().await,
        }
    }

    /// The cached token for `scope` if it is usable now, without waiting or fetching.
    pub fn cached(&self, scope: Option<&Scope>) -> Option<TokenResponse> {
        let cached = self.inner.storage.get(scope)?;
        (self.inner.clock.now() < cached.times.usable_until && self.inner.wall_usable(&cached))
            .then_some(cached.token)
    }

    /// Drops the cached token for `scope` if it is still `token` (compare, then invalidate), so
    /// that a late report about an old token (a 401, say) never drops a newer one. The next call
    /// fetches a new token. Returns whether a token was dropped.
    pub fn invalidate(&self, scope: Option<&Scope>, token: &AccessToken) -> bool {
        let inner = &*self.inner;
        match inner.storage.get(scope) {
            Some(cached) if cached.token.access_token() == token => {
                let removed = inner.storage.remove(scope, cached.generation);
                if removed && inner.shared.is_some() {
                    // The fleet's store may still hold it: the next fetch must not take it back.
                    lock(&inner.rejected).insert(scope.cloned(), token.clone());
                }
                if removed {
                    tracing::debug!(scope = ?scope.map(Scope::as_str), "cached token invalidated");
                    // A refresher sleeping between retries must not make callers wait out its
                    // backoff now that no usable token is left: wake it to try at once.
                    inner.retry_now.notify(usize::MAX);
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

    /// Whether tokens are shared through a fleet store.
    pub fn is_shared(&self) -> bool {
        self.inner.shared.is_some()
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
                if now < cached.times.usable_until && inner.wall_usable(&cached) {
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

    /// Starts a background refresh of the stale token `generation` unless one runs already, or
    /// the token was replaced meanwhile (a refresh that finished between the caller's look and
    /// this lock must not be followed by a second one).
    fn ensure_refresh(&self, scope: Option<&Scope>, generation: u64) {
        let inner = &*self.inner;
        let flight = {
            let mut flights = lock(&inner.flights);
            let still_stale = inner.storage.get(scope).is_some_and(|cached| cached.generation == generation);
            if !still_stale {
                return;
            }
            let state = flights.entry(scope.cloned()).or_default();
            if state.flight.is_some() {
                return;
            }
            let flight = Flight::new();
            state.flight = Some(flight.clone());
            flight
        };
        self.spawn_fetch(scope, flight, RefreshReason::Stale);
    }

    fn spawn_fetch(&self, scope: Option<&Scope>, flight: Arc<Flight>, reason: RefreshReason) {
        let task =
            FetchTask { inner: self.inner.clone(), scope: scope.cloned(), flight, reason, started: false };
        if let Err(error) = self.inner.runtime.spawn(Box::pin(task.run())) {
            // The task was dropped unrun: its guard has settled the flight with an error.
            tracing::warn!(%error, "cannot start a token fetch");
        }
    }
}

/// The future of [`CachingProvider::get`]: a few words, so that a cached read costs next to
/// nothing; the waiting half, when there is one, is boxed.
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a> {
    provider: &'a CachingProvider,
    scope: Option<&'a Scope>,
    waiting: Option<Pin<Box<dyn Future<Output = Result<TokenResponse>> + Send + 'a>>>,
}

impl Future for Get<'_> {
    type Output = Result<TokenResponse>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(waiting) = &mut this.waiting {
            return waiting.as_mut().poll(cx);
        }
        match this.provider.try_get(this.scope) {
            Some(token) => Poll::Ready(Ok(token)),
            None => this.start_waiting(cx),
        }
    }
}

impl Get<'_> {
    /// The slow path, out of line so that the cached path stays small.
    #[cold]
    #[inline(never)]
    fn start_waiting(&mut self, cx: &mut Context<'_>) -> Poll<Result<TokenResponse>> {
        let waiting = self.waiting.insert(Box::pin(self.provider.miss(self.scope)));
        waiting.as_mut().poll(cx)
    }
}

impl fmt::Debug for Get<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("scope", &self.scope).field("waiting", &self.waiting.is_some()).finish()
    }
}

/// One fetch, with its background retries, run as a spawned task.
struct FetchTask {
    inner: Arc<Inner>,
    scope: Option<Scope>,
    flight: Arc<Flight>,
    reason: RefreshReason,
    /// Whether a runtime has started running the task (a task dropped before is one no runtime
    /// took: a configuration error, not a failed fetch).
    started: bool,
}

impl FetchTask {
    async fn run(mut self) {
        self.started = true;
        let inner = &*self.inner;
        let scope = self.scope.as_ref();
        let mut reason = self.reason;
        let mut attempt: u32 = 0;
        loop {
            inner.metrics.refresh(reason);
            tracing::debug!(scope = ?scope.map(Scope::as_str), ?reason, attempt, "requesting a token");
            let result = inner.fetch(scope, reason).await;
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
                    if inner.shared.is_some() {
                        lock(&inner.rejected).remove(&self.scope);
                    }
                    self.settle(Ok(token), None);
                    return;
                }
                Err(error) => error,
            };
            inner.metrics.failure();
            let usable_until = inner
                .storage
                .get(scope)
                .filter(|cached| inner.wall_usable(cached))
                .map(|cached| cached.times.usable_until)
                .filter(|until| now < *until);
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
            // Sleep, unless an invalidation leaves callers without a usable token meanwhile.
            let woken = inner.retry_now.listen();
            let _ = first_of(inner.runtime.sleep(delay), woken).await;
            attempt = attempt.saturating_add(1);
            reason = RefreshReason::Retry;
        }
    }

    /// Publishes the result: clears this task's flight (and sets or clears the kept error)
    /// before waking the waiters. A scope with nothing left to remember leaves the map.
    fn settle(&self, result: Result<TokenResponse>, keep_error_until: Option<Instant>) {
        {
            let mut flights = lock(&self.inner.flights);
            if let Some(state) = flights.get_mut(&self.scope) {
                if state.flight.as_ref().is_some_and(|f| Arc::ptr_eq(f, &self.flight)) {
                    state.flight = None;
                    state.kept_error = match (&result, keep_error_until) {
                        (Err(error), Some(until)) => Some((error.clone(), until)),
                        _ => None,
                    };
                }
                if state.flight.is_none() && state.kept_error.is_none() {
                    flights.remove(&self.scope);
                }
            }
        }
        self.flight.finish(result);
    }
}

impl Drop for FetchTask {
    /// A task that ends without a result (its runtime shut down, the delegate panicked, the
    /// spawn failed) must not leave its flight behind: waiters would wait forever and the scope
    /// would never be fetched again. Settle it with an error (kept briefly, as any error).
    fn drop(&mut self) {
        if self.flight.result.get().is_none() {
            let error = if self.started {
                // Dropped while unwinding: the delegate (or the fetch around it) panicked; else
                // the runtime dropped the task unfinished (it shut down).
                Error::FetchAborted { panicked: std::thread::panicking() }
            } else {
                Error::from(crate::config_error::ConfigError::new(
                    crate::config_error::ConfigErrorKind::NoRuntime,
                    "no async runtime ran the token fetch: none was running where the cache was called, or it shut down",
                ))
            };
            let now = self.inner.clock.now();
            let until = now.checked_add(self.inner.policy.transient_error_ttl).unwrap_or(now);
            self.settle(Err(error), Some(until));
        }
    }
}

/// Runs two futures; the first one's output, or `None` if the second completes first.
async fn first_of<A: Future, B: Future>(first: A, second: B) -> Option<A::Output> {
    let mut first = std::pin::pin!(first);
    let mut second = std::pin::pin!(second);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(output) = first.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if second.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Whether `cached` is still usable by the wall clock reading `wall` (see
/// [`CachedToken::wall_usable_until`]).
#[inline]
fn wall_usable(cached: &CachedToken, wall: SystemTime) -> bool {
    cached.wall_usable_until.is_none_or(|until| wall < until)
}

impl Inner {
    /// Whether the wall clock still lets `cached` be used (see
    /// [`CachedToken::wall_usable_until`]).
    #[inline]
    fn wall_usable(&self, cached: &CachedToken) -> bool {
        wall_usable(cached, self.clock.system_time())
    }

    /// A token for `scope`: from the shared store if there is one (see
    /// [`shared`](crate::cache::shared)), else from the delegate.
    async fn fetch(&self, scope: Option<&Scope>, reason: RefreshReason) -> Result<TokenResponse> {
        match &self.shared {
            None => self.ask_delegate(scope, self.policy.fetch_timeout).await,
            Some(shared) => self.fetch_shared(shared, scope, reason).await,
        }
    }

    /// The delegate's token, or a timeout error after `timeout`: a delegate that never answers
    /// must not hold the flight (and every waiter) forever.
    async fn ask_delegate(&self, scope: Option<&Scope>, timeout: Duration) -> Result<TokenResponse> {
        first_of(self.delegate.request_token(scope), self.runtime.sleep(timeout)).await.unwrap_or_else(|| {
            Err(Error::Transport(
                TransportError::new(TransportErrorKind::Timeout)
                    .with_source(format!("no answer from the token provider within {timeout:?}")),
            ))
        })
    }

    async fn fetch_shared(
        &self,
        shared: &Shared,
        scope: Option<&Scope>,
        reason: RefreshReason,
    ) -> Result<TokenResponse> {
        let key = SharedKey::new(&shared.identity, scope);
        // Never take back the token being replaced: the stale one a background refresh replaces
        // (another replica may not have refreshed yet), or one a resource server rejected.
        let avoid = match reason {
            RefreshReason::Stale | RefreshReason::Retry => {
                self.storage.get(scope).map(|cached| cached.token.access_token().clone())
            }
            RefreshReason::Absent | RefreshReason::Expired => {
                lock(&self.rejected).get(&scope.cloned()).cloned()
            }
        };
        let avoid = avoid.as_ref();
        if let Some(token) = self.load_shared(shared, &key, avoid).await {
            return Ok(token);
        }
        let lease_ttl = shared.options.lease_ttl;
        let start = self.clock.now();
        loop {
            let lease = self.bounded(shared, "lease", shared.store.try_lease(&key, lease_ttl)).await;
            match lease.unwrap_or(Lease::Unavailable) {
                Lease::Taken(lease) => {
                    // Another replica may have stored a token between the read and the lease.
                    let result = match self.load_shared(shared, &key, avoid).await {
                        Some(token) => Ok(token),
                        None => {
                            let result = self.ask_delegate(scope, self.holder_timeout(shared)).await;
                            if let Ok(token) = &result {
                                self.store_shared(shared, &key, token).await;
                            }
                            result
                        }
                    };
                    self.bounded(shared, "release", shared.store.release(&key, &lease)).await;
                    return result;
                }
                Lease::Unavailable => {
                    self.metrics.shared_fallback();
                    return self.ask_delegate(scope, self.policy.fetch_timeout).await;
                }
                Lease::Busy => {}
            }
            // Another replica fetches: wait for its token, or for its lease to end (released
            // after a failure, or run out after a crash): then try to take it.
            let waited = self.clock.now().saturating_duration_since(start);
            if waited >= lease_ttl {
                break;
            }
            self.runtime.sleep(shared.options.poll_interval.min(lease_ttl - waited)).await;
            if let Some(token) = self.load_shared(shared, &key, avoid).await {
                return Ok(token);
            }
        }
        // Busy for a whole lease time (a slow holder, or one holder after another): fetch
        // alone, with the usual timeout, and share what we got.
        tracing::debug!(scope = ?scope.map(Scope::as_str), "no shared token within a lease time; fetching");
        self.metrics.shared_fallback();
        let result = self.ask_delegate(scope, self.policy.fetch_timeout).await;
        if let Ok(token) = &result {
            self.store_shared(shared, &key, token).await;
        }
        result
    }

    /// How long the lease holder's token request may take: four fifths of the lease, less the
    /// store operations around it, so the lease outlives the fetch.
    fn holder_timeout(&self, shared: &Shared) -> Duration {
        let lease = shared.options.lease_ttl;
        let around = operation_bound(&*shared.store).saturating_mul(3);
        let budget = (lease.saturating_mul(4) / 5).saturating_sub(around).max(lease / 2);
        self.policy.fetch_timeout.min(budget)
    }

    /// A usable token from the shared store, not `avoid`, with its times rebuilt by this
    /// process's clocks and capped by what the store says is left of it (a writer whose clock
    /// runs ahead must not make the token look younger than it is).
    async fn load_shared(
        &self,
        shared: &Shared,
        key: &SharedKey,
        avoid: Option<&AccessToken>,
    ) -> Option<TokenResponse> {
        let (now, wall_now) = (self.clock.now(), self.clock.system_time());
        let found = self.bounded(shared, "load", shared.store.load(key, now, wall_now)).await??;
        if avoid.is_some_and(|avoid| found.token.access_token() == avoid) {
            return None;
        }
        // A token bound to a DPoP key is for holders of that key only (a replica with another
        // key, under the same explicit identity, may have written it).
        let key = self.delegate.dpop_key();
        let foreign = match (found.token.dpop_jkt(), &key) {
            (Some(bound), Some(key)) => bound != key.thumbprint(),
            (Some(_), None) => true,
            // A DPoP token whose key nobody knows is nobody's.
            (None, _) if found.token.token_type() == &crate::token::TokenType::DPoP => true,
            // A bearer token (a server that ignored DPoP, as it did for the writer) is anyone's.
            (None, Some(_)) => {
                tracing::warn!("a bearer token from the shared store is used by a provider with a DPoP key");
                false
            }
            (None, None) => false,
        };
        if foreign {
            tracing::debug!("the shared token is bound to another DPoP key than this provider's; not used");
            return None;
        }
        let mut token = found.token;
        let mut times = self.policy.times(token.requested_at(), found.lifetime, 0.0);
        if let Some(left) = found.remaining {
            let capped = now.checked_add(left)?;
            if capped < times.usable_until {
                // Move the token's start earlier by the difference.
                let shift = times.usable_until.saturating_duration_since(capped);
                let requested_at = token.requested_at().checked_sub(shift)?;
                token = token.restamped(requested_at);
                times = self.policy.times(requested_at, found.lifetime, 0.0);
            }
        }
        if self.clock.now() >= times.usable_until {
            return None;
        }
        self.metrics.shared_hit();
        Some(token)
    }

    /// Writes `token` to the shared store, kept until its hard margin.
    async fn store_shared(&self, shared: &Shared, key: &SharedKey, token: &TokenResponse) {
        let lifetime = token
            .expires_in()
            .or_else(|| lifetime_from_exp(token.access_token().expose_secret(), self.clock.system_time()))
            .unwrap_or(self.policy.default_lifetime);
        let now = self.clock.now();
        let usable_until = self.policy.times(token.requested_at(), lifetime, 0.0).usable_until;
        let ttl = usable_until.saturating_duration_since(now);
        if ttl.is_zero() {
            return;
        }
        let age = now.saturating_duration_since(token.requested_at());
        let issued_at = self.clock.system_time().checked_sub(age).unwrap_or_else(|| self.clock.system_time());
        let shared_token = SharedToken { token: token.clone(), issued_at, lifetime, remaining: None };
        self.bounded(shared, "store", shared.store.store(key, &shared_token, ttl)).await;
    }

    /// `call` to the shared store, or `None` when it has not answered within the store's
    /// operation timeout: a store that hangs must not hold the fetch (and every waiter).
    async fn bounded<T>(
        &self,
        shared: &Shared,
        operation: &'static str,
        call: impl Future<Output = T>,
    ) -> Option<T> {
        let timeout = operation_bound(&*shared.store);
        let result = first_of(call, self.runtime.sleep(timeout)).await;
        if result.is_none() {
            tracing::warn!(
                operation,
                ?timeout,
                "the shared token store did not answer in time: going on without it"
            );
        }
        result
    }

    /// A cache entry for a fresh token: its lifetime from `expires_in`, else the JWT's `exp`,
    /// else the default; its instants from the policy, with a jitter drawn now.
    fn entry(&self, token: TokenResponse) -> CachedToken {
        let lifetime = token
            .expires_in()
            .or_else(|| lifetime_from_exp(token.access_token().expose_secret(), self.clock.system_time()))
            .unwrap_or(self.policy.default_lifetime);
        let times = self.policy.times(token.requested_at(), lifetime, self.random());
        // Unique across providers: two providers may share one storage.
        static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);
        let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
        let left = times.usable_until.saturating_duration_since(self.clock.now());
        let wall_usable_until = self.clock.system_time().checked_add(left);
        CachedToken { token, times, generation, wall_usable_until }
    }

    /// A number in `[0, 1)` for jitter.
    fn random(&self) -> f64 {
        self.random.next()
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

    fn cached_token(&self, scope: Option<&Scope>) -> Option<TokenResponse> {
        self.try_get(scope)
    }

    fn invalidate(&self, scope: Option<&Scope>, token: &AccessToken) -> bool {
        CachingProvider::invalidate(self, scope, token)
    }

    fn cache_identity(&self) -> Option<String> {
        self.inner.delegate.cache_identity()
    }
    fn dpop_key(&self) -> Option<crate::dpop::DpopKey> {
        self.inner.delegate.dpop_key()
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
    shared: Option<(Arc<dyn SharedTokenStore>, SharedOptions)>,
}

impl CachingProviderBuilder {
    /// A second-level store shared by a fleet of processes (`oauth2-kit-cache-redis`), behind
    /// the in-process storage: see [`shared`](crate::cache::shared). Tokens are shared under the
    /// delegate's [`cache_identity`](AccessTokenProvider::cache_identity), unless
    /// `options.identity` overrides it; with neither, the store is not used (a warning is logged
    /// at build: check [`CachingProvider::is_shared`]).
    pub fn shared_store(mut self, store: Arc<dyn SharedTokenStore>, options: SharedOptions) -> Self {
        self.shared = Some((store, options));
        self
    }

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
        let shared = self.shared.and_then(|(store, options)| {
            let identity = options.identity.clone().or_else(|| self.delegate.cache_identity());
            if identity.is_none() {
                tracing::warn!(
                    "the token provider has no cache identity and none was given (SharedOptions::with_identity): \
                     the shared store is not used"
                );
            }
            identity.map(|identity| Shared { store, identity, options: options.clamped() })
        });
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
                retry_now: Event::new(),
                shared,
                rejected: Mutex::new(HashMap::new()),
                random: JitterSource::new(seed),
            }),
        }
    }
}

impl fmt::Debug for CachingProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProviderBuilder").field("policy", &self.policy).finish_non_exhaustive()
    }
}
