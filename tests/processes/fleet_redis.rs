//! Fleet-wide token sharing on a real Redis (`redis-server` on 127.0.0.1, a free port, started
//! and stopped by each test) against the testkit server: one token request per token lifetime
//! for a fleet of independent providers, a lease holder killed mid-fetch, Redis stopped and
//! restarted mid-run. Figures are printed (`--nocapture`) for docs/fleet-cache.md.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2_kit::cache::{CachePolicy, CachingProvider, SharedOptions};
use oauth2_kit::http::HttpClient;
use oauth2_kit::{AccessTokenProvider, ClientCredentials, Scope, TokenResponse};
use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
use oauth2_kit_cache_redis::{EncryptionKey, RedisTokenStore};
use oauth2_kit_testkit::{RedisServer, Route, TestClient, TestServer};

/// Lifetimes short enough for a test: a 4 s token is refreshed at about 2.8-3.0 s and usable
/// until 3.6 s.
fn short_policy() -> CachePolicy {
    let mut policy = CachePolicy::default();
    policy.hard_margin_ratio = 0.1;
    policy.hard_margin_min = Duration::from_millis(200);
    policy.refresh_lead_ratio = 0.25;
    policy.transient_error_ttl = Duration::from_millis(200);
    policy.backoff_initial = Duration::from_millis(50);
    policy.backoff_max = Duration::from_millis(500);
    policy
}

const LIFETIME: Duration = Duration::from_secs(4);

struct Fleet {
    server: TestServer,
    instances: Vec<CachingProvider>,
}

fn client(server: &TestServer, http: Arc<dyn HttpClient>) -> ClientCredentials {
    OAuth2Client::new(server.authorization_server(), ClientAuth::new("fleet", "fleet-secret"), http)
        .client_credentials()
        .unwrap()
}

/// `n` independent instances (own HTTP client, own in-process cache, own Redis connection).
fn fleet(n: usize, redis: Option<(&RedisServer, &EncryptionKey)>, lifetime: Duration) -> Fleet {
    let server = TestServer::builder()
        .client(TestClient::new("fleet", "fleet-secret").token_lifetime(lifetime))
        .start()
        .unwrap();
    let instances = (0..n)
        .map(|_| {
            let http: Arc<dyn HttpClient> = Arc::new(oauth2_kit_reqwest::ReqwestClient::new().unwrap());
            let builder = oauth2_kit_cache_tokio::builder(client(&server, http)).policy(short_policy());
            match redis {
                Some((redis, key)) => {
                    let store = RedisTokenStore::builder(redis.url(), key.clone()).build().unwrap();
                    let options = SharedOptions::default()
                        .with_lease_ttl(Duration::from_secs(2))
                        .with_poll_interval(Duration::from_millis(20));
                    builder.shared_store(Arc::new(store), options).build()
                }
                None => builder.build(),
            }
        })
        .collect();
    Fleet { server, instances }
}

/// Outcome of a run of many callers.
#[derive(Debug, Default)]
struct Run {
    calls: usize,
    errors: usize,
    tokens: HashSet<String>,
}

/// `callers` tasks per instance call `request_token` every 10 ms for `duration`.
async fn run(fleet: &Fleet, callers: usize, duration: Duration) -> Run {
    run_instances(&fleet.instances, callers, duration).await
}

