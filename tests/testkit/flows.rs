//! Fast tests of every client-credentials flow against the embedded testkit server, through both
//! HTTP adapters: the happy path, typed errors, and injected faults.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::http::{HttpClient, TransportErrorKind};
use oauth2_kit::{AuthMethod, ClientCredentials, Error, ErrorCode, Scope};
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Fault, Route, TestClient, TestServer};

use oauth2_kit_test_support::{adapters, expect_oauth2_error};

fn scope(s: &str) -> Scope {
    s.parse().expect("a valid scope")
}

fn client_for(server: &TestServer, id: &str, secret: &str, http: Arc<dyn HttpClient>) -> ClientCredentials {
    OAuth2Client::new(server.authorization_server(), ClientAuth::new(id, secret), http)
        .client_credentials()
        .expect("a valid client")
}

async fn get_resource(http: &Arc<dyn HttpClient>, server: &TestServer, token: &str) -> http::Response<Bytes> {
    let request = http::Request::builder()
        .uri(server.resource_url().as_str())
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::new())
        .expect("a request");
    http.send(request).await.expect("the resource answers")
}

#[tokio::test]
async fn token_introspect_use_revoke() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().expect("testkit server");
        let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
        let oauth2 = OAuth2Client::new(server.authorization_server(), auth, http.clone());
        let (client, introspection) = (oauth2.client_credentials().unwrap(), oauth2.introspection().unwrap());
        let token = client.request_token(Some(&scope("read write"))).await.expect(adapter);
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)), "{adapter}");
        assert_eq!(token.scope(), Some(&scope("read write")), "{adapter}");

        let info = introspection.introspect(token.access_token()).await.expect(adapter);
        assert!(info.active, "{adapter}");
        assert_eq!(info.client_id.as_deref(), Some(DEFAULT_CLIENT_ID), "{adapter}");

        let ok = get_resource(&http, &server, token.access_token().expose_secret()).await;
        assert_eq!(ok.status(), StatusCode::OK, "{adapter}");

        oauth2.revocation().unwrap().revoke(token.access_token()).await.expect(adapter);
        assert!(!introspection.introspect(token.access_token()).await.expect(adapter).active, "{adapter}");
        let refused = get_resource(&http, &server, token.access_token().expose_secret()).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{adapter}");
        let challenge = refused.headers()["www-authenticate"].to_str().expect("ascii");
        assert!(challenge.contains("error=\"invalid_token\""), "{adapter}: {challenge}");

        assert_eq!(server.requests(Route::Token), 1, "{adapter}");
        assert_eq!(server.requests(Route::Introspection), 2, "{adapter}");
        assert_eq!(server.requests(Route::Revocation), 1, "{adapter}");
        assert_eq!(server.requests(Route::Resource), 2, "{adapter}");
    }
}

#[tokio::test]
async fn both_auth_methods_are_accepted() {
    for (adapter, http) in adapters() {
        let server = TestServer::builder()
            .client(TestClient::new("odd id:+", "s3cr:t%+ é/ü"))
            .start()
            .expect("server");
        for method in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost] {
            let client = OAuth2Client::new(
                server.authorization_server(),
                ClientAuth::new("odd id:+", "s3cr:t%+ é/ü").with_method(method),
                http.clone(),
            )
            .client_credentials()
            .expect("client");
            client.request_token(None).await.unwrap_or_else(|e| panic!("{adapter} {method:?}: {e}"));
        }
    }
}

