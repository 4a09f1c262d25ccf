//! The bearer client against the testkit's protected resource, over real loopback sockets and
//! both adapters: token reuse, refresh in the middle of a stream, recovery from a revoked token,
//! 403 as is; and the same recovery through the tower layer and the reqwest middleware.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::bearer::{BearerAuth, BearerClient, BearerLayer};
use oauth2_kit::http::{HttpClient, HttpRequest};
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit::{ClientCredentials, Scope};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

use oauth2_kit_test_support::{Counting, adapters};

type Tokens = Arc<Counting<ClientCredentials>>;

/// Client-credentials tokens for `read` from the testkit server, counted, in a tokio cache.
fn cached_auth(server: &TestServer, http: Arc<dyn HttpClient>) -> (BearerAuth, Tokens) {
    let tokens = Counting::new(
        OAuth2Client::new(
            server.authorization_server(),
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            http,
        )
        .client_credentials()
        .unwrap(),
    );
    (BearerAuth::new(oauth2_kit_cache_tokio::caching(tokens.clone()), Some(read())), tokens)
}

/// A bearer client over `http`, with those tokens.
fn bearer(server: &TestServer, http: Arc<dyn HttpClient>) -> (BearerClient<Arc<dyn HttpClient>>, Tokens) {
    let (auth, tokens) = cached_auth(server, http.clone());
    (BearerClient::new(http, auth), tokens)
}

fn read() -> Scope {
    "read".parse().unwrap()
}

fn get(server: &TestServer) -> HttpRequest {
    http::Request::get(server.resource_url().as_str()).body(Bytes::new()).unwrap()
}

