//! Soak: many tasks, short-lived tokens and random faults at the token endpoint, for a bounded
//! time (`SOAK_SECONDS`, default 20 per runtime), on tokio and on async-std. No deadlock (every
//! task ends), no task left behind, memory flat, token requests within the expected count.
//! Figures are printed (`--nocapture`) for docs/reliability.md.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use oauth2_kit::cache::{CachePolicy, CachingProvider};
use oauth2_kit::http::HttpClient;
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit::{ClientCredentials, RetryPolicy};
use oauth2_kit_testkit::{Fault, Route, TestClient, TestServer};

const LIFETIME: Duration = Duration::from_secs(3);
const PROVIDERS: usize = 4;
const TASKS_PER_PROVIDER: usize = 50;

/// The testkit server both runs use: one client whose tokens live `LIFETIME`.
fn soak_server() -> Arc<TestServer> {
    Arc::new(
        TestServer::builder()
            .client(TestClient::new("soak", "soak-secret").token_lifetime(LIFETIME))
            .start()
            .unwrap(),
    )
}

fn seconds() -> u64 {
    std::env::var("SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20)
}

fn policy() -> CachePolicy {
    let mut policy = CachePolicy::default();
    policy.hard_margin_min = Duration::from_millis(200);
    // Refresh at half-life: 1.2 s of background retries before a 3 s token expires.
    policy.refresh_lead_ratio = 0.5;
    policy.transient_error_ttl = Duration::from_millis(200);
    policy.backoff_initial = Duration::from_millis(50);
    policy.backoff_max = Duration::from_millis(500);
    policy.fetch_timeout = Duration::from_secs(5);
    policy
}

/// Resident memory in KiB (Linux), 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|pages| pages.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4)
}

/// A random fault, or none, every 100 ms: 503, a slow answer, a dropped connection, a 429, an
/// HTML page, or a bad body.
fn inject_faults(server: &TestServer, stop: &AtomicBool) -> usize {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut injected = 0;
    while !stop.load(Ordering::Relaxed) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let fault = match state % 10 {
            0 => Some(Fault::status(503)),
            1 => Some(Fault::delayed(Duration::from_millis(300))),
            2 => Some(Fault::close_mid_body("{")),
            3 => Some(Fault::status(429).header("retry-after", "0")),
            4 => Some(Fault::status(502).with_body("<html>bad gateway</html>")),
            5 => Some(Fault::body("{\"access_token\":")),
            _ => None,
        };
        if let Some(fault) = fault {
            server.inject(Route::Token, fault, 1);
            injected += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    server.clear_faults();
    injected
}

#[derive(Debug, Default)]
struct Counts {
    calls: AtomicUsize,
    errors: AtomicUsize,
}

fn providers(
    server: &TestServer,
    http: impl Fn() -> Arc<dyn HttpClient>,
    build: impl Fn(ClientCredentials) -> CachingProvider,
    runtime: Arc<dyn oauth2_kit::runtime::Runtime>,
) -> Vec<CachingProvider> {
    (0..PROVIDERS)
        .map(|_| {
            let client = OAuth2Client::builder(
                server.authorization_server(),
                ClientAuth::new("soak", "soak-secret"),
                http(),
            )
            .retry(RetryPolicy::default().with_backoff(Duration::from_millis(20), Duration::from_millis(200)))
            .runtime(runtime.clone())
            .build()
            .unwrap()
            .client_credentials()
            .unwrap();
            build(client)
        })
        .collect()
}

fn report(runtime: &str, server: &TestServer, counts: &Counts, injected: usize, rss: &[u64], seconds: u64) {
    let calls = counts.calls.load(Ordering::Relaxed);
    let errors = counts.errors.load(Ordering::Relaxed);
    let requests = server.requests(Route::Token);
    println!(
        "soak on {runtime}: {seconds} s, {PROVIDERS} providers x {TASKS_PER_PROVIDER} tasks, {calls} calls, {errors} errors \
         ({:.3}%), {requests} token requests, {injected} faults injected, RSS KiB at 25/50/75/100%: {rss:?}",
        errors as f64 * 100.0 / calls.max(1) as f64
    );
    assert!(calls > 10_000, "the tasks ran: {calls}");
    // Each provider refreshes about every 1.5 s of a 3 s token; with retries behind faults, a
    // few more. Never one per call.
    let cycles = (seconds as f64 / 1.4).ceil() as usize + 1;
    assert!(requests <= PROVIDERS * cycles * 4 + injected, "{requests} token requests");
    assert!(requests >= PROVIDERS * (seconds as usize / 3), "the tokens were refreshed: {requests}");
    // A call fails only when the token expired and its refresh failed (faults on every
    // attempt): the error is then kept briefly (200 ms here), for every caller.
    assert!(errors * 20 <= calls, "at most 5% of calls fail: {errors} of {calls}");
    let (first, last) = (rss[0], rss[rss.len() - 1]);
    // Measured growth: about 0.2 MB; a leak of 10 bytes per call would pass 4 MB in a 20 s run.
    assert!(last <= first + 4 * 1024, "memory grew from {first} KiB to {last} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_on_tokio() {
    let seconds = seconds();
    let server = soak_server();
    let runtime: Arc<dyn oauth2_kit::runtime::Runtime> =
        Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new());
    let http = || -> Arc<dyn HttpClient> {
        Arc::new(
            oauth2_kit_reqwest::ReqwestClient::builder().timeout(Duration::from_secs(2)).build().unwrap(),
        )
    };
    let providers =
        providers(&server, http, |c| oauth2_kit_cache_tokio::builder(c).policy(policy()).build(), runtime);
    let baseline = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let (stop, counts) = (Arc::new(AtomicBool::new(false)), Arc::new(Counts::default()));
    let faults = {
        let (server, stop) = (server.clone(), stop.clone());
        std::thread::spawn(move || inject_faults(&server, &stop))
    };
    let mut tasks = Vec::new();
    for provider in &providers {
        for _ in 0..TASKS_PER_PROVIDER {
            let (provider, stop, counts) = (provider.clone(), stop.clone(), counts.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if provider.get(None).await.is_err() {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    counts.calls.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }));
        }
    }
    let mut rss = Vec::new();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(seconds) / 4).await;
        rss.push(rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let injected = faults.join().unwrap();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(10), task).await.expect("no task deadlocks").unwrap();
    }
    // Background refreshes end too, and with the providers dropped, their HTTP clients'
    // connection tasks: no task is left behind.
    drop(providers);
    let mut alive = usize::MAX;
    for _ in 0..100 {
        alive = tokio::runtime::Handle::current().metrics().num_alive_tasks();
        if alive <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("tokio tasks alive after the soak: {alive} (before: {baseline})");
    assert!(alive <= baseline, "{alive} tasks left (before: {baseline})");
    report("tokio", &server, &counts, injected, &rss, seconds);
}

