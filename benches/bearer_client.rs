//! The bearer client's cost per request: the same request sent through a bare no-op
//! `HttpClient` and through a `BearerClient` wrapping it, with a fresh token in a tokio caching
//! provider. The difference is the bearer logic: the origin check, the cached token and its
//! prebuilt header value, and (with retries on, the default) the copy of the request kept for a
//! retry after a rejected token (into pooled buffers). Requests are built outside the timed
//! part.
//!
//! ```text
//! cargo bench --bench bearer_client
//! python3 scripts/bench_ratio.py bearer_client bare
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use oauth2_kit::http::HttpClient;

#[path = "support/bearer.rs"]
mod support;

use support::{NoOp, clients, now, request};

fn bearer_client(c: &mut Criterion) {
    let (runtime, with_retry, without_retry) = clients();
    let _context = runtime.enter();
    let bare: Arc<dyn HttpClient> = Arc::new(NoOp);

    // Both work, and the bearer client sends the header.
    assert_eq!(now(bare.send(request())).unwrap().status(), 200);
    assert_eq!(now(with_retry.execute(request())).unwrap().status(), 200);

    let mut group = c.benchmark_group("bearer_client");
    let small = BatchSize::SmallInput;
    group.bench_function("bare", |b| b.iter_batched(request, |r| now(NoOp.send(r)).unwrap(), small));
    group.bench_function("bearer", |b| b.iter_batched(request, |r| now(with_retry.send(r)).unwrap(), small));
    group.bench_function("bearer_execute", |b| {
        b.iter_batched(request, |r| now(with_retry.execute(r)).unwrap(), small)
    });
    group.bench_function("bearer_no_retry", |b| {
        b.iter_batched(request, |r| now(without_retry.send(r)).unwrap(), small)
    });
    group.finish();
}

criterion_group!(benches, bearer_client);
criterion_main!(benches);
