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

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::header::{ACCEPT, USER_AGENT};
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Scope, SystemClock, TokenResponse, TokenType,
};

/// Answers `200` with an empty body at once.
struct NoOp;

#[oauth2_kit::async_trait]
impl HttpClient for NoOp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        black_box(&request);
        Ok(http::Response::new(Bytes::new()))
    }
}

struct OneToken;

#[oauth2_kit::async_trait]
impl AccessTokenProvider for OneToken {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        let token =
            AccessToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg");
        Ok(TokenResponse::new(token, TokenType::Bearer, SystemClock.now())
            .with_expires_in(Some(Duration::from_secs(3600))))
    }
}

/// A typical API request: an absolute https URI and two headers.
fn request() -> HttpRequest {
    http::Request::get(http::Uri::from_static("https://api.example.com/v1/orders?page=2"))
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, "bench/1.0")
        .body(Bytes::new())
        .unwrap()
}

/// Polls a future that completes without waiting (a cached token, a no-op client) once.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fresh path never waits"),
    }
}

fn bearer_client(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let _context = runtime.enter();
    let tokens = oauth2_kit_cache_tokio::caching(OneToken);
    runtime.block_on(tokens.get(None)).unwrap();
    let with_retry = BearerClient::new(NoOp, BearerAuth::new(tokens.clone(), None));
    let without_retry =
        BearerClient::new(NoOp, BearerAuth::builder(tokens).retry_unauthorized(false).build());
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