fn post(server: &TestServer, body: &'static str) -> HttpRequest {
    http::Request::post(server.resource_url().as_str()).body(Bytes::from_static(body.as_bytes())).unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_cost_one_token_request() {
    for (name, http) in adapters() {
        let server = TestServer::start().unwrap();
        let (client, tokens) = bearer(&server, http);
        for _ in 0..100 {
            let response = client.execute(get(&server)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(json(response.body())["scope"], "read", "{name}");
        }
        assert_eq!(server.requests(Route::Token), 1, "{name}");
        assert_eq!(tokens.requests(), 1, "{name}");
        assert_eq!(server.requests(Route::Resource), 100, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_stream_is_refreshed_transparently() {
    for (name, http) in adapters() {
        let server = TestServer::start().unwrap();
        // 2 s tokens: usable for 1 s by the cache policy, refreshed before the server drops them.
        server.set_token_lifetime(Duration::from_secs(2));
        let (client, _) = bearer(&server, http);
        let mut sent = 0;
        while server.requests(Route::Token) < 3 {
            let response = client.execute(get(&server)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name}: request {sent}");
            sent += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Never a 401 (which would show as a second request to the resource for one call).
        assert_eq!(server.requests(Route::Resource), sent, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_costs_one_refresh_and_one_retry() {
    for (name, http) in adapters() {
        let server = TestServer::start().unwrap();
        let (client, tokens) = bearer(&server, http);
        for _ in 0..5 {
            assert_eq!(client.execute(get(&server)).await.unwrap().status(), StatusCode::OK);
        }
        server.revoke_all_tokens();
        let response = client.execute(post(&server, "order #1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert_eq!(json(response.body())["body"], "order #1", "{name}: the body was replayed");
        assert_eq!(tokens.requests(), 2, "{name}: one refresh");
        assert_eq!(server.requests(Route::Resource), 5 + 2, "{name}: the 401, then one retry");
        for _ in 0..5 {
            assert_eq!(client.execute(get(&server)).await.unwrap().status(), StatusCode::OK);
        }
        assert_eq!(tokens.requests(), 2, "{name}: the new token is reused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_is_returned_as_is_without_retry() {
    for (name, http) in adapters() {
        let server = TestServer::builder().resource_scope("admin".parse().unwrap()).start().unwrap();
        let (client, tokens) = bearer(&server, http);
        let response = client.execute(get(&server)).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("insufficient_scope"), "{name}: {challenge}");
        assert_eq!(server.requests(Route::Resource), 1, "{name}");
        assert_eq!(tokens.requests(), 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_401s_cost_one_refresh() {
    let server = TestServer::start().unwrap();
    let (name, http) = adapters().remove(0);
    let (client, tokens) = bearer(&server, http);
    assert_eq!(client.execute(get(&server)).await.unwrap().status(), StatusCode::OK);
    server.revoke_all_tokens();
    let client = Arc::new(client);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            let request = get(&server);
            tokio::spawn(async move { client.execute(request).await.map(|r| r.status()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), StatusCode::OK, "{name}");
    }
    assert_eq!(tokens.requests(), 2, "{name}: the first token, then one refresh");
    assert_eq!(server.requests(Route::Token), 2, "{name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_means_no_request() {
    for (name, http) in adapters() {
        let server = TestServer::start().unwrap();
        let tokens = OAuth2Client::new(
            server.authorization_server(),
            ClientAuth::new(DEFAULT_CLIENT_ID, "wrong-secret"),
            http.clone(),
        )
        .client_credentials()
        .unwrap();
        let client = BearerClient::new(http, BearerAuth::new(oauth2_kit_cache_tokio::caching(tokens), None));
        let err = client.execute(get(&server)).await.unwrap_err();
        let oauth2_kit::Error::NoToken(reason) = &err else { panic!("{name}: {err:?}") };
        assert_eq!(
            reason.oauth2().map(|e| e.response.error.as_str()),
            Some("invalid_client"),
            "{name}: {err}"
        );
        assert_eq!(server.requests(Route::Resource), 0, "{name}");
    }
}

/// The tower layer over hyper's client: the same recovery, through `tower::Service`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_layer_over_hyper_recovers_from_a_revoked_token() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use tower_layer::Layer;
    use tower_service::Service;

    let server = TestServer::start().unwrap();
    let (_, http) = adapters().remove(0);
    let (auth, tokens) = cached_auth(&server, http);
    let hyper = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut service = BearerLayer::new(auth).layer(hyper);
    let request = |body: &'static str| {
        http::Request::post(server.resource_url().as_str())
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    };
    let mut call = async |body| {
        std::future::poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
        let response = service.call(request(body)).await.unwrap();
        let status = response.status();
        (status, response.into_body().collect().await.unwrap().to_bytes())
    };
    for _ in 0..3 {
        assert_eq!(call("a").await.0, StatusCode::OK);
    }
    server.revoke_all_tokens();
    let (status, body) = call("after revocation").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["body"], "after revocation");
    assert_eq!(tokens.requests(), 2);
    assert_eq!(server.requests(Route::Resource), 3 + 2);
}

/// The reqwest middleware: the same recovery for cloneable requests; a streaming body is not
/// retried, but its rejected token is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_middleware_recovers_and_never_replays_a_stream() {
    let server = TestServer::start().unwrap();
    let (_, http) = adapters().remove(0);
    let (auth, tokens) = cached_auth(&server, http);
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(oauth2_kit_reqwest::BearerMiddleware::new(auth))
        .build();
    let url = server.resource_url();
    assert_eq!(client.get(url.clone()).send().await.unwrap().status(), StatusCode::OK);

    server.revoke_all_tokens();
    let response = client.post(url.clone()).body("replayable").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(&response.bytes().await.unwrap())["body"], "replayable");
    assert_eq!((tokens.requests(), server.requests(Route::Resource)), (2, 1 + 2));

    server.revoke_all_tokens();
    let chunks = futures_lite::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"streamed"))]);
    let response = client.post(url.clone()).body(reqwest::Body::wrap_stream(chunks)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a stream cannot be sent twice");
    assert_eq!(server.requests(Route::Resource), 3 + 1);
    // The rejected token was dropped: the next request fetches a new one and succeeds.
    assert_eq!(client.get(url).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(tokens.requests(), 3);

    // A token error comes back typed, inside the middleware error; nothing was sent.
    let refused = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(oauth2_kit_reqwest::BearerMiddleware::new(BearerAuth::new(
            oauth2_kit_cache_tokio::caching(tokens.clone()),
            None,
        )))
        .build();
    let err = refused.get("http://api.example.com/x").send().await.unwrap_err();
    let reqwest_middleware::Error::Middleware(inner) = &err else { panic!("{err}") };
    assert!(matches!(inner.downcast_ref::<oauth2_kit::Error>(), Some(oauth2_kit::Error::Bearer(_))), "{err}");
}

/// 200 requests rejected together through the reqwest middleware and through the tower layer:
/// one refresh each, every request answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_through_the_middleware_and_the_layer_cost_one_refresh() {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use tower_layer::Layer;
    use tower_service::Service;

    let server = TestServer::start().unwrap();
    let (_, http) = adapters().remove(0);
    let (auth, tokens) = cached_auth(&server, http.clone());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(oauth2_kit_reqwest::BearerMiddleware::new(auth))
        .build();
    let url = server.resource_url();
    assert_eq!(client.get(url.clone()).send().await.unwrap().status(), StatusCode::OK);
    server.revoke_all_tokens();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(tokens.requests(), 2, "middleware: one refresh");

    let (auth, tokens) = cached_auth(&server, http.clone());
    let service =
        BearerLayer::new(auth).layer(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let get = || http::Request::get(server.resource_url().as_str()).body(Full::new(Bytes::new())).unwrap();
    let mut first = service.clone();
    std::future::poll_fn(|cx| first.poll_ready(cx)).await.unwrap();
    assert_eq!(first.call(get()).await.unwrap().status(), StatusCode::OK);
    server.revoke_all_tokens();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let mut service = service.clone();
            let request = get();
            tokio::spawn(async move {
                std::future::poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                service.call(request).await.unwrap().status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(tokens.requests(), 2, "tower layer: one refresh");
}
