//! The fixture of the bearer client's measurements, shared by `benches/bearer_client.rs`,
//! `examples/bearer_instructions.rs` and `tests/bearer_allocations.rs`, so all three measure
//! the same request over the same client.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Scope, SystemClock, TokenResponse, TokenType,
};

/// The access token `OneToken` hands out.
pub const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

/// Answers `200` with an empty body at once; checks that any `Authorization` is sensitive.
pub struct NoOp;

#[oauth2_kit::async_trait]
impl HttpClient for NoOp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        assert!(request.headers().get(AUTHORIZATION).is_none_or(|v| v.is_sensitive()));
        std::hint::black_box(&request);
        Ok(http::Response::new(Bytes::new()))
    }
}

/// One bearer token, valid for an hour.
pub struct OneToken;

#[oauth2_kit::async_trait]
impl AccessTokenProvider for OneToken {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        Ok(TokenResponse::new(AccessToken::new(TOKEN), TokenType::Bearer, SystemClock.now())
            .with_expires_in(Some(Duration::from_secs(3600))))
    }
}

/// A typical API request: an absolute https URI and two headers.
pub fn request() -> HttpRequest {
    http::Request::get(http::Uri::from_static("https://api.example.com/v1/orders?page=2"))
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, "bench/1.0")
        .body(Bytes::new())
        .unwrap()
}

/// A runtime, and two bearer clients over [`NoOp`] sharing a warm tokio cache of [`OneToken`]:
/// with the default retry, and without it. Enter the runtime while using them.
pub fn clients() -> (tokio::runtime::Runtime, BearerClient<NoOp>, BearerClient<NoOp>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let tokens = runtime.block_on(async {
        let tokens = oauth2_kit_cache_tokio::caching(OneToken);
        tokens.get(None).await.unwrap();
        tokens
    });
    let with_retry = BearerClient::new(NoOp, BearerAuth::new(tokens.clone(), None));
    let without_retry =
        BearerClient::new(NoOp, BearerAuth::builder(tokens).retry_unauthorized(false).build());
    (runtime, with_retry, without_retry)
}

/// Polls a future that completes without waiting (a cached token, a no-op client) once.
pub fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fresh path never waits"),
    }
}
