//! Allocations on the bearer client's fresh path, counted by a global allocator: finding the
//! cached token and attaching its header allocate nothing (the header value is built once per
//! token); sending through `BearerClient` adds its one boxed future, and nothing more with
//! retries on (the copy kept for a retry goes into pooled buffers).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use oauth2_kit::bearer::{BearerAuth, BearerClient, RequestTarget};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Scope, SystemClock, TokenResponse, TokenType,
};

/// Allocations made by `f` on this thread (`allocation-counter` replaces the global allocator
/// of this test binary).
fn allocations<T>(f: impl FnOnce() -> T) -> u64 {
    let mut out = None;
    let info = allocation_counter::measure(|| out = Some(f()));
    drop(out);
    info.count_total
}

struct NoOp;

#[oauth2_kit::async_trait]
impl HttpClient for NoOp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        assert!(request.headers().get(AUTHORIZATION).is_none_or(|v| v.is_sensitive()));
        Ok(http::Response::new(Bytes::new()))
    }
}

struct OneToken;

#[oauth2_kit::async_trait]
impl AccessTokenProvider for OneToken {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        let token = TokenResponse::new(AccessToken::new("a-token"), TokenType::Bearer, SystemClock.now());
        Ok(token.with_expires_in(Some(Duration::from_secs(3600))))
    }
}

fn request() -> HttpRequest {
    http::Request::get("https://api.example.com/v1/orders?page=2")
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, "test/1.0")
        .body(Bytes::new())
        .unwrap()
}

fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fresh path never waits"),
    }
}

#[test]
fn the_fresh_path_allocates_nothing_for_the_token_or_its_header() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _context = runtime.enter();
    let tokens = oauth2_kit_cache_tokio::caching(OneToken);
    runtime.block_on(tokens.get(None)).unwrap();
    let with_retry = BearerClient::new(NoOp, BearerAuth::new(tokens.clone(), None));
    let without_retry =
        BearerClient::new(NoOp, BearerAuth::builder(tokens).retry_unauthorized(false).build());
    // Warm up: the header value is built on the first use of each token replica.
    for _ in 0..64 {
        now(with_retry.send(request())).unwrap();
    }

    // The bearer logic itself: origin check, cached token, header attached.
    let mut r = request();
    let auth = with_retry.auth();
    let attach = allocations(|| {
        let authorization = auth.try_authorize(RequestTarget::from_uri(r.uri()).unwrap()).unwrap().unwrap();
        authorization.apply(r.headers_mut());
    });
    assert_eq!(attach, 0, "finding the token and attaching its header allocate nothing");
    assert_eq!(r.headers()[AUTHORIZATION], "Bearer a-token");

    let bare = allocations(|| now(NoOp.send(request())).unwrap());
    let no_retry = allocations(|| now(without_retry.send(request())).unwrap());
    let retry = allocations(|| now(with_retry.send(request())).unwrap());
    assert_eq!(no_retry, bare + 1, "one boxed future of its own");
    assert_eq!(retry, no_retry, "the copy kept for a retry reuses pooled buffers");
    // For the record (docs/performance.md): `cargo test --test bearer_allocations -- --nocapture`.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("allocations per request: bare {bare}, bearer without retry {no_retry}, bearer {retry}");
    }
}