/// [`run`] over these instances.
async fn run_instances(instances: &[CachingProvider], callers: usize, duration: Duration) -> Run {
    let outcome = Arc::new(Mutex::new(Run::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for instance in instances {
        for _ in 0..callers {
            let (instance, outcome, stop) = (instance.clone(), outcome.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let result: oauth2_kit::Result<TokenResponse> =
                        instance.request_token(None::<&Scope>).await;
                    {
                        let mut outcome = outcome.lock().unwrap();
                        outcome.calls += 1;
                        match result {
                            Ok(token) => {
                                outcome.tokens.insert(token.access_token().expose_secret().to_owned());
                            }
                            Err(error) => {
                                outcome.errors += 1;
                                println!("caller error: {error}");
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }));
        }
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(outcome).unwrap().into_inner().unwrap()
}

/// How many refresh cycles a run of `duration` spans at most (a token is replaced every
/// 2.8-3.0 s of its 4 s life), counting the first fetch.
fn max_cycles(duration: Duration) -> usize {
    1 + (duration.as_secs_f64() / 2.8).ceil() as usize
}

/// The environment a replica process reads.
const REPLICA_REDIS: &str = "OAUTH2_KIT_FLEET_REDIS";
const REPLICA_TOKEN_URL: &str = "OAUTH2_KIT_FLEET_TOKEN_URL";
const REPLICA_KEY: &str = "OAUTH2_KIT_FLEET_KEY";
const REPLICA_MILLIS: &str = "OAUTH2_KIT_FLEET_MILLIS";

/// One replica's instance: its own HTTP client, in-process cache and Redis connection.
fn replica(token_endpoint: oauth2_kit::Endpoint, redis_url: &str, key: EncryptionKey) -> CachingProvider {
    let http: Arc<dyn HttpClient> = Arc::new(oauth2_kit_reqwest::ReqwestClient::new().unwrap());
    let client = OAuth2Client::new(
        AuthorizationServer::new().token(token_endpoint),
        ClientAuth::new("fleet", "fleet-secret"),
        http,
    )
    .client_credentials()
    .unwrap();
    let store = RedisTokenStore::builder(redis_url, key).build().unwrap();
    let options = SharedOptions::default()
        .with_lease_ttl(Duration::from_secs(2))
        .with_poll_interval(Duration::from_millis(20));
    oauth2_kit_cache_tokio::builder(client)
        .policy(short_policy())
        .shared_store(Arc::new(store), options)
        .build()
}

/// A token as a replica reports it: a hash, never the token.
fn token_tag(token: &str) -> String {
    use std::hash::{BuildHasher as _, BuildHasherDefault};
    format!(
        "{:016x}",
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(token)
    )
}

/// Ten replicas as ten OS processes, as a fleet is deployed (this test binary started ten
/// times, each running `fleet_replica_child`: own runtime, HTTP client, cache and Redis
/// connection), sharing one Redis: one token request per token lifetime for the whole fleet,
/// each coming alone, and every replica using the one token of each cycle. Then ten instances
/// without Redis, in this process, for comparison.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_ten_processes_makes_one_token_request_per_lifetime() {
    use base64::Engine as _;
    let redis = RedisServer::start().unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode([0x5a_u8; 32]);
    let duration = LIFETIME * 3;
    let server = TestServer::builder()
        .client(TestClient::new("fleet", "fleet-secret").token_lifetime(LIFETIME))
        .start()
        .unwrap();
    // Watch the token endpoint's counter: every token request of the fleet must come alone,
    // a refresh cycle (2.8 s or more) after the previous one.
    let steps = Arc::new(Mutex::new(Vec::<(std::time::Instant, usize)>::new()));
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (log, watching) = (steps.clone(), watching.clone());
        let counter = server.requests_counter(Route::Token);
        std::thread::spawn(move || {
            let mut last = 0;
            while watching.load(Ordering::Relaxed) {
                let now = counter();
                if now != last {
                    #[allow(clippy::disallowed_methods)] // spacing between server events, not our clock
                    log.lock().unwrap().push((std::time::Instant::now(), now - last));
                    last = now;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let children: Vec<_> = (0..10)
        .map(|_| {
            oauth2_kit_test_support::child_test("fleet_redis::fleet_replica_child")
                .env(REPLICA_REDIS, redis.url())
                .env(REPLICA_TOKEN_URL, server.token_endpoint().to_string())
                .env(REPLICA_KEY, &key)
                .env(REPLICA_MILLIS, duration.as_millis().to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|child| oauth2_kit_test_support::passed("fleet_redis::fleet_replica_child", child))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    watching.store(false, Ordering::Relaxed);
    watcher.join().unwrap();
    let requests = server.requests(Route::Token);
    let steps = steps.lock().unwrap().clone();
    assert!(steps.iter().all(|(_, added)| *added == 1), "token requests came in bunches: {steps:?}");
    for pair in steps.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_secs(2), "two token requests in one lifetime ({gap:?} apart)");
    }
    // Each replica reports "fleet-replica calls=N shared_hits=H tokens=tag,tag,...".
    let mut calls = 0;
    let mut shared_hits = 0;
    let mut tokens = HashSet::new();
    for output in &outputs {
        // (libtest may have written "test fleet_replica_child ... " on the same line first.)
        let line = output.lines().find_map(|l| l.split_once("fleet-replica ")).expect("a replica's report").1;
        for field in line.split_whitespace() {
            match field.split_once('=') {
                Some(("calls", n)) => calls += n.parse::<usize>().unwrap(),
                Some(("shared_hits", n)) => shared_hits += n.parse::<u64>().unwrap(),
                Some(("tokens", list)) => tokens.extend(list.split(',').map(str::to_owned)),
                _ => {}
            }
        }
    }

    let alone = fleet(10, None, LIFETIME);
    let without_redis = run(&alone, 20, duration).await;
    let alone_requests = alone.server.requests(Route::Token);

    let cycles = max_cycles(duration);
    println!(
        "fleet of 10 processes, 20 callers each, {duration:?} of {LIFETIME:?} tokens: with Redis {requests} token \
         requests ({calls} calls, {} distinct tokens), without Redis (10 instances in one process) \
         {alone_requests} ({} calls); at most {cycles} refresh cycles",
        tokens.len(),
        without_redis.calls
    );
    assert_eq!(without_redis.errors, 0);
    assert!(requests <= cycles, "one request per cycle for the fleet: {requests} > {cycles}");
    assert!(requests >= 3, "the tokens were refreshed: {requests}");
    assert_eq!(tokens.len(), requests, "every replica used the one token of each cycle");
    assert!(alone_requests >= 10 * 3, "without Redis each instance fetches: {alone_requests}");
    assert!(shared_hits >= 9 * 3, "the others took the shared token: {shared_hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "one replica of a_fleet_of_ten_processes_makes_one_token_request_per_lifetime, which starts it ten times with the Redis and server it needs"]
async fn fleet_replica_child() {
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent test"));
    let key = EncryptionKey::from_base64(&env(REPLICA_KEY)).unwrap();
    let instance = replica(env(REPLICA_TOKEN_URL).parse().unwrap(), &env(REPLICA_REDIS), key);
    let duration = Duration::from_millis(env(REPLICA_MILLIS).parse().unwrap());
    let outcome = run_instances(std::slice::from_ref(&instance), 20, duration).await;
    assert_eq!(outcome.errors, 0, "no caller of this replica saw an error");
    let tags: Vec<String> = outcome.tokens.iter().map(|token| token_tag(token)).collect();
    println!(
        "fleet-replica calls={} shared_hits={} tokens={}",
        outcome.calls,
        instance.metrics().shared_hits,
        tags.join(",")
    );
}

/// A delegate that hangs (never answers) once told to, counting the requests it holds.
struct Hanging {
    inner: ClientCredentials,
    hang: AtomicBool,
    held: AtomicUsize,
}

#[oauth2_kit::async_trait]
impl AccessTokenProvider for Hanging {
    async fn request_token(&self, scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        if self.hang.load(Ordering::SeqCst) {
            self.held.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        self.inner.request_token(scope).await
    }

    fn cache_identity(&self) -> Option<String> {
        self.inner.cache_identity()
    }
}

#[test]
fn a_lease_holder_killed_mid_fetch_costs_one_lease_time_and_no_error() {
    let redis = RedisServer::start().unwrap();
    let key = EncryptionKey::generate().unwrap();
    // A 10 s token: refreshed from 7.0-7.5 s, usable until 9 s. The lease: 1 s.
    let lifetime = Duration::from_secs(10);
    let server = TestServer::builder()
        .client(TestClient::new("fleet", "fleet-secret").token_lifetime(lifetime))
        .start()
        .unwrap();
    let mut policy = short_policy();
    policy.jitter_ratio = 0.0;
    let options = SharedOptions::default()
        .with_lease_ttl(Duration::from_secs(1))
        .with_poll_interval(Duration::from_millis(20));
    let instance = |runtime: &tokio::runtime::Runtime, delegate: Arc<dyn AccessTokenProvider>| {
        let _entered = runtime.enter();
        let store = RedisTokenStore::builder(redis.url(), key.clone()).build().unwrap();
        CachingProvider::builder(delegate, Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()))
            .policy(policy.clone())
            .shared_store(Arc::new(store), options.clone())
            .build()
    };
    let http = || -> Arc<dyn HttpClient> { Arc::new(oauth2_kit_reqwest::ReqwestClient::new().unwrap()) };

    let runtime_a = tokio::runtime::Runtime::new().unwrap();
    let hanging = Arc::new(Hanging {
        inner: client(&server, http()),
        hang: AtomicBool::new(false),
        held: AtomicUsize::new(0),
    });
    let a = instance(&runtime_a, hanging.clone());
    let runtime_b = tokio::runtime::Runtime::new().unwrap();
    let b = instance(&runtime_b, Arc::new(client(&server, http())));

    let first = runtime_a.block_on(a.request_token(None)).unwrap();
    let same = runtime_b.block_on(b.request_token(None)).unwrap();
    assert_eq!(first.access_token(), same.access_token(), "B read A's token from Redis");
    assert_eq!(server.requests(Route::Token), 1);

    // Into the stale window: A refreshes first, takes the lease, and hangs.
    std::thread::sleep(Duration::from_millis(7_600));
    hanging.hang.store(true, Ordering::SeqCst);
    runtime_a.block_on(a.request_token(None)).unwrap();
    for _ in 0..500 {
        if hanging.held.load(Ordering::SeqCst) == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(hanging.held.load(Ordering::SeqCst), 1, "A holds the lease and hangs");
    // A dies: its task is dropped with its runtime; the lease stays until it runs out.
    runtime_a.shutdown_background();

    // B's callers keep getting the (stale, usable) token; B's refresh waits out the lease,
    // then fetches itself, before the token's hard margin.
    let renewed = runtime_b.block_on(async {
        for _ in 0..100 {
            let token = b.request_token(None).await.expect("no caller error before the hard margin");
            if token.access_token() != first.access_token() {
                return Some(token);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    });
    assert!(renewed.is_some(), "B fetched a new token within ~one lease time");
    assert_eq!(server.requests(Route::Token), 2, "A's hung request never reached the server");
    println!(
        "lease holder killed: B renewed after the lease ran out; {} token requests",
        server.requests(Route::Token)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_mid_run() {
    let mut redis = RedisServer::start().unwrap();
    let key = EncryptionKey::generate().unwrap();
    let fleet = fleet(5, Some((&redis, &key)), LIFETIME);
    let phase = LIFETIME * 2;

    let before = run(&fleet, 10, phase).await;
    let shared_before = fleet.server.requests(Route::Token);

    redis.stop();
    fleet.server.reset_counts();
    let outage = run(&fleet, 10, phase).await;
    let during = fleet.server.requests(Route::Token);

    redis.restart().unwrap();
    fleet.server.reset_counts();
    // Let a cycle pass so every instance's connection is back and the old tokens are replaced.
    let settle = run(&fleet, 10, LIFETIME).await;
    fleet.server.reset_counts();
    let after = run(&fleet, 10, phase).await;
    let shared_after = fleet.server.requests(Route::Token);

    println!(
        "5 instances, {phase:?} phases of {LIFETIME:?} tokens: {shared_before} token requests with Redis, \
         {during} while it was down, {shared_after} after it came back"
    );
    assert_eq!(before.errors + outage.errors + settle.errors + after.errors, 0, "no caller-visible error");
    assert!(shared_before <= max_cycles(phase));
    assert!(during >= 5, "each instance fetched for itself: {during}");
    assert!(during <= 5 * max_cycles(phase), "one per instance per lifetime: {during}");
    assert!(shared_after < max_cycles(phase), "back to one per fleet: {shared_after}");
}

#[test]
fn a_fleet_on_async_std() {
    let redis = RedisServer::start().unwrap();
    let key = EncryptionKey::generate().unwrap();
    let server = TestServer::builder()
        .client(TestClient::new("fleet", "fleet-secret").token_lifetime(LIFETIME))
        .start()
        .unwrap();
    // Built outside tokio: Redis I/O on async-io, fetches on async-std, HTTP with isahc.
    let instances: Vec<CachingProvider> = (0..3)
        .map(|_| {
            let http: Arc<dyn HttpClient> = Arc::new(oauth2_kit_isahc::IsahcClient::new().unwrap());
            let store = RedisTokenStore::builder(redis.url(), key.clone()).build().unwrap();
            oauth2_kit_cache_async_std::builder(client(&server, http))
                .policy(short_policy())
                .shared_store(
                    Arc::new(store),
                    SharedOptions::default().with_poll_interval(Duration::from_millis(20)),
                )
                .build()
        })
        .collect();
    let tokens = futures_lite::future::block_on(async {
        let mut tokens = HashSet::new();
        for _ in 0..3 {
            for instance in &instances {
                tokens.insert(
                    instance.request_token(None).await.unwrap().access_token().expose_secret().to_owned(),
                );
            }
        }
        tokens
    });
    assert_eq!(tokens.len(), 1);
    assert_eq!(server.requests(Route::Token), 1, "one token for the three async-std instances");
}
