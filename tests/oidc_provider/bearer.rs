//! The bearer client against the real authorization server (oidc-provider): a small resource
//! server in this test accepts a bearer token only if oidc-provider's introspection says it is
//! active. Tokens are reused; a token revoked in the middle of the stream costs one refresh and
//! one retry, through both adapters.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::StatusCode;
use http::header::WWW_AUTHENTICATE;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::{AccessToken, AuthorizationServer, ClientAuth, IntrospectionClient, OAuth2Client};

use oauth2_kit_test_support::{Counting, OidcProvider, adapters};

struct ResourceServer {
    introspection: IntrospectionClient,
    requests: AtomicUsize,
}

/// `GET /orders`: 200 for an active bearer token (by introspection), else an RFC 6750 401.
async fn orders(State(rs): State<Arc<ResourceServer>>, headers: HeaderMap) -> Response {
    rs.requests.fetch_add(1, Ordering::SeqCst);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| AccessToken::new(t.to_owned()));
    let challenge = |value: &'static str| {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(value));
        response
    };
    let Some(token) = token else {
        return challenge(r#"Bearer realm="orders""#);
    };
    match rs.introspection.introspect(&token).await {
        Ok(info) if info.active => info.client_id.unwrap_or_default().into_response(),
        Ok(_) => challenge(r#"Bearer realm="orders", error="invalid_token""#),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

async fn start_resource_server(oidc: &OidcProvider) -> (SocketAddr, Arc<ResourceServer>) {
    let http = oauth2_kit_reqwest::ReqwestClient::new().unwrap();
    let introspection = IntrospectionClient::new(
        oidc.url("/token/introspection"),
        ClientAuth::new("kit-basic", "basic-secret"),
        http,
    );
    let rs = Arc::new(ResourceServer { introspection, requests: AtomicUsize::new(0) });
    let app = Router::new().route("/orders", get(orders)).with_state(rs.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_mid_stream_costs_one_refresh_and_one_retry() {
    let oidc = OidcProvider::get();
    let (addr, rs) = start_resource_server(&oidc).await;
    let url = format!("http://{addr}/orders");
    for (name, http) in adapters() {
        rs.requests.store(0, Ordering::SeqCst);
        let endpoints =
            AuthorizationServer::new().token(oidc.url("/token")).revocation(oidc.url("/token/revocation"));
        let auth =
            ClientAuth::new("kit-post", "post-secret").with_method(oauth2_kit::AuthMethod::ClientSecretPost);
        let client = OAuth2Client::new(endpoints, auth, http.clone());
        let tokens = Counting::new(client.client_credentials().unwrap());
        let cached = oauth2_kit_cache_tokio::caching(tokens.clone());
        let bearer = BearerClient::new(http, BearerAuth::new(cached.clone(), Some("read".parse().unwrap())));
        let get = || http::Request::get(url.as_str()).body(Bytes::new()).unwrap();

        for _ in 0..10 {
            let response = bearer.execute(get()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(response.body(), "kit-post", "{name}");
        }
        assert_eq!(tokens.requests(), 1, "{name}: one token for ten requests");

        let first = cached.cached(Some(&"read".parse().unwrap())).unwrap();
        client.revocation().unwrap().revoke(first.access_token()).await.unwrap();
        let response = bearer.execute(get()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}: recovered");
        assert_eq!(tokens.requests(), 2, "{name}: one refresh");
        assert_eq!(rs.requests.load(Ordering::SeqCst), 10 + 2, "{name}: the 401, then one retry");
        let second = cached.cached(Some(&"read".parse().unwrap())).unwrap();
        assert_ne!(second.access_token(), first.access_token(), "{name}");

        for _ in 0..5 {
            assert_eq!(bearer.execute(get()).await.unwrap().status(), StatusCode::OK, "{name}");
        }
        assert_eq!(tokens.requests(), 2, "{name}");
    }
}