#[tokio::test]
async fn typed_errors_with_status() {
    for (adapter, http) in adapters() {
        let server = TestServer::builder()
            .client(TestClient::new("no-cc", "s").without_client_credentials())
            .client(TestClient::new("narrow", "s").scopes(scope("read")))
            .start()
            .expect("server");

        let wrong = client_for(&server, DEFAULT_CLIENT_ID, "wrong", http.clone());
        let e = expect_oauth2_error(wrong.request_token(None).await, adapter);
        assert_eq!(
            (e.status, &e.response.error),
            (StatusCode::UNAUTHORIZED, &ErrorCode::InvalidClient),
            "{adapter}"
        );
        assert_eq!(e.www_authenticate().expect("a challenge"), "Basic realm=\"testkit\"", "{adapter}");

        let no_cc = client_for(&server, "no-cc", "s", http.clone());
        let e = expect_oauth2_error(no_cc.request_token(None).await, adapter);
        assert_eq!((e.status, &e.response.error), (StatusCode::BAD_REQUEST, &ErrorCode::UnauthorizedClient));

        let narrow = client_for(&server, "narrow", "s", http.clone());
        let e = expect_oauth2_error(narrow.request_token(Some(&scope("read write"))).await, adapter);
        assert_eq!((e.status, &e.response.error), (StatusCode::BAD_REQUEST, &ErrorCode::InvalidScope));
        let token = narrow.request_token(None).await.expect("the client's own scope");
        assert_eq!(token.scope(), Some(&scope("read")), "{adapter}");
    }
}

#[tokio::test]
async fn injected_faults_are_classified() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().expect("server");
        let client = client_for(&server, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, http.clone());

        server.inject(
            Route::Token,
            Fault::status(503).header("retry-after", "7").with_body("<h1>down</h1>"),
            1,
        );
        let err = client.request_token(None).await.expect_err(adapter);
        assert!(
            matches!(&err, Error::UnexpectedStatus { status, body_excerpt, retry_after, .. }
                if *status == StatusCode::SERVICE_UNAVAILABLE
                    && body_excerpt == "<h1>down</h1>"
                    && *retry_after == Some(Duration::from_secs(7))),
            "{adapter}: {err:?}"
        );
        assert!(err.is_retryable(), "{adapter}");

        server.inject(
            Route::Token,
            Fault::status(503).header("retry-after", "7").with_body(r#"{"error":"temporarily_unavailable"}"#),
            1,
        );
        let err = client.request_token(None).await.expect_err(adapter);
        let e = err.oauth2().expect("an OAuth2 error");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)), "{adapter}");
        assert!(err.is_retryable(), "{adapter}");

        server.inject(
            Route::Token,
            Fault::body(r#"{"access_token":"x","token_type":"Bearer","expires_in":"soon"}"#),
            1,
        );
        let err = client.request_token(None).await.expect_err(adapter);
        assert!(matches!(err, Error::Decode { field: Some("expires_in"), .. }), "{adapter}: {err:?}");

        server.inject(Route::Token, Fault::body(vec![b' '; 2 * 1024 * 1024]), 1);
        let err = client.request_token(None).await.expect_err(adapter);
        assert_eq!(
            err.transport_kind(),
            Some(TransportErrorKind::BodyTooLarge { limit: 1024 * 1024 }),
            "{adapter}"
        );

        // Faults are used up: the next request succeeds.
        client.request_token(None).await.expect(adapter);
        assert_eq!(server.requests(Route::Token), 5, "{adapter}");
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = TestServer::start().expect("server");
    let short = Duration::from_millis(300);
    let clients: [(&str, Arc<dyn HttpClient>); 2] = [
        (
            "reqwest",
            Arc::new(oauth2_kit_reqwest::ReqwestClient::builder().timeout(short).build().expect("client")),
        ),
        ("isahc", Arc::new(oauth2_kit_isahc::IsahcClient::builder().timeout(short).build().expect("client"))),
    ];
    for (adapter, http) in clients {
        server.inject(Route::Token, Fault::delayed(Duration::from_secs(2)), 1);
        let client = client_for(&server, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, http);
        let err = client.request_token(None).await.expect_err(adapter);
        assert_eq!(err.transport_kind(), Some(TransportErrorKind::Timeout), "{adapter}: {err}");
        assert!(err.is_retryable());
    }
}

#[tokio::test]
async fn per_client_token_lifetime() {
    let server = TestServer::builder()
        .client(TestClient::new("short", "s").token_lifetime(Duration::from_secs(4)))
        .start()
        .expect("server");
    for (adapter, http) in adapters() {
        let token = client_for(&server, "short", "s", http).request_token(None).await.expect(adapter);
        assert_eq!(token.expires_in(), Some(Duration::from_secs(4)), "{adapter}");
    }
}
