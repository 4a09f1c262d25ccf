//! The behavioural suite of caching introspection, run by every cache crate: results kept until
//! the earlier of `exp` and the TTL (inactive ones too), errors not kept, one request per token
//! however many callers, nothing cancelled by a caller leaving, a size bound. In virtual time.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # #[derive(Debug)] struct MySpawner;
//! # impl oauth2_kit::runtime::Runtime for MySpawner {
//! #     fn spawn(&self, _: oauth2_kit::runtime::BoxFuture<()>) -> Result<(), oauth2_kit::runtime::SpawnError> { Ok(()) }
//! #     fn sleep(&self, _: std::time::Duration) -> oauth2_kit::runtime::BoxFuture<()> { Box::pin(async {}) }
//! # }
//! oauth2_kit_testkit::caching_introspection_suite!(
//!     tokio::test(flavor = "multi_thread", worker_threads = 2),
//!     std::sync::Arc::new(MySpawner),
//!     |builder, _policy| builder
//! );
//! # fn main() {}
//! ```

// A test suite: failures are reported by assertions.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use oauth2_kit::async_trait;
use oauth2_kit::cache::{CachingIntrospection, CachingIntrospectionBuilder, IntrospectionCachePolicy};
use oauth2_kit::runtime::Runtime;
use oauth2_kit::{AccessToken, Clock as _, IntrospectionResponse, TokenIntrospection};

use crate::cache_suite::{poll_once, wait_for};
use crate::latch::Latch;
use crate::virtual_time::VirtualTime;

/// How a binding customises the core builder (its storage, sized by the policy's bound).
pub type Customize = dyn Fn(CachingIntrospectionBuilder, &IntrospectionCachePolicy) -> CachingIntrospectionBuilder
    + Send
    + Sync;

/// What the scripted server says about a token.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Active, expiring this long after the request (`None`: no `exp`).
    Active(Option<Duration>),
    /// Active, with an `exp` already past.
    ActiveButExpired,
    /// Inactive.
    Inactive,
    /// The request fails.
    Fail,
}

/// A [`TokenIntrospection`] whose answers a test sets per token (default: active for an hour),
/// counting requests, with a gate that holds them.
pub struct ScriptedIntrospection {
    time: Arc<VirtualTime>,
    answers: Mutex<HashMap<String, Answer>>,
    requests: AtomicUsize,
    gate: Latch,
}

impl ScriptedIntrospection {
    /// A delegate on `time`'s clock, gate open.
    pub fn new(time: Arc<VirtualTime>) -> Arc<Self> {
        Arc::new(Self {
            time,
            answers: Mutex::default(),
            requests: AtomicUsize::new(0),
            gate: Latch::new(true),
        })
    }

    /// Sets the answer for `token`.
    pub fn set(&self, token: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(token.to_owned(), answer);
    }

    /// Requests received so far (held ones included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Holds every request until [`open`](Self::open).
    pub fn close(&self) {
        self.gate.close();
    }

    /// Lets requests through.
    pub fn open(&self) {
        self.gate.open();
    }
}

#[async_trait]
impl TokenIntrospection for ScriptedIntrospection {
    async fn introspect(&self, token: &AccessToken) -> oauth2_kit::Result<IntrospectionResponse> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.gate.wait().await;
        let answer = self.answers.lock().unwrap().get(token.expose_secret()).cloned();
        let now = self.time.system_time().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let body = match answer.unwrap_or(Answer::Active(Some(Duration::from_secs(3600)))) {
            Answer::Active(Some(left)) => format!(r#"{{"active":true,"exp":{}}}"#, now + left.as_secs()),
            Answer::Active(None) => r#"{"active":true}"#.to_owned(),
            Answer::ActiveButExpired => format!(r#"{{"active":true,"exp":{}}}"#, now - 10),
            Answer::Inactive => r#"{"active":false}"#.to_owned(),
            Answer::Fail => {
                return Err(oauth2_kit::ConfigError::new(
                    oauth2_kit::ConfigErrorKind::InvalidSetting,
                    "scripted failure",
                )
                .into());
            }
        };
        Ok(IntrospectionResponse::from_json(body.as_bytes()).unwrap())
    }
}

/// A cache under test with its virtual time and scripted delegate.
pub struct Harness {
    /// The clock and sleeps.
    pub time: Arc<VirtualTime>,
    /// The delegate.
    pub delegate: Arc<ScriptedIntrospection>,
    /// The cache under test.
    pub cache: CachingIntrospection,
    spawner: Arc<dyn Runtime>,
}

impl Harness {
    /// A cache with `policy`, spawning on `spawner`, customised by `customize`.
    pub fn new(spawner: Arc<dyn Runtime>, customize: &Customize, policy: IntrospectionCachePolicy) -> Self {
        let time = VirtualTime::new(spawner.clone());
        let delegate = ScriptedIntrospection::new(time.clone());
        let builder =
            CachingIntrospection::builder(delegate.clone(), time.clone()).clock(time.clone()).policy(policy);
        let cache = customize(builder, &policy).build();
        Self { time, delegate, cache, spawner }
    }

