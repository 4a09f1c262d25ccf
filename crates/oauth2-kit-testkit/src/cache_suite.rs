//! The behavioural suite every caching provider binding runs: one behaviour, proven for each
//! runtime crate, in virtual time.
//!
//! A binding runs it with one macro call in a test file, naming its test attribute, its task
//! spawner and how it customises the core builder (its default storage):
//!
//! ```no_run
//! # use std::sync::Arc;
//! # #[derive(Debug)] struct MySpawner;
//! # impl oauth2_kit::runtime::Runtime for MySpawner {
//! #     fn spawn(&self, _: oauth2_kit::runtime::BoxFuture<()>) -> Result<(), oauth2_kit::runtime::SpawnError> { Ok(()) }
//! #     fn sleep(&self, _: std::time::Duration) -> oauth2_kit::runtime::BoxFuture<()> { Box::pin(async {}) }
//! # }
//! oauth2_kit_testkit::caching_provider_suite!(
//!     tokio::test(flavor = "multi_thread", worker_threads = 2),
//!     std::sync::Arc::new(MySpawner),
//!     |builder| builder.storage(std::sync::Arc::new(oauth2_kit::cache::InMemoryStorage::new()))
//! );
//! # fn main() {}
//! ```
//!
//! The provider under test gets a [`VirtualTime`] as clock and runtime (its `spawn` delegating
//! to the binding's spawner) and a [`ScriptedProvider`] as delegate. Every count is asserted
//! exactly; no check measures wall-clock time.

// A test suite: failures are reported by assertions.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use oauth2_kit::cache::{
    CachePolicy, CacheStorage, CachedToken, CachingProvider, CachingProviderBuilder, InMemoryStorage, Lease,
    LeaseId, SharedKey, SharedOptions, SharedToken, SharedTokenStore,
};
use oauth2_kit::runtime::Runtime;
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Error, ErrorCode, ErrorResponse, OAuth2Error, Scope,
};

use crate::latch::Latch;
use crate::scripted_provider::ScriptedProvider;
use crate::virtual_time::VirtualTime;

/// How a binding customises the core builder (its default storage, say).
pub type Customize = dyn Fn(CachingProviderBuilder) -> CachingProviderBuilder + Send + Sync;

/// A provider under test with its virtual time and scripted delegate.
pub struct Harness {
    /// The clock and sleeps of the provider.
    pub time: Arc<VirtualTime>,
    /// The delegate.
    pub delegate: Arc<ScriptedProvider>,
    /// The caching provider under test.
    pub cache: CachingProvider,
    spawner: Arc<dyn Runtime>,
}

impl Harness {
    /// A harness whose provider spawns on `spawner`, customised by `customize`.
    pub fn new(spawner: Arc<dyn Runtime>, customize: &Customize) -> Self {
        // Checks hold fetches at the scripted provider's gate while virtual hours pass; the
        // fetch timeout has a check of its own.
        let mut policy = CachePolicy::default();
        policy.fetch_timeout = Duration::from_secs(24 * 3600);
        Self::with_policy(spawner, customize, policy)
    }

    /// A harness whose provider uses `policy`.
    pub fn with_policy(spawner: Arc<dyn Runtime>, customize: &Customize, policy: CachePolicy) -> Self {
        Self::with_builder(spawner, customize, policy, |builder| builder)
    }

    /// A harness whose provider uses `policy`, its builder changed by `then` after `customize`.
    pub fn with_builder(
        spawner: Arc<dyn Runtime>,
        customize: &Customize,
        policy: CachePolicy,
        then: impl FnOnce(CachingProviderBuilder) -> CachingProviderBuilder,
    ) -> Self {
        let time = VirtualTime::new(spawner.clone());
        let delegate = ScriptedProvider::new(time.clone());
        let builder =
            CachingProvider::builder(delegate.clone(), time.clone()).clock(time.clone()).policy(policy);
        let cache = then(customize(builder)).build();
        Self { time, delegate, cache, spawner }
    }

    /// `n` concurrent calls for `scope`, each a task of its own; their results, once all are
    /// done.
    pub async fn herd(
        &self,
        n: usize,
        scope: Option<&Scope>,
    ) -> Vec<oauth2_kit::Result<oauth2_kit::TokenResponse>> {
        self.spawn_herd(n, scope).join().await
    }

