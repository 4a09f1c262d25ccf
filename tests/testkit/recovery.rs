//! 1,000 requests in flight at once all get `401` for the same token: the caching provider
//! fetches one new token, and every request is retried once with it.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::StatusCode;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Scope, SystemClock, TokenResponse, TokenType,
};
use tokio::sync::Barrier;

const CONCURRENT: usize = 1000;

/// Hands out `token-1`, `token-2`, ... one per call, one-hour lifetime.
#[derive(Default)]
struct Minting {
    calls: AtomicUsize,
}

#[oauth2_kit::async_trait]
impl AccessTokenProvider for Minting {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let token = AccessToken::new(format!("token-{n}"));
        Ok(TokenResponse::new(token, TokenType::Bearer, SystemClock.now())
            .with_expires_in(Some(std::time::Duration::from_secs(3600))))
    }
}

/// Accepts only `token-2`. Requests with `token-1` are held until all of them have arrived,
/// then all rejected together.
struct Resource {
    all_arrived: Barrier,
    requests: AtomicUsize,
}

#[oauth2_kit::async_trait]
impl HttpClient for Resource {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let mut response = http::Response::new(Bytes::new());
        if request.headers()[AUTHORIZATION] != "Bearer token-2" {
            self.all_arrived.wait().await;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                r#"Bearer realm="api", error="invalid_token", error_description="revoked""#.parse().unwrap(),
            );
        }
        Ok(response)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_401s_for_one_token_cause_one_refresh() {
    let minting = Arc::new(Minting::default());
    let tokens = oauth2_kit_cache_tokio::caching(minting.clone());
    let resource =
        Arc::new(Resource { all_arrived: Barrier::new(CONCURRENT), requests: AtomicUsize::new(0) });
    let client = Arc::new(BearerClient::new(resource.clone(), BearerAuth::new(tokens, None)));
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let request =
                    http::Request::get("https://api.example.com/orders").body(Bytes::new()).unwrap();
                client.execute(request).await.unwrap().status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(minting.calls.load(Ordering::SeqCst), 2, "token-1, then exactly one refresh");
    assert_eq!(resource.requests.load(Ordering::SeqCst), 2 * CONCURRENT, "one retry per request");
}