    async fn active(&self, token: &str) -> bool {
        self.cache.introspect(&AccessToken::new(token)).await.unwrap().active
    }
}

fn policy(ttl: u64, max_entries: usize) -> IntrospectionCachePolicy {
    let mut policy = IntrospectionCachePolicy::default();
    policy.ttl = Duration::from_secs(ttl);
    policy.max_entries = max_entries;
    policy
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// An active result is kept until the token's `exp` when that comes before the TTL.
pub async fn kept_until_exp(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(60, 100));
    h.delegate.set("t", Answer::Active(Some(secs(30))));
    assert!(h.active("t").await);
    assert!(h.active("t").await);
    h.time.advance(secs(29));
    assert!(h.active("t").await);
    assert_eq!(h.delegate.requests(), 1);
    h.time.advance(secs(2));
    assert!(h.active("t").await);
    assert_eq!(h.delegate.requests(), 2, "asked again once exp passed");
    assert_eq!(h.cache.hits(), 2);
}

/// The TTL caps a long `exp`, and applies when there is no `exp`.
pub async fn ttl_caps_the_lifetime(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(60, 100));
    h.delegate.set("no-exp", Answer::Active(None));
    for _ in 0..3 {
        assert!(h.active("t").await);
        assert!(h.active("no-exp").await);
    }
    assert_eq!(h.delegate.requests(), 2);
    h.time.advance(secs(61));
    assert!(h.active("t").await);
    assert!(h.active("no-exp").await);
    assert_eq!(h.delegate.requests(), 4);
}

/// Inactive results are kept too, for the TTL.
pub async fn inactive_results_are_kept(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(60, 100));
    h.delegate.set("revoked", Answer::Inactive);
    for _ in 0..5 {
        assert!(!h.active("revoked").await);
    }
    assert_eq!(h.delegate.requests(), 1);
    h.time.advance(secs(61));
    assert!(!h.active("revoked").await);
    assert_eq!(h.delegate.requests(), 2);
}

/// Errors are not kept, and an active result whose `exp` has passed is not kept either.
pub async fn errors_and_expired_results_are_not_kept(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(60, 100));
    h.delegate.set("t", Answer::Fail);
    assert!(h.cache.introspect(&AccessToken::new("t")).await.is_err());
    h.delegate.set("t", Answer::Active(Some(secs(600))));
    assert!(h.active("t").await);
    assert_eq!(h.delegate.requests(), 2, "the failure was not kept");
    h.delegate.set("late", Answer::ActiveButExpired);
    assert!(h.active("late").await);
    assert!(h.active("late").await);
    assert_eq!(h.delegate.requests(), 4, "an already expired result is not kept");
}

/// `n` concurrent callers for one token and a few for another: one request per token.
pub async fn one_request_per_token(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(60, 100));
    h.delegate.close();
    let done = Arc::new(AtomicUsize::new(0));
    let n = 1_000;
    for i in 0..n + 10 {
        let (cache, done) = (h.cache.clone(), done.clone());
        let token = if i < n { "popular" } else { "other" };
        h.spawner
            .spawn(Box::pin(async move {
                assert!(cache.introspect(&AccessToken::new(token)).await.unwrap().active);
                done.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
    }
    wait_for("both requests to start", || h.delegate.requests() == 2).await;
    assert_eq!(done.load(Ordering::SeqCst), 0);
    h.delegate.open();
    wait_for("every caller", || done.load(Ordering::SeqCst) == n + 10).await;
    assert_eq!(h.delegate.requests(), 2, "one request per token for {} callers", n + 10);
}

/// The caller that started a request leaving does not cancel it: its result is kept.
pub async fn a_leaving_caller_cancels_nothing(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(60, 100));
    h.delegate.close();
    assert!(poll_once(h.cache.introspect(&AccessToken::new("t"))).is_none(), "held");
    wait_for("the request to start", || h.delegate.requests() == 1).await;
    h.delegate.open();
    wait_for("the result to be kept", || h.cache.storage().len() == 1).await;
    assert!(h.active("t").await);
    assert_eq!(h.delegate.requests(), 1);
}

/// At most `max_entries` results are kept; an evicted token is asked about again.
pub async fn the_size_is_bounded(spawner: Arc<dyn Runtime>, customize: &Customize) {
    let h = Harness::new(spawner, customize, policy(600, 50));
    for i in 0..500 {
        assert!(h.active(&format!("token-{i}")).await);
    }
    assert!(h.cache.storage().len() <= 50, "kept {}", h.cache.storage().len());
    assert!(h.active("token-0").await);
    assert_eq!(h.delegate.requests(), 501, "the first token was evicted");
    // The cache's Debug shows no token.
    assert!(!format!("{:?}", h.cache).contains("token-"));
}

/// Runs the whole suite as tests of the calling crate: its test attribute, its spawner and how
/// it customises the builder. See the [module documentation](self).
#[macro_export]
macro_rules! caching_introspection_suite {
    ($test:meta, $spawner:expr, $customize:expr) => {
        mod caching_introspection_suite {
            use super::*;

            #[allow(clippy::redundant_closure_call)]
            fn parts() -> (
                ::std::sync::Arc<dyn ::oauth2_kit::runtime::Runtime>,
                ::std::boxed::Box<$crate::introspection_suite::Customize>,
            ) {
                ($spawner, ::std::boxed::Box::new($customize))
            }

            $crate::caching_introspection_suite!(@checks $test, parts;
                kept_until_exp, ttl_caps_the_lifetime, inactive_results_are_kept,
                errors_and_expired_results_are_not_kept, one_request_per_token,
                a_leaving_caller_cancels_nothing, the_size_is_bounded);
        }
    };
    (@checks $test:meta, $parts:ident; $($check:ident),* $(,)?) => {
        $(
            #[$test]
            async fn $check() {
                let (s, c) = $parts();
                $crate::introspection_suite::$check(s, &*c).await;
            }
        )*
    };
}
