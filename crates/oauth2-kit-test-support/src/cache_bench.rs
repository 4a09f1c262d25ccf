//! The caching benchmarks every cache crate runs (each crate's `benches/cached_get.rs` calls
//! [`run`], so the three measure exactly the same thing).
//!
//! - `baseline`: an `ArcSwap` load, `Instant::now()` and a `HeaderValue` clone: the least a
//!   cached read can do.
//! - `cached_get/1_thread`: a fresh-path `get`, polled once.
//! - `cached_get/2_threads`: the same on two threads at once; the figure is the time per get on
//!   each thread.
//! - `herd_release/10000`: from the moment the one fetch returns to the moment all 10,000
//!   waiting callers have the token.

#![allow(clippy::disallowed_methods)] // measurement: Instant::now is the point

use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::Criterion;
use http::HeaderValue;
use oauth2_kit::cache::CachingProvider;
use oauth2_kit::runtime::Runtime;
use oauth2_kit::{AccessTokenProvider, Scope, SystemClock};
use oauth2_kit_testkit::ScriptedProvider;

/// Builds the provider under test over a delegate.
pub type Make<'a> = &'a dyn Fn(Arc<dyn AccessTokenProvider>) -> CachingProvider;

#[inline(always)]
fn poll_now<F: std::future::Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the cached path must not wait"),
    }
}

/// A provider with a fresh token cached for `scope`.
fn warm(make: Make<'_>, scope: &Scope) -> CachingProvider {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    let provider = make(delegate);
    let (tx, rx) = mpsc::channel();
    let warming = provider.clone();
    let scope = scope.clone();
    std::thread::spawn(move || {
        // Any executor will do for one fetch: the provider spawns it on its own runtime.
        let result = futures_block_on(async move { warming.get(Some(&scope)).await.map(|_| ()) });
        tx.send(result).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("warm-up").expect("a token");
    provider
}

fn futures_block_on<F: std::future::Future>(future: F) -> F::Output {
    // A minimal executor: park the thread between polls.
    struct Unparker(std::thread::Thread);
    impl std::task::Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return output;
        }
        std::thread::park_timeout(Duration::from_millis(10));
    }
}

/// Runs every caching benchmark for one binding.
pub fn run(c: &mut Criterion, make: Make<'_>, spawner: Arc<dyn Runtime>) {
    let scope: Scope = "read write".parse().unwrap();
    let provider = warm(make, &scope);

    let mut group = c.benchmark_group("cached_get");
    // A header value built at run time (as a bearer client builds one per token), so that its
    // clone bumps a reference count, as a cached token's does.
    let header = HeaderValue::from_str(&format!("Bearer {}", "abcdefghij".repeat(4))).unwrap();
    let swap = ArcSwap::from_pointee(header);
    group.bench_function("baseline", |b| {
        b.iter(|| {
            let guard = swap.load();
            black_box(Instant::now());
            black_box(HeaderValue::clone(&guard))
        })
    });
    group.bench_function("1_thread", |b| b.iter(|| black_box(poll_now(provider.get(Some(&scope))).unwrap())));
    group.bench_function("2_threads", |b| {
        b.iter_custom(|iters| {
            let barrier = Arc::new(Barrier::new(2));
            let other = {
                let (provider, scope, barrier) = (provider.clone(), scope.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..iters {
                        black_box(poll_now(provider.get(Some(&scope))).unwrap());
                    }
                })
            };
            barrier.wait();
            let start = Instant::now();
            for _ in 0..iters {
                black_box(poll_now(provider.get(Some(&scope))).unwrap());
            }
            let mine = start.elapsed();
            other.join().unwrap();
            mine
        })
    });
    group.finish();

    let mut group = c.benchmark_group("herd_release");
    group.sample_size(10);
    group.bench_function("10000", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += herd_release(make, &spawner, 10_000);
            }
            total
        })
    });
    group.finish();
}

/// `n` callers wait for a held fetch; the time from letting it through to the last caller
/// having its token.
fn herd_release(make: Make<'_>, spawner: &Arc<dyn Runtime>, n: usize) -> Duration {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    delegate.close();
    let provider = make(delegate.clone());
    let done = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel::<Instant>();
    for _ in 0..n {
        let (provider, done, tx) = (provider.clone(), done.clone(), tx.clone());
        spawner
            .spawn(Box::pin(async move {
                provider.get(None).await.unwrap();
                if done.fetch_add(1, Ordering::SeqCst) + 1 == n {
                    tx.send(Instant::now()).unwrap();
                }
            }))
            .unwrap();
    }
    while provider.metrics().misses < n as u64 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let released = Instant::now();
    delegate.open();
    let last = rx.recv_timeout(Duration::from_secs(60)).expect("every caller gets the token");
    last - released
}
