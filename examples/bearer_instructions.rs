//! A measurement harness for `docs/performance.md`: sends 100,000 requests through a bare no-op
//! `HttpClient`, or through a `BearerClient` over it (with or without the retry copy), so that
//! an instruction counter sees the bearer client's cost without the noise of a shared machine.
//!
//! ```text
//! cargo build --release --example bearer_instructions
//! for mode in bare bearer no-retry; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/$mode.out \
//!     target/release/examples/bearer_instructions $mode 2>&1 | grep Collected
//! done
//! ```
//! (instructions per request = difference of the totals / 100,000).

// A measurement tool: it fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use anyhow::bail;
use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Scope, SystemClock, TokenResponse, TokenType,
};

const REQUESTS: usize = 100_000;

struct NoOp;

#[oauth2_kit::async_trait]
impl HttpClient for NoOp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        std::hint::black_box(&request);
        Ok(http::Response::new(Bytes::new()))
    }
}

struct OneToken;

#[oauth2_kit::async_trait]
impl AccessTokenProvider for OneToken {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        let token = AccessToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJl");
        Ok(TokenResponse::new(token, TokenType::Bearer, SystemClock.now())
            .with_expires_in(Some(Duration::from_secs(3600))))
    }
}

/// The request of `benches/bearer_client.rs`.
fn request() -> HttpRequest {
    http::Request::get(http::Uri::from_static("https://api.example.com/v1/orders?page=2"))
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, "bench/1.0")
        .body(Bytes::new())
        .unwrap()
}

/// Polls a future that completes without waiting once.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fresh path never waits"),
    }
}

fn main() -> anyhow::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let _context = runtime.enter();
    let tokens = oauth2_kit_cache_tokio::caching(OneToken);
    runtime.block_on(tokens.get(None))?;
    let bearer = BearerClient::new(NoOp, BearerAuth::new(tokens.clone(), None));
    let no_retry = BearerClient::new(NoOp, BearerAuth::builder(tokens).retry_unauthorized(false).build());
    let client: &dyn HttpClient = match mode.as_str() {
        "bare" => &NoOp,
        "bearer" => &bearer,
        "no-retry" => &no_retry,
        _ => bail!("usage: bearer_instructions bare|bearer|no-retry"),
    };
    let requests: Vec<HttpRequest> = (0..REQUESTS).map(|_| request()).collect();
    for request in requests {
        now(client.send(request))?;
    }
    Ok(())
}