    /// Starts `n` concurrent calls for `scope`, each a task of its own, at once.
    pub fn spawn_herd(&self, n: usize, scope: Option<&Scope>) -> Herd {
        let herd = Herd {
            n,
            results: Arc::new(Mutex::new(Vec::with_capacity(n))),
            done: Arc::new(AtomicUsize::new(0)),
        };
        for _ in 0..n {
            let (cache, scope, results, done) =
                (self.cache.clone(), scope.cloned(), herd.results.clone(), herd.done.clone());
            self.spawner
                .spawn(Box::pin(async move {
                    let result = cache.get(scope.as_ref()).await;
                    results.lock().unwrap().push(result);
                    done.fetch_add(1, Ordering::SeqCst);
                }))
                .expect("spawn a caller");
        }
        herd
    }

    /// The access token value cached for `scope`, if usable now.
    pub fn cached_value(&self, scope: Option<&Scope>) -> Option<String> {
        self.cache.cached(scope).map(|t| t.access_token().expose_secret().to_owned())
    }
}

/// Calls running as tasks of their own.
pub struct Herd {
    n: usize,
    results: Arc<Mutex<Vec<oauth2_kit::Result<oauth2_kit::TokenResponse>>>>,
    done: Arc<AtomicUsize>,
}

impl Herd {
    /// How many calls have finished.
    pub fn finished(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    /// Waits for every call; their results.
    pub async fn join(self) -> Vec<oauth2_kit::Result<oauth2_kit::TokenResponse>> {
        let n = self.n;
        wait_for(&format!("{n} callers to finish"), || self.finished() == n).await;
        std::mem::take(&mut *self.results.lock().unwrap())
    }
}

/// Waits (in real time, up to a minute) until `condition` holds; panics naming `what`
/// otherwise.
pub async fn wait_for(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..30_000 {
        if condition() {
            return;
        }
        real_sleep(Duration::from_millis(2)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A real sleep that needs no runtime: a thread wakes the waiter.
async fn real_sleep(duration: Duration) {
    let latch = Arc::new(Latch::new(false));
    let opener = latch.clone();
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        opener.open();
    });
    latch.wait().await;
}

/// Polls a future once: `Some` if it completed at once.
pub fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

fn value(result: &oauth2_kit::Result<oauth2_kit::TokenResponse>) -> String {
    match result {
        Ok(token) => token.access_token().expose_secret().to_owned(),
        Err(error) => panic!("expected a token, got {error}"),
    }
}

/// An OAuth 2.0 error as a server would send it.
pub fn oauth2_error(status: u16, code: &str, retry_after: Option<u64>) -> Error {
    let mut headers = HeaderMap::new();
    if let Some(seconds) = retry_after {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    let status = StatusCode::from_u16(status).expect("a status");
    Error::OAuth2(Box::new(OAuth2Error::new(status, ErrorResponse::new(ErrorCode::from(code)), &headers)))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn scope(s: &str) -> Scope {
    s.parse().expect("a scope")
}

/// `n` concurrent callers on a cold key cause exactly one token request; all get its token.
pub async fn cold_herd(spawner: Arc<dyn Runtime>, customize: &Customize, n: usize) {
    let h = Harness::new(spawner, customize);
    h.delegate.close();
    // Every caller arrives while the one fetch is held, then it is let through.
    let herd = h.spawn_herd(n, None);
    wait_for("every caller to miss", || h.cache.metrics().misses == n as u64).await;
    assert_eq!(herd.finished(), 0, "nobody has a token yet");
    h.delegate.open();
    let results = herd.join().await;
    assert_eq!(results.len(), n);
    assert!(results.iter().all(|r| value(r) == "token-1"));
    assert_eq!(h.delegate.requests(), 1, "one token request for {n} callers");
    assert_eq!(h.cache.metrics().refreshes_absent, 1);
}

/// `n` concurrent callers on an expired key cause exactly one token request.
pub async fn expired_herd(spawner: Arc<dyn Runtime>, customize: &Customize, n: usize) {
    let h = Harness::new(spawner, customize);
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    h.time.advance(secs(59 * 60 + 1)); // a 1 h token is usable for 59 min
    assert_eq!(h.cached_value(None), None);
    h.delegate.close();
    let herd = h.spawn_herd(n, None);
    wait_for("every caller to miss", || h.cache.metrics().misses == 1 + n as u64).await;
    h.delegate.open();
    let results = herd.join().await;
    assert!(results.iter().all(|r| value(r) == "token-2"));
    assert_eq!(h.delegate.requests(), 2);
    assert_eq!(h.cache.metrics().refreshes_expired, 1);
}

/// `n` concurrent callers on a stale key get the cached token at once, none blocks while the one
/// background refresh is held, and exactly one refresh runs.
pub async fn stale_herd(spawner: Arc<dyn Runtime>, customize: &Customize, n: usize) {
    let h = Harness::new(spawner, customize);
    h.cache.get(None).await.unwrap();
    h.delegate.close(); // the refresh will hang until opened: nobody may wait for it
    h.time.advance(secs(56 * 60));
    let results = h.herd(n, None).await;
    assert!(results.iter().all(|r| value(r) == "token-1"), "stale callers get the cached token");
    wait_for("the background refresh", || h.delegate.requests() == 2).await;
    assert_eq!(h.delegate.requests(), 2, "one refresh for {n} stale callers");
    assert_eq!(h.delegate.completed(), 1, "the refresh is still held");
    h.delegate.open();
    wait_for("the refreshed token", || h.cached_value(None).as_deref() == Some("token-2")).await;
    let m = h.cache.metrics();
    assert_eq!((m.refreshes_stale, m.stale_served), (1, n as u64));
}

/// A background refresh that takes 500 ms (virtual) blocks no caller.
pub async fn no_caller_blocks_during_refresh(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.cache.get(None).await.unwrap();
    h.delegate.close();
    h.time.advance(secs(56 * 60));
    for _ in 0..100 {
        let got = poll_once(h.cache.get(None)).expect("a stale get completes at once");
        assert_eq!(value(&got), "token-1");
        h.time.advance(Duration::from_millis(5)); // 100 x 5 ms = the 500 ms of the refresh
    }
    h.delegate.open();
    wait_for("the refreshed token", || h.cached_value(None).as_deref() == Some("token-2")).await;
    assert_eq!(h.delegate.requests(), 2);
}

/// Without a token and with a failing endpoint, 100 callers cause one attempt and all get the
/// error; the error is kept 5 s (transient) so the next herd costs nothing; then a new attempt.
pub async fn failing_endpoint_one_attempt(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.delegate.fail_with(oauth2_error(503, "temporarily_unavailable", None));
    h.delegate.close();
    let herd = h.spawn_herd(100, None);
    wait_for("every caller to miss", || h.cache.metrics().misses == 100).await;
    h.delegate.open();
    let results = herd.join().await;
    assert!(results.iter().all(|r| matches!(r, Err(Error::OAuth2(e)) if e.status == 503)));
    assert_eq!(h.delegate.requests(), 1, "one attempt for 100 callers");

    let again = h.herd(100, None).await;
    assert!(again.iter().all(Result::is_err));
    assert_eq!(h.delegate.requests(), 1, "the kept error answers without a new attempt");
    assert!(h.cache.metrics().errors_served >= 100);

    h.time.advance(secs(5));
    h.delegate.succeed();
    assert_eq!(value(&h.cache.get(None).await), "token-2");
    assert_eq!(h.delegate.requests(), 2);
}

/// Errors a retry cannot fix soon (`invalid_client`, ...) are kept 60 s.
pub async fn permanent_errors_are_kept_longer(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.delegate.fail_with(oauth2_error(401, "invalid_client", None));
    assert!(h.cache.get(None).await.is_err());
    h.time.advance(secs(59));
    assert!(h.cache.get(None).await.is_err());
    assert_eq!(h.delegate.requests(), 1, "kept for 60 s");
    h.time.advance(secs(2));
    h.delegate.succeed();
    assert!(h.cache.get(None).await.is_ok());
    assert_eq!(h.delegate.requests(), 2);
}

/// Dropping the caller that started a fetch neither cancels nor restarts it; its result is
/// cached for the next caller.
pub async fn cancelled_initiator(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.delegate.close();
    assert!(poll_once(h.cache.get(None)).is_none(), "the first caller waits, then is dropped");
    wait_for("the fetch", || h.delegate.requests() == 1).await;
    h.delegate.open();
    wait_for("the fetch to finish", || h.cached_value(None).is_some()).await;
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    assert_eq!(h.delegate.requests(), 1, "one fetch in total");
}

/// The timeline of a 1 h token: fresh until 54 min at least, stale after 55 min (served while a
/// refresh runs), expired after 59 min (callers wait for the shared fetch).
pub async fn one_hour_timeline(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    h.time.advance(secs(53 * 60 + 59));
    assert_eq!(value(&poll_once(h.cache.get(None)).expect("fresh")), "token-1");
    assert_eq!(h.delegate.requests(), 1, "fresh: no request");

    h.delegate.close();
    h.time.advance(secs(66)); // 55:05
    assert_eq!(value(&poll_once(h.cache.get(None)).expect("stale is served at once")), "token-1");
    wait_for("the stale refresh", || h.delegate.requests() == 2).await;

    h.time.advance(secs(4 * 60)); // 59:05: expired
    assert_eq!(h.cached_value(None), None);
    let waiting = h.cache.get(None);
    let mut waiting = pin!(waiting);
    assert!(poll_once(waiting.as_mut()).is_none(), "expired: the caller waits");
    h.delegate.open();
    assert_eq!(value(&waiting.await), "token-2");
    assert_eq!(h.delegate.requests(), 2, "the waiter joined the running refresh");
}

/// A 2 s token is usable for 1 s.
pub async fn short_token(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.delegate.set_lifetime(Some(secs(2)));
    h.cache.get(None).await.unwrap();
    h.time.advance(Duration::from_millis(999));
    assert_eq!(h.cached_value(None).as_deref(), Some("token-1"));
    h.time.advance(Duration::from_millis(2));
    assert_eq!(h.cached_value(None), None);
}

/// A failed refresh never replaces a usable token; retries back off (500 ms doubling, with
/// jitter) and honour `Retry-After`; when the endpoint is back, the next retry succeeds.
pub async fn failed_refresh_keeps_token_and_backs_off(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.cache.get(None).await.unwrap();
    h.delegate.fail_with(oauth2_error(503, "temporarily_unavailable", None));
    h.time.advance(secs(56 * 60));
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    wait_for("the failed refresh", || h.delegate.completed() == 2 && h.time.sleepers() == 1).await;
    // First backoff: 250-500 ms.
    h.time.advance(Duration::from_millis(249));
    assert_eq!(h.time.sleepers(), 1, "no retry before the backoff");
    h.time.advance(Duration::from_millis(251));
    wait_for("retry 1", || h.delegate.completed() == 3 && h.time.sleepers() == 1).await;
    // Second backoff: 500-1000 ms.
    h.time.advance(Duration::from_millis(499));
    assert_eq!(h.time.sleepers(), 1, "no retry before the second backoff");
    h.time.advance(Duration::from_millis(501));
    wait_for("retry 2", || h.delegate.completed() == 4 && h.time.sleepers() == 1).await;
    assert_eq!(value(&h.cache.get(None).await), "token-1", "the usable token is still served");

    // Retry-After: 10 s.
    h.delegate.fail_with(oauth2_error(503, "temporarily_unavailable", Some(10)));
    h.time.advance(secs(2));
    wait_for("retry 3", || h.delegate.completed() == 5 && h.time.sleepers() == 1).await;
    h.time.advance(Duration::from_millis(9_900));
    assert_eq!(h.time.sleepers(), 1, "Retry-After is honoured");
    h.delegate.succeed();
    h.time.advance(Duration::from_millis(200));
    wait_for("the successful retry", || h.cached_value(None).as_deref() == Some("token-6")).await;
    let m = h.cache.metrics();
    assert_eq!((m.refreshes_stale, m.refreshes_retry, m.failures), (1, 4, 4));
}

/// The token endpoint down through the whole stale window (55 to 59 min of a 1 h token):
/// 0 caller-visible errors, callers served at once by the cached token, attempts only at the
/// backoff slots (not per call); past the hard margin, the shared error; the endpoint back: the
/// next call gets a new token, no restart.
pub async fn outage_through_the_stale_window(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.cache.get(None).await.unwrap();
    h.delegate.fail_with(oauth2_error(503, "temporarily_unavailable", None));
    h.time.advance(secs(55 * 60));
    let mut served = 0;
    // Four minutes of calls, one every 2.4 s.
    for _ in 0..100 {
        let got = poll_once(h.cache.get(None)).expect("a stale get completes at once");
        assert_eq!(value(&got), "token-1", "no caller-visible error before the hard margin");
        served += 1;
        // The background refresh runs on another thread: let it reach its backoff sleep
        // before time moves on, so that a slow machine cannot skip it.
        wait_for("the refresh to fail and back off", || h.time.sleepers() == 1).await;
        h.time.advance(Duration::from_millis(2_390));
    }
    assert_eq!(served, 100);
    let attempts = h.delegate.requests() - 1;
    assert!((1..=20).contains(&attempts), "backoff slots, not one per call: {attempts} attempts");
    h.time.advance(secs(60));
    wait_for("the margin to pass", || h.cached_value(None).is_none()).await;
    assert!(matches!(h.cache.get(None).await, Err(Error::OAuth2(_))), "past the margin: the error");
    h.delegate.succeed();
    h.time.advance(secs(6)); // the kept error's 5 s
    assert!(h.cache.get(None).await.is_ok(), "back without a restart");
}

/// Once the token is past its hard margin and the endpoint still fails, waiters get the error.
pub async fn outage_past_the_margin(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.cache.get(None).await.unwrap();
    h.delegate.fail_with(oauth2_error(503, "temporarily_unavailable", None));
    h.time.advance(secs(58 * 60 + 59));
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    wait_for("the failed refresh", || h.delegate.completed() == 2 && h.time.sleepers() == 1).await;
    h.time.advance(secs(2)); // past 59:00; the retry sleeps no longer than that
    let waiting = h.cache.get(None);
    let result = waiting.await;
    assert!(matches!(result, Err(Error::OAuth2(_))), "{result:?}");
}

/// A suspend and resume (the wall clock jumps two hours, the monotonic one does not move):
/// the token, expired by the wall clock, is never handed out again, by the fresh path or any
/// other; the next call fetches a new one.
pub async fn wall_clock_jump_expires_the_token(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    h.time.advance(secs(10 * 60));
    assert!(poll_once(h.cache.get(None)).is_some(), "fresh before the suspend");
    h.time.jump_wall_clock(secs(2 * 3600));
    assert_eq!(h.cached_value(None), None);
    assert!(h.cache.try_get(None).is_none(), "not on the fresh path either");
    assert_eq!(value(&h.cache.get(None).await), "token-2");
    assert_eq!(h.delegate.requests(), 2);
    // A jump within the token's life changes nothing.
    h.time.jump_wall_clock(secs(60));
    assert_eq!(value(&h.cache.get(None).await), "token-2");
    assert_eq!(h.delegate.requests(), 2);
}

/// The wall clock set back (an NTP step, a hand-set clock): a backward jump neither expires a
/// token early nor keeps it past its life by the monotonic clock; nothing panics on times that
/// go back, and the next token is cached as usual.
pub async fn wall_clock_set_back_changes_nothing(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    assert_eq!(value(&h.cache.get(None).await), "token-1");
    h.time.advance(secs(10 * 60));
    h.time.jump_wall_clock_back(secs(3 * 3600));
    assert_eq!(h.cached_value(None).as_deref(), Some("token-1"), "not expired by a clock set back");
    assert!(h.cache.try_get(None).is_some(), "on the fresh path too");
    // Past its hard margin (59 min 30 s after issue, by the monotonic clock), it is gone,
    // however far back the wall clock says we are.
    h.time.advance(secs(49 * 60 + 31));
    assert_eq!(h.cached_value(None), None);
    assert_eq!(value(&h.cache.get(None).await), "token-2");
    h.time.jump_wall_clock_back(secs(24 * 3600));
    assert_eq!(value(&h.cache.get(None).await), "token-2");
    assert_eq!(h.delegate.requests(), 2);
}

/// Without `expires_in`, the default lifetime (5 min); a JWT's `exp` when there is one.
pub async fn lifetime_without_expires_in(spawner: Arc<dyn Runtime>, customize: &Customize) {
    use base64::Engine as _;
    let h = Harness::new(spawner, customize);
    h.delegate.set_lifetime(None);
    h.cache.get(None).await.unwrap();
    h.time.advance(secs(4 * 60 + 29)); // 5 min: margin 30 s
    assert_eq!(h.cached_value(None).as_deref(), Some("token-1"));
    h.time.advance(secs(2));
    assert_eq!(h.cached_value(None), None);

    let exp = h.time.system_time().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 120;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
    h.delegate.push_value(format!("eyJhbGciOiJub25lIn0.{payload}.sig"));
    let s = scope("jwt");
    h.cache.get(Some(&s)).await.unwrap();
    h.time.advance(secs(107)); // 120 s: margin 12 s
    assert!(h.cached_value(Some(&s)).is_some());
    h.time.advance(secs(2));
    assert_eq!(h.cached_value(Some(&s)), None);
}

/// `invalidate` drops only the generation it names: a late invalidation of an old token leaves
/// the new one; 1,000 invalidations of one token cause one refresh.
pub async fn invalidation_compares_generations(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    let first = h.cache.get(None).await.unwrap();
    assert!(h.cache.invalidate(None, first.access_token()));
    assert_eq!(value(&h.cache.get(None).await), "token-2");
    assert!(!h.cache.invalidate(None, first.access_token()), "an old token invalidates nothing");
    assert_eq!(h.cached_value(None).as_deref(), Some("token-2"));

    let dropped = (0..1000).filter(|_| h.cache.invalidate(None, &AccessToken::new("token-2"))).count();
    assert_eq!(dropped, 1);
    h.delegate.close();
    let misses = h.cache.metrics().misses;
    let herd = h.spawn_herd(1000, None);
    wait_for("every caller to miss", || h.cache.metrics().misses == misses + 1000).await;
    h.delegate.open();
    let results = herd.join().await;
    assert!(results.iter().all(|r| value(r) == "token-3"));
    assert_eq!(h.delegate.requests(), 3);
}

/// A token provider that never answers does not hold waiters forever: after the fetch timeout
/// (60 s by default) they get a timeout error, kept like any transient error.
pub async fn hung_delegate_times_out(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::with_policy(spawner, customize, CachePolicy::default());
    h.delegate.close();
    let herd = h.spawn_herd(10, None);
    wait_for("every caller to miss", || h.cache.metrics().misses == 10).await;
    wait_for("the fetch timer", || h.time.sleepers() == 1).await;
    h.time.advance(secs(59));
    assert_eq!(h.time.sleepers(), 1, "not yet");
    h.time.advance(secs(2));
    let results = herd.join().await;
    assert!(
        results.iter().all(|r| matches!(r, Err(e) if e.transport_kind() == Some(oauth2_kit::http::TransportErrorKind::Timeout))),
        "{:?}",
        results.first()
    );
    assert_eq!(h.delegate.requests(), 1);
}

/// A fetch task that ends without a result (here: its delegate panics) settles its waiters
/// with a retryable error saying so and does not block the scope: the next call after the
/// error's time fetches.
pub async fn a_lost_fetch_does_not_block_the_scope(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    h.delegate.panic_next();
    let result = h.cache.get(None).await;
    assert!(matches!(&result, Err(Error::FetchAborted { panicked: true, .. })), "{result:?}");
    assert!(result.as_ref().is_err_and(Error::is_retryable), "a retry may cure a panicked fetch");
    h.time.advance(secs(6));
    assert_eq!(value(&h.cache.get(None).await), "token-2");
}

/// A shared store whose named operations never answer; the others answer at once (nothing
/// stored, the lease free).
#[derive(Debug)]
struct HangingStore(&'static [&'static str]);

impl HangingStore {
    async fn maybe_hang(&self, operation: &str) {
        if self.0.contains(&operation) {
            std::future::pending::<()>().await;
        }
    }
}

#[oauth2_kit::async_trait]
impl SharedTokenStore for HangingStore {
    async fn load(
        &self,
        _: &SharedKey,
        _: std::time::Instant,
        _: std::time::SystemTime,
    ) -> Option<SharedToken> {
        self.maybe_hang("load").await;
        None
    }
    async fn store(&self, _: &SharedKey, _: &SharedToken, _: Duration) {
        self.maybe_hang("store").await;
    }
    async fn try_lease(&self, _: &SharedKey, _: Duration) -> Lease {
        self.maybe_hang("lease").await;
        Lease::Taken(LeaseId("suite".into()))
    }
    async fn release(&self, _: &SharedKey, _: &LeaseId) {
        self.maybe_hang("release").await;
    }
}

/// A shared store that never answers holds no caller: every call to it is bounded by its
/// operation timeout (the default, 1 s, and half as much again), after which the provider goes
/// on without it. Whether
/// the reads hang (a miss, then no lease: the process fetches alone) or the writes do (the
/// holder's token is handed out once the store and release calls give up).
pub async fn a_shared_store_that_never_answers(spawner: Arc<dyn Runtime>, customize: &Customize) {
    // The store names no timeout: the default (1 s) and half as much again.
    let bound = oauth2_kit::cache::shared::DEFAULT_OPERATION_TIMEOUT * 3 / 2;
    for hanging in [&["load", "store", "lease", "release"][..], &["store", "release"]] {
        let mut policy = CachePolicy::default();
        policy.fetch_timeout = Duration::from_secs(24 * 3600);
        let h = Harness::with_builder(spawner.clone(), customize, policy, |builder| {
            builder.shared_store(
                Arc::new(HangingStore(hanging)),
                SharedOptions::default().with_identity("suite"),
            )
        });
        let herd = h.spawn_herd(10, None);
        // Two calls hang in turn (load then lease, or store then release): each is given up
        // after the bound, and no sooner.
        for _ in 0..2 {
            wait_for("a store call's timer", || h.time.sleepers() == 1).await;
            h.time.advance(bound - Duration::from_millis(1));
            assert_eq!(herd.finished(), 0, "{hanging:?}: not before the bound");
            h.time.advance(Duration::from_millis(1));
        }
        let results = herd.join().await;
        assert!(results.iter().all(|r| value(r) == "token-1"), "{hanging:?}: {:?}", results.first());
        assert_eq!(h.delegate.requests(), 1, "{hanging:?}");
        assert_eq!(h.time.elapsed(), bound * 2, "{hanging:?}");
    }
}

/// An invalidation while the refresher sleeps between retries wakes it: callers do not wait
/// out the backoff (here a 5 min `Retry-After`).
pub async fn invalidation_wakes_a_sleeping_refresher(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    let first = h.cache.get(None).await.unwrap();
    h.delegate.fail_times(oauth2_error(503, "temporarily_unavailable", Some(300)), 1);
    h.time.advance(secs(55 * 60 + 30));
    h.cache.get(None).await.unwrap();
    wait_for("the failed refresh to sleep", || h.delegate.completed() == 2 && h.time.sleepers() == 1).await;
    assert!(h.cache.invalidate(None, first.access_token()));
    assert_eq!(value(&h.cache.get(None).await), "token-3", "no 5 min wait");
}

/// Keys never block each other, and a scope is a set.
pub async fn scopes_are_independent_sets(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    let b = scope("b");
    h.cache.get(Some(&b)).await.unwrap();
    h.delegate.close();
    let a = scope("a");
    let a_waits = h.cache.get(Some(&a));
    let mut a_waits = pin!(a_waits);
    assert!(poll_once(a_waits.as_mut()).is_none());
    wait_for("scope a's fetch", || h.delegate.requests() == 2).await;
    assert_eq!(value(&poll_once(h.cache.get(Some(&b))).expect("b is not blocked by a")), "token-1");
    h.delegate.open();
    assert_eq!(value(&a_waits.await), "token-2");

    h.cache.get(Some(&scope("read write"))).await.unwrap();
    h.cache.get(Some(&scope("write read read"))).await.unwrap();
    assert_eq!(h.delegate.requests(), 3, "equal scopes share a token");
    assert_eq!(h.delegate.scopes()[2], Some(scope("read write")));
}

/// A custom storage plugged in is the one used.
pub async fn custom_storage(spawner: Arc<dyn Runtime>, _customize: &Customize) {
    #[derive(Debug, Default)]
    struct Counting {
        inner: InMemoryStorage,
        puts: AtomicUsize,
        gets: AtomicUsize,
    }
    impl CacheStorage for Counting {
        fn get(&self, scope: Option<&Scope>) -> Option<CachedToken> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.inner.get(scope)
        }
        fn put(&self, scope: Option<&Scope>, token: CachedToken) {
            self.puts.fetch_add(1, Ordering::SeqCst);
            self.inner.put(scope, token);
        }
        fn remove(&self, scope: Option<&Scope>, generation: u64) -> bool {
            self.inner.remove(scope, generation)
        }
    }
    let storage = Arc::new(Counting::default());
    let plugged = storage.clone();
    let customize = move |b: CachingProviderBuilder| b.storage(plugged.clone());
    let h = Harness::new(spawner, &customize);
    h.cache.get(None).await.unwrap();
    h.cache.get(None).await.unwrap();
    assert_eq!(storage.puts.load(Ordering::SeqCst), 1);
    assert!(storage.gets.load(Ordering::SeqCst) >= 2);
    assert_eq!(h.delegate.requests(), 1);
}

/// The provider is usable as `Arc<dyn AccessTokenProvider>`, and its counters add up.
pub async fn dyn_provider_and_metrics(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize);
    let provider: Arc<dyn AccessTokenProvider> = Arc::new(h.cache.clone());
    for _ in 0..10 {
        provider.request_token(None).await.unwrap();
    }
    let m = h.cache.metrics();
    assert_eq!((m.hits, m.misses, m.token_requests()), (9, 1, 1));
}

/// Runs the whole suite, each check as its own test. Arguments: the test attribute (e.g.
/// `tokio::test(flavor = "multi_thread")`), an expression giving the binding's spawner
/// (`Arc<dyn Runtime>`), and a closure customising the core builder.
#[macro_export]
macro_rules! caching_provider_suite {
    ($test:meta, $spawner:expr, $customize:expr) => {
        mod caching_provider_suite {
            use super::*;

            #[allow(clippy::redundant_closure_call)]
            fn parts() -> (
                ::std::sync::Arc<dyn ::oauth2_kit::runtime::Runtime>,
                ::std::boxed::Box<$crate::cache_suite::Customize>,
            ) {
                ($spawner, ::std::boxed::Box::new($customize))
            }

            #[$test]
            async fn cold_herd_of_1000_costs_one_request() {
                let (s, c) = parts();
                $crate::cache_suite::cold_herd(s, &*c, 1_000).await;
            }

            #[$test]
            async fn cold_herd_of_10000_costs_one_request() {
                let (s, c) = parts();
                $crate::cache_suite::cold_herd(s, &*c, 10_000).await;
            }

            #[$test]
            async fn expired_herd_of_1000_costs_one_request() {
                let (s, c) = parts();
                $crate::cache_suite::expired_herd(s, &*c, 1_000).await;
            }

            #[$test]
            async fn expired_herd_of_10000_costs_one_request() {
                let (s, c) = parts();
                $crate::cache_suite::expired_herd(s, &*c, 10_000).await;
            }

            #[$test]
            async fn stale_herd_of_1000_costs_one_refresh() {
                let (s, c) = parts();
                $crate::cache_suite::stale_herd(s, &*c, 1_000).await;
            }

            #[$test]
            async fn stale_herd_of_10000_costs_one_refresh() {
                let (s, c) = parts();
                $crate::cache_suite::stale_herd(s, &*c, 10_000).await;
            }

            $crate::caching_provider_suite!(@checks $test, parts;
                no_caller_blocks_during_refresh, failing_endpoint_one_attempt,
                permanent_errors_are_kept_longer, cancelled_initiator, one_hour_timeline,
                short_token, failed_refresh_keeps_token_and_backs_off, outage_past_the_margin,
                lifetime_without_expires_in, invalidation_compares_generations,
                hung_delegate_times_out, a_lost_fetch_does_not_block_the_scope,
                invalidation_wakes_a_sleeping_refresher, wall_clock_jump_expires_the_token,
                a_shared_store_that_never_answers, wall_clock_set_back_changes_nothing,
                outage_through_the_stale_window,
                scopes_are_independent_sets, custom_storage, dyn_provider_and_metrics);
        }
    };
    (@checks $test:meta, $parts:ident; $($check:ident),* $(,)?) => {
        $(
            #[$test]
            async fn $check() {
                let (s, c) = $parts();
                $crate::cache_suite::$check(s, &*c).await;
            }
        )*
    };
}
