//! The fleet protocol of `CachingProvider` with a shared store, over an in-memory store and
//! instant virtual sleeps: read-through, write-through, the lease, the bounded wait, an
//! unreachable store, and the holder's timeout inside its lease.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::support::InstantSleeps;
use futures_lite::future::block_on;
use oauth2_kit::cache::{
    CachingProvider, Lease, LeaseId, SharedKey, SharedOptions, SharedToken, SharedTokenStore,
};
use oauth2_kit::{AccessToken, AccessTokenProvider, Clock as _, Scope, TokenResponse, TokenType};

/// Tokens in a map; a lease flag; a switch that makes every operation fail.
#[derive(Debug, Default)]
struct MemoryStore {
    tokens: Mutex<HashMap<SharedKey, (Vec<u8>, Duration)>>,
    leased: AtomicBool,
    down: AtomicBool,
    loads: AtomicUsize,
    /// The (other) lease holder gives up once this many loads have happened.
    free_lease_after_loads: AtomicUsize,
    /// What the store says is left of a token's TTL.
    remaining: Mutex<Option<Duration>>,
}

#[oauth2_kit::async_trait]
impl SharedTokenStore for MemoryStore {
    async fn load(&self, key: &SharedKey, now: Instant, wall_now: SystemTime) -> Option<SharedToken> {
        let loads = self.loads.fetch_add(1, Ordering::SeqCst) + 1;
        if loads == self.free_lease_after_loads.load(Ordering::SeqCst) {
            self.leased.store(false, Ordering::SeqCst);
        }
        if self.down.load(Ordering::SeqCst) {
            return None;
        }
        let bytes = self.tokens.lock().unwrap().get(key)?.0.clone();
        let mut token = SharedToken::from_json(&bytes, now, wall_now).ok()?;
        token.remaining = *self.remaining.lock().unwrap();
        Some(token)
    }

    async fn store(&self, key: &SharedKey, token: &SharedToken, ttl: Duration) {
        if !self.down.load(Ordering::SeqCst) {
            self.tokens.lock().unwrap().insert(key.clone(), (token.to_json().to_vec(), ttl));
        }
    }

    async fn try_lease(&self, _: &SharedKey, _: Duration) -> Lease {
        if self.down.load(Ordering::SeqCst) {
            Lease::Unavailable
        } else if self.leased.swap(true, Ordering::SeqCst) {
            Lease::Busy
        } else {
            Lease::Taken(LeaseId("me".into()))
        }
    }

    async fn release(&self, _: &SharedKey, _: &LeaseId) {
        self.leased.store(false, Ordering::SeqCst);
    }
}

/// Hands out `token-N` of one hour (N counted across the fleet), counting its own requests;
/// hangs forever once told to.
#[derive(Debug)]
struct Counting {
    time: Arc<InstantSleeps>,
    numbers: Arc<AtomicUsize>,
    requests: AtomicUsize,
    hang: AtomicBool,
}

#[oauth2_kit::async_trait]
impl AccessTokenProvider for Counting {
    async fn request_token(&self, _: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let n = self.numbers.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(TokenResponse::new(AccessToken::new(format!("token-{n}")), TokenType::Bearer, self.time.now())
            .with_expires_in(Some(Duration::from_secs(3600))))
    }

    fn cache_identity(&self) -> Option<String> {
        Some("grant=test\n".into())
    }
}

struct Setup {
    time: Arc<InstantSleeps>,
    store: Arc<MemoryStore>,
    numbers: Arc<AtomicUsize>,
}

impl Setup {
    fn new() -> Self {
        Self { time: InstantSleeps::new(), store: Arc::new(MemoryStore::default()), numbers: Arc::default() }
    }

    fn instance(&self) -> (CachingProvider, Arc<Counting>) {
        self.instance_with_wall(Arc::new(WallOffset { time: self.time.clone(), ahead: 0.into() }))
    }

    /// An instance whose wall clock is `clock`'s (the monotonic one is shared).
    fn instance_with_wall(&self, clock: Arc<WallOffset>) -> (CachingProvider, Arc<Counting>) {
        let delegate = Arc::new(Counting {
            time: self.time.clone(),
            numbers: self.numbers.clone(),
            requests: AtomicUsize::new(0),
            hang: AtomicBool::new(false),
        });
        let options = SharedOptions::default()
            .with_lease_ttl(Duration::from_secs(10))
            .with_poll_interval(Duration::from_secs(1));
        let provider = CachingProvider::builder(delegate.clone(), self.time.clone())
            .clock(clock)
            .shared_store(self.store.clone(), options)
            .build();
        (provider, delegate)
    }
}

/// The shared virtual time, with this instance's wall clock moved by `ahead` seconds (negative:
/// behind), as after a suspend, an NTP step or a hand-set clock.
#[derive(Debug)]
struct WallOffset {
    time: Arc<InstantSleeps>,
    ahead: std::sync::atomic::AtomicI64,
}