#[test]
fn soak_on_async_std() {
    let seconds = seconds();
    let server = soak_server();
    let runtime: Arc<dyn oauth2_kit::runtime::Runtime> =
        Arc::new(oauth2_kit_cache_async_std::AsyncStdRuntime);
    let http = || -> Arc<dyn HttpClient> {
        Arc::new(oauth2_kit_isahc::IsahcClient::builder().timeout(Duration::from_secs(2)).build().unwrap())
    };
    let providers = providers(
        &server,
        http,
        |c| oauth2_kit_cache_async_std::builder(c).policy(policy()).build(),
        runtime,
    );
    let (stop, counts) = (Arc::new(AtomicBool::new(false)), Arc::new(Counts::default()));
    let running = Arc::new(AtomicUsize::new(0));
    let faults = {
        let (server, stop) = (server.clone(), stop.clone());
        std::thread::spawn(move || inject_faults(&server, &stop))
    };
    let mut tasks = Vec::new();
    for provider in &providers {
        for _ in 0..TASKS_PER_PROVIDER {
            let (provider, stop, counts, running) =
                (provider.clone(), stop.clone(), counts.clone(), running.clone());
            running.fetch_add(1, Ordering::SeqCst);
            tasks.push(async_std::task::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if provider.get(None).await.is_err() {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    counts.calls.fetch_add(1, Ordering::Relaxed);
                    async_std::task::sleep(Duration::from_millis(5)).await;
                }
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
    }
    let mut rss = Vec::new();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(seconds) / 4);
        rss.push(rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let injected = faults.join().unwrap();
    async_std::task::block_on(async {
        for task in tasks {
            async_std::future::timeout(Duration::from_secs(10), task).await.expect("no task deadlocks");
        }
    });
    assert_eq!(running.load(Ordering::SeqCst), 0, "every task ended");
    report("async-std", &server, &counts, injected, &rss, seconds);
}
