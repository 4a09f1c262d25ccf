//! A redirect never carries the token to another origin: the bearer client returns a 3xx as it
//! is (its adapters follow no redirect), and through the reqwest middleware, reqwest's own
//! redirect handling drops `Authorization` when the redirect leaves the origin.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Scope, SystemClock, TokenResponse, TokenType,
};

use oauth2_kit_test_support::adapters;

struct Fixed;

#[oauth2_kit::async_trait]
impl AccessTokenProvider for Fixed {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        Ok(TokenResponse::new(AccessToken::new("the-token"), TokenType::Bearer, SystemClock.now()))
    }
}

type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A server on 127.0.0.1 that records the `Authorization` of each request and redirects
/// `/to?url` to `url`.
async fn server(seen: Seen) -> SocketAddr {
    let record = move |path: &'static str| {
        let seen = seen.clone();
        move |headers: HeaderMap| async move {
            let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
            seen.lock().unwrap().push((path.to_owned(), auth));
        }
    };
    let to = record("/to");
    let app = Router::new().route("/landing", get(record("/landing"))).route(
        "/to",
        get(move |headers: HeaderMap, axum::extract::RawQuery(query): axum::extract::RawQuery| async move {
            to(headers).await;
            Redirect::to(&query.unwrap_or_default()).into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_redirect_carries_the_token_to_another_origin() {
    let seen_a = Seen::default();
    let seen_b = Seen::default();
    let a = server(seen_a.clone()).await;
    let b = server(seen_b.clone()).await;
    let cross = format!("http://{a}/to?http://{b}/landing");
    let same = format!("http://{a}/to?http://{a}/landing");
    let token = Some("Bearer the-token".to_owned());

    // The bearer client over both adapters: the 302 comes back as it is; b is never contacted.
    for (name, http) in adapters() {
        let client = BearerClient::new(http, BearerAuth::new(Fixed, None));
        let request = http::Request::get(cross.as_str()).body(Bytes::new()).unwrap();
        let response = client.execute(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
        assert_eq!(seen_b.lock().unwrap().len(), 0, "{name}");
    }
    assert_eq!(seen_a.lock().unwrap().len(), 2);
    assert!(seen_a.lock().unwrap().iter().all(|(_, auth)| *auth == token));

    // reqwest (following redirects) under the middleware: the token stays home.
    seen_a.lock().unwrap().clear();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(oauth2_kit_reqwest::BearerMiddleware::new(BearerAuth::new(Fixed, None)))
        .build();
    assert_eq!(client.get(&cross).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(*seen_b.lock().unwrap(), [("/landing".to_owned(), None)], "no token at the other origin");
    assert_eq!(client.get(&same).send().await.unwrap().status(), StatusCode::OK);
    let seen_a = seen_a.lock().unwrap().clone();
    assert_eq!(
        seen_a,
        [
            ("/to".to_owned(), token.clone()),
            ("/to".to_owned(), token.clone()),
            ("/landing".to_owned(), token)
        ],
        "the same origin keeps it"
    );
}