impl WallOffset {
    fn jump(&self, seconds: i64) {
        self.ahead.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl oauth2_kit::Clock for WallOffset {
    fn now(&self) -> Instant {
        self.time.now()
    }

    fn system_time(&self) -> SystemTime {
        let ahead = self.ahead.load(Ordering::SeqCst);
        let by = Duration::from_secs(ahead.unsigned_abs());
        if ahead >= 0 { self.time.system_time() + by } else { self.time.system_time() - by }
    }
}

fn value(token: &TokenResponse) -> &str {
    token.access_token().expose_secret()
}

#[test]
fn the_second_instance_reads_the_first_ones_token() {
    let s = Setup::new();
    let (a, a_delegate) = s.instance();
    let (b, b_delegate) = s.instance();
    assert!(a.is_shared());
    assert_eq!(value(&block_on(a.get(None)).unwrap()), "token-1");
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-1");
    assert_eq!(
        (a_delegate.requests.load(Ordering::SeqCst), b_delegate.requests.load(Ordering::SeqCst)),
        (1, 0)
    );
    assert_eq!(b.metrics().shared_hits, 1);
    assert_eq!(b.metrics().token_requests(), 0);
    // Written through with the time to its hard margin (59 min of a 1 h token).
    let ttl = s.store.tokens.lock().unwrap().values().next().unwrap().1;
    assert_eq!(ttl, Duration::from_secs(59 * 60));
}

#[test]
fn a_busy_lease_is_waited_out_then_the_instance_fetches_itself() {
    let s = Setup::new();
    s.store.leased.store(true, Ordering::SeqCst); // a holder that never writes
    let (b, delegate) = s.instance();
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-1");
    assert_eq!(delegate.requests.load(Ordering::SeqCst), 1);
    // Waited one lease time (10 s) in 1 s polls, then fetched.
    assert_eq!(s.time.sleeps().iter().sum::<u64>(), 10);
    assert_eq!(s.store.loads.load(Ordering::SeqCst), 1 + 10);
    assert_eq!(b.metrics().shared_fallbacks, 1);
}

#[test]
fn a_token_written_while_waiting_ends_the_wait() {
    let s = Setup::new();
    let (a, _) = s.instance();
    block_on(a.get(None)).unwrap();
    // A second fleet member with a fresh cache, while someone else holds the lease.
    s.store.leased.store(true, Ordering::SeqCst);
    let (b, b_delegate) = s.instance();
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-1", "read through without a lease");
    assert_eq!(b_delegate.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn an_unreachable_store_means_fetching_alone() {
    let s = Setup::new();
    s.store.down.store(true, Ordering::SeqCst);
    let (a, a_delegate) = s.instance();
    let (b, b_delegate) = s.instance();
    block_on(a.get(None)).unwrap();
    block_on(b.get(None)).unwrap();
    assert_eq!(a_delegate.requests.load(Ordering::SeqCst) + b_delegate.requests.load(Ordering::SeqCst), 2);
    assert_eq!(a.metrics().shared_fallbacks + b.metrics().shared_fallbacks, 2);
    assert!(s.time.sleeps().is_empty(), "no wait for a store that is down");
}

#[test]
fn a_stale_refresh_does_not_take_the_stale_shared_token() {
    let s = Setup::new();
    let (a, a_delegate) = s.instance();
    block_on(a.get(None)).unwrap();
    // 56 min later the token is stale for everyone: A's background refresh must fetch.
    s.time.advance(Duration::from_secs(56 * 60));
    assert_eq!(value(&block_on(a.get(None)).unwrap()), "token-1", "the stale token is served");
    assert_eq!(a_delegate.requests.load(Ordering::SeqCst), 2, "refreshed, not re-read");
    assert_eq!(value(&block_on(a.get(None)).unwrap()), "token-2");
}

#[test]
fn the_holder_gives_up_inside_its_lease() {
    let s = Setup::new();
    let (a, delegate) = s.instance();
    delegate.hang.store(true, Ordering::SeqCst);
    let err = block_on(a.get(None)).unwrap_err();
    assert!(err.to_string().contains("no answer from the token provider"), "{err}");
    // Cut at 4/5 of the 10 s lease less three store operations (the default bound, 1 s); the
    // lease was released for the next one.
    assert_eq!(s.time.sleeps(), [5]);
    assert!(!s.store.leased.load(Ordering::SeqCst));
}

#[test]
fn a_waiter_takes_the_lease_as_soon_as_a_failed_holder_releases_it() {
    let s = Setup::new();
    s.store.leased.store(true, Ordering::SeqCst);
    s.store.free_lease_after_loads.store(3, Ordering::SeqCst); // the holder fails after 2 polls
    let (b, delegate) = s.instance();
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-1");
    assert_eq!(delegate.requests.load(Ordering::SeqCst), 1);
    assert_eq!(s.time.sleeps(), [1, 1], "not a whole lease time");
    assert_eq!(b.metrics().shared_fallbacks, 0, "it fetched as the new holder");
}

#[test]
fn an_invalidated_token_is_not_taken_back_from_the_store() {
    let s = Setup::new();
    let (a, _) = s.instance();
    let (b, b_delegate) = s.instance();
    let token = block_on(a.get(None)).unwrap();
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-1");
    // A resource server rejects token-1 at B: B must fetch a new one, not re-read token-1.
    assert!(b.invalidate(None, token.access_token()));
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-2");
    assert_eq!(b_delegate.requests.load(Ordering::SeqCst), 1);
    // ... and shares it: A, once it drops token-1 too, takes token-2 from the store.
    assert!(a.invalidate(None, token.access_token()));
    assert_eq!(value(&block_on(a.get(None)).unwrap()), "token-2");
}

#[test]
fn a_jittered_refresh_does_not_re_read_the_stale_token() {
    let s = Setup::new();
    let (a, a_delegate) = s.instance();
    let (b, _) = s.instance();
    block_on(a.get(None)).unwrap();
    block_on(b.get(None)).unwrap();
    // 55 min 30 s: past every jittered refresh point (55 min less up to 1 min), before the
    // unjittered one; B refreshes once, with a new token, and A then reads it.
    s.time.advance(Duration::from_secs(55 * 60 + 30));
    block_on(b.get(None)).unwrap();
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-2");
    assert_eq!(b.metrics().refreshes_stale, 1);
    block_on(a.get(None)).unwrap();
    assert_eq!(value(&block_on(a.get(None)).unwrap()), "token-2");
    assert_eq!(a_delegate.requests.load(Ordering::SeqCst), 1, "A took B's token");
    assert_eq!(a.metrics().refreshes_stale, 1);
}

#[test]
fn what_the_store_has_left_caps_a_token_from_a_fast_clock() {
    let s = Setup::new();
    let (a, _) = s.instance();
    block_on(a.get(None)).unwrap();
    // The writer's clock ran 20 min ahead of ours: Redis says only 39 min are left of the
    // 59 min to the hard margin. B must not use it past then.
    *s.store.remaining.lock().unwrap() = Some(Duration::from_secs(39 * 60));
    let (b, b_delegate) = s.instance();
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-1");
    s.time.advance(Duration::from_secs(39 * 60 + 1));
    // Redis has dropped it by now (its TTL ran out).
    s.store.tokens.lock().unwrap().clear();
    let token = block_on(b.get(None)).unwrap();
    assert_ne!(value(&token), "token-1", "token-1 is past its (capped) hard margin for B");
    assert_eq!(b_delegate.requests.load(Ordering::SeqCst), 1);
}

/// The fleet-store path under wall-clock jumps at the reader: a shared token is never used past
/// its life, whichever way the reader's wall clock moved.
#[test]
fn wall_clock_jumps_at_the_reader_never_extend_a_shared_token() {
    // Forward: B's wall clock jumped two hours (a resume): token-1, an hour's token stored by A
    // a minute ago, is past its life for B, which fetches its own.
    let s = Setup::new();
    let (a, _) = s.instance();
    block_on(a.get(None)).unwrap();
    s.time.advance(Duration::from_secs(60));
    let ahead = Arc::new(WallOffset { time: s.time.clone(), ahead: 0.into() });
    ahead.jump(2 * 3600);
    let (b, b_delegate) = s.instance_with_wall(ahead);
    assert_eq!(value(&block_on(b.get(None)).unwrap()), "token-2");
    assert_eq!(b_delegate.requests.load(Ordering::SeqCst), 1);

    // Backward: C's wall clock was set back an hour. token-1 then looks issued in C's future,
    // which counts as "now", but what the store has left of it caps its use at its real end.
    let s = Setup::new();
    let (a, _) = s.instance();
    block_on(a.get(None)).unwrap();
    s.time.advance(Duration::from_secs(20 * 60));
    // The store keeps it to the hard margin: 59 min after issue, 39 min from now.
    *s.store.remaining.lock().unwrap() = Some(Duration::from_secs(39 * 60));
    let behind = Arc::new(WallOffset { time: s.time.clone(), ahead: 0.into() });
    behind.jump(-3600);
    let (c, c_delegate) = s.instance_with_wall(behind.clone());
    assert_eq!(value(&block_on(c.get(None)).unwrap()), "token-1");
    s.time.advance(Duration::from_secs(39 * 60 + 1));
    s.store.tokens.lock().unwrap().clear(); // the store's TTL ran out
    assert_ne!(value(&block_on(c.get(None)).unwrap()), "token-1", "not past its real end");
    assert_eq!(c_delegate.requests.load(Ordering::SeqCst), 1);
    // A jump back while a token is cached changes nothing: it is served to its monotonic end.
    let cached = c.cached(None).unwrap();
    behind.jump(-3600);
    assert_eq!(c.cached(None).map(|t| value(&t).to_owned()), Some(value(&cached).to_owned()));
    assert_eq!(c_delegate.requests.load(Ordering::SeqCst), 1);
}
