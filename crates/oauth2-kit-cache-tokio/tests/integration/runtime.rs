//! The tokio binding itself: no panic outside a runtime, real sleeps, and a real HTTP client.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use oauth2_kit::runtime::Runtime;
use oauth2_kit::{AccessTokenProvider, Error, SystemClock};
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_cache_tokio::TokioRuntime;
use oauth2_kit_testkit::{Route, ScriptedProvider, TestServer};

#[test]
fn outside_a_runtime_nothing_panics() {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    let provider = oauth2_kit_cache_tokio::caching(delegate.clone());
    let result = futures_lite::future::block_on(provider.get(None));
    match result {
        Err(Error::Config(error)) => {
            assert_eq!(error.kind(), oauth2_kit::ConfigErrorKind::NoRuntime);
            assert!(error.to_string().contains("no async runtime"), "{error}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert_eq!(delegate.requests(), 0);
}

#[test]
fn built_outside_used_inside_a_runtime() {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    let provider = oauth2_kit_cache_tokio::caching(delegate.clone());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = runtime.block_on(provider.get(None)).unwrap();
    assert_eq!(token.access_token().expose_secret(), "token-1");
}

#[tokio::test]
async fn sleeps_for_real() {
    let runtime = TokioRuntime::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    runtime
        .spawn(Box::pin(async move {
            TokioRuntime::new().sleep(Duration::from_millis(20)).await;
            let _ = tx.send(());
        }))
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), rx).await.unwrap().unwrap();
}

#[tokio::test]
async fn hundred_calls_one_token_request_over_http() {
    let server = TestServer::start().unwrap();
    let http = oauth2_kit_reqwest::ReqwestClient::new().unwrap();
    let client = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new("testkit-client", "testkit-secret"),
        http,
    )
    .client_credentials()
    .unwrap();
    let provider: Arc<dyn AccessTokenProvider> = Arc::new(oauth2_kit_cache_tokio::caching(client));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let provider = provider.clone();
        tasks.push(tokio::spawn(async move { provider.request_token(None).await.map(|_| ()) }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.requests(Route::Token), 1);
}

/// The system clocks, with the wall clock moved by `ahead` seconds (negative: behind): the real
/// coarse clocks of the fresh path (`CLOCK_MONOTONIC_COARSE`, `CLOCK_REALTIME_COARSE` on Linux)
/// are read as they are, only shifted, as after a resume or a clock set back.
#[derive(Debug, Default)]
struct Shifted {
    ahead: std::sync::atomic::AtomicI64,
}

impl Shifted {
    fn shift(&self, wall: std::time::SystemTime) -> std::time::SystemTime {
        let ahead = self.ahead.load(std::sync::atomic::Ordering::SeqCst);
        let by = Duration::from_secs(ahead.unsigned_abs());
        if ahead >= 0 { wall + by } else { wall - by }
    }
}

impl oauth2_kit::Clock for Shifted {
    fn now(&self) -> std::time::Instant {
        SystemClock.now()
    }
    fn system_time(&self) -> std::time::SystemTime {
        self.shift(SystemClock.system_time())
    }
    fn now_coarse(&self) -> (std::time::Instant, std::time::SystemTime) {
        let (now, wall) = SystemClock.now_coarse();
        (now, self.shift(wall))
    }
}

/// Wall-clock jumps on the real coarse-clock path (the cached read): forward past the token's
/// life, it is dropped there and then; back, it is kept to its monotonic end.
#[test]
fn wall_clock_jumps_on_the_real_coarse_clocks() {
    use oauth2_kit::Clock as _;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    let clock = Arc::new(Shifted::default());
    let delegate = ScriptedProvider::new(clock.clone());
    let provider = oauth2_kit_cache_tokio::builder(delegate.clone()).clock(clock.clone()).build();
    runtime.block_on(provider.get(None)).unwrap();
    let fresh = |provider: &oauth2_kit::cache::CachingProvider| {
        provider.try_get(None).map(|t| t.access_token().expose_secret().to_owned())
    };
    assert_eq!(fresh(&provider).as_deref(), Some("token-1"));
    // Set back a day: still token-1, on the fresh path, without a request.
    clock.ahead.store(-24 * 3600, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(fresh(&provider).as_deref(), Some("token-1"));
    // Forward two hours past now (a resume after a suspend): token-1's life is over by the
    // wall clock, though the monotonic one barely moved.
    clock.ahead.store(2 * 3600, std::sync::atomic::Ordering::SeqCst);
    assert!(clock.now_coarse().1 > SystemClock.system_time(), "the shifted coarse wall clock is read");
    assert_eq!(fresh(&provider), None, "not served on the fresh path");
    let token = runtime.block_on(provider.get(None)).unwrap();
    assert_eq!(token.access_token().expose_secret(), "token-2");
    assert_eq!(fresh(&provider).as_deref(), Some("token-2"));
    assert_eq!(delegate.requests(), 2);
}

/// A runtime shut down while an introspection runs aborts it: the caller waiting on it gets
/// `FetchAborted` (not panicked), as a token fetch does, instead of waiting forever.
#[test]
fn a_runtime_shut_down_mid_introspection_aborts_it() {
    use std::sync::atomic::{AtomicBool, Ordering};

    use oauth2_kit::{AccessToken, IntrospectionResponse, TokenIntrospection};

    /// Answers never; says when it was asked.
    struct Never(Arc<AtomicBool>);

    #[oauth2_kit::async_trait]
    impl TokenIntrospection for Never {
        async fn introspect(&self, _: &AccessToken) -> oauth2_kit::Result<IntrospectionResponse> {
            self.0.store(true, Ordering::SeqCst);
            std::future::pending().await
        }
    }

    let asked = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cache = {
        let _inside = runtime.enter();
        oauth2_kit_cache_tokio::caching_introspection(Never(asked.clone()))
    };
    let token = AccessToken::new("t");
    let mut waiting = Box::pin(cache.introspect(&token));
    {
        let _inside = runtime.enter();
        let first = futures_lite::future::block_on(futures_lite::future::poll_once(&mut waiting));
        assert!(first.is_none(), "the introspection is under way");
    }
    while !asked.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    drop(runtime);
    let result = futures_lite::future::block_on(waiting);
    assert!(matches!(result, Err(Error::FetchAborted { panicked: false, .. })), "{result:?}");
}
