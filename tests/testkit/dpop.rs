//! DPoP (RFC 9449) against the testkit, over real loopback sockets: bound tokens through the
//! bearer client, the tower layer and the reqwest middleware (each request proven, nothing
//! bound ever sent as a bearer token, the server's nonce followed), a thousand concurrent
//! requests across a nonce rotation, logins bound to the key.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::bearer::{BearerAuth, BearerClient, BearerError};
use oauth2_kit::dpop::DpopKey;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::http::{HttpClient, HttpRequest};
use oauth2_kit::reexports::url::Url;
use oauth2_kit::{ClientAuth, ErrorCode, OAuth2Client, TokenType};
use oauth2_kit_test_support::{Counting, adapters};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

fn client(server: &TestServer, key: &DpopKey, http: Arc<dyn HttpClient>) -> OAuth2Client {
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    OAuth2Client::builder(server.authorization_server(), auth, http).dpop(key.clone()).build().unwrap()
}

/// Follows a login link to the testkit's automatic login: the callback it redirects to.
async fn visit(http: &Arc<dyn HttpClient>, url: &Url) -> Callback {
    let request = http::Request::builder().uri(url.as_str()).body(Bytes::new()).unwrap();
    let response = http.send(request).await.unwrap();
    let location = response.headers().get("location").unwrap().to_str().unwrap();
    Callback::from_url(&Url::parse(location).unwrap()).unwrap()
}

fn get(server: &TestServer) -> HttpRequest {
    http::Request::get(server.resource_url().as_str()).body(Bytes::new()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_bound_tokens_go_out_with_a_proof_each_and_never_as_bearer_tokens() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let key = DpopKey::generate().unwrap();
        let tokens = Counting::new(client(&server, &key, http.clone()).client_credentials().unwrap());
        // The bearer logic finds the key through the (cached, counted) provider.
        let cached = oauth2_kit_cache_tokio::caching(tokens.clone());
        let bearer = BearerClient::new(http.clone(), BearerAuth::new(cached.clone(), None));
        for _ in 0..20 {
            let response = bearer.execute(get(&server)).await.expect(adapter);
            assert_eq!(response.status(), StatusCode::OK, "{adapter}");
        }
        assert_eq!(tokens.requests(), 1, "{adapter}");
        assert_eq!(server.requests(Route::Resource), 20, "{adapter}: no retry");
        let token = cached.get(None).await.unwrap();
        assert_eq!(token.token_type(), &TokenType::DPoP, "{adapter}");
        assert_eq!(token.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        let introspected = client(&server, &key, http.clone())
            .introspection()
            .unwrap()
            .introspect(token.access_token())
            .await;
        let cnf = introspected.unwrap().confirmation().unwrap();
        assert!(cnf.is_bound_to_key(&key) && cnf.x5t_s256.is_none(), "{adapter}: {cnf:?}");
        assert_eq!(server.misused_bound_tokens(), 0, "{adapter}");

        // The check works: the same token as a bearer token is refused and counted.
        let mut as_bearer = get(&server);
        let header = format!("Bearer {}", token.access_token().expose_secret());
        as_bearer.headers_mut().insert(http::header::AUTHORIZATION, header.parse().unwrap());
        assert_eq!(http.send(as_bearer).await.unwrap().status(), StatusCode::UNAUTHORIZED, "{adapter}");
        assert_eq!(server.misused_bound_tokens(), 1, "{adapter}");

        // Another key's bearer logic refuses to send it at all.
        let other = BearerAuth::builder(cached.clone()).dpop(DpopKey::generate().unwrap()).build();
        let refused = BearerClient::new(http.clone(), other).execute(get(&server)).await;
        assert!(
            matches!(refused, Err(oauth2_kit::Error::Bearer(BearerError::DpopKeyMismatch { .. }))),
            "{adapter}"
        );
        assert_eq!(server.requests(Route::Resource), 21, "{adapter}: nothing sent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_across_a_nonce_rotation_all_succeed_with_one_retry_at_most() {
    let server = TestServer::builder().dpop_nonce(true).start().unwrap();
    let http = adapters().remove(0).1;
    let key = DpopKey::generate().unwrap();
    let tokens = Counting::new(client(&server, &key, http.clone()).client_credentials().unwrap());
    let bearer = BearerClient::new(
        http.clone(),
        BearerAuth::new(oauth2_kit_cache_tokio::caching(tokens.clone()), None),
    );
    // The token request pays one retry for the nonce; the resource shares the origin's nonce.
    assert_eq!(bearer.execute(get(&server)).await.unwrap().status(), StatusCode::OK);
    assert_eq!((server.requests(Route::Token), server.requests(Route::Resource)), (2, 1));

    let run = |count: usize| {
        let tasks: Vec<_> = (0..count)
            .map(|_| {
                let (bearer, request) = (bearer.clone(), get(&server));
                tokio::spawn(async move { bearer.execute(request).await.map(|r| r.status()) })
            })
            .collect();
        async move {
            for task in tasks {
                assert_eq!(task.await.unwrap().unwrap(), StatusCode::OK);
            }
        }
    };
    server.reset_counts();
    run(1000).await;
    assert_eq!(server.requests(Route::Resource), 1000, "the nonce is known: no retry");

    server.reset_counts();
    server.rotate_dpop_nonce();
    run(1000).await;
    let sent = server.requests(Route::Resource);
    assert!((1001..=2000).contains(&sent), "one retry at most per request, and some: {sent}");

    server.reset_counts();
    run(100).await;
    assert_eq!(server.requests(Route::Resource), 100, "the new nonce is known: no retry");
    assert_eq!(tokens.requests(), 1);
    assert_eq!(server.misused_bound_tokens(), 0);
}

/// The tower layer and the reqwest middleware prove each request and follow the nonce too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tower_layer_and_the_reqwest_middleware_prove_requests_and_follow_nonces() {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use oauth2_kit::bearer::BearerLayer;
    use tower_layer::Layer;
    use tower_service::Service;

    let server = TestServer::builder().dpop_nonce(true).start().unwrap();
    let http = adapters().remove(0).1;
    let key = DpopKey::generate().unwrap();
    let tokens =
        oauth2_kit_cache_tokio::caching(client(&server, &key, http.clone()).client_credentials().unwrap());

    let middleware = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(oauth2_kit_reqwest::BearerMiddleware::new(BearerAuth::new(tokens.clone(), None)))
        .build();
    let url = server.resource_url();
    let response = middleware.post(url.clone()).body("first").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.rotate_dpop_nonce();
    server.reset_counts();
    let response = middleware.post(url.clone()).body("after rotation").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["body"], "after rotation", "the retry carried the body");
    assert_eq!(server.requests(Route::Resource), 2, "middleware: one retry for the new nonce");

    let mut service = BearerLayer::new(BearerAuth::new(tokens.clone(), None))
        .layer(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    server.rotate_dpop_nonce();
    server.reset_counts();
    for _ in 0..3 {
        std::future::poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
        let request = http::Request::get(url.as_str()).body(Full::new(Bytes::new())).unwrap();
        assert_eq!(service.call(request).await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(server.requests(Route::Resource), 4, "tower: one retry for the new nonce, then none");
    assert_eq!(server.misused_bound_tokens(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_bound_to_the_key_is_redeemed_and_refreshed_only_with_it() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let key = DpopKey::generate().unwrap();
        let redirect = Url::parse("http://127.0.0.1:9/callback").unwrap();
        let login = |key: &DpopKey| {
            client(&server, key, http.clone()).authorization_code(redirect.clone()).unwrap().build().unwrap()
        };
        let provider = login(&key);
        let link = provider.login_link().build().unwrap();
        let back = visit(&http, link.url()).await;
        let stolen = login(&DpopKey::generate().unwrap()).complete_login(link.pending(), &back).await;
        let error = oauth2_kit_test_support::expect_oauth2_error(stolen, adapter);
        assert_eq!(error.response.error, ErrorCode::InvalidGrant, "{adapter}");
        assert!(error.response.error_description.as_deref().unwrap().contains("dpop_jkt"), "{adapter}");

        let link = provider.login_link().build().unwrap();
        let back = visit(&http, link.url()).await;
        let token = provider.complete_login(link.pending(), &back).await;
        let token = token.expect(adapter);
        assert_eq!(token.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        let me = client(&server, &key, http.clone()).userinfo().unwrap().fetch(token.access_token()).await;
        assert_eq!(me.expect(adapter).sub, oauth2_kit_testkit::DEFAULT_USERNAME, "{adapter}");
        let refreshed = client(&server, &key, http.clone())
            .refresh()
            .unwrap()
            .refresh(token.refresh_token().unwrap(), None)
            .await
            .expect(adapter);
        assert_eq!(refreshed.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        assert_eq!(server.misused_bound_tokens(), 0, "{adapter}");
    }
}

/// Every grant asks for a bound token with the client's key: password, token exchange, the JWT
/// bearer grant, the device flow; each token introspects as bound to the key.
#[tokio::test]
async fn every_grant_gets_a_token_bound_to_the_key() {
    use oauth2_kit::grant::jwt_bearer::SignedAssertion;
    use oauth2_kit::grant::token_exchange::TokenExchangeRequest;
    use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
    use oauth2_kit_testkit::{DEFAULT_PASSWORD, DEFAULT_USERNAME, TestClient};

    let signer = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    let server = TestServer::builder()
        .client(TestClient::with_key("reports", signer.public_key()))
        .client(TestClient::public("tv"))
        .device_interval(Some(std::time::Duration::from_secs(1)))
        .start()
        .unwrap();
    let http = adapters().remove(0).1;
    let key = DpopKey::generate().unwrap();
    let runtime: Arc<dyn oauth2_kit::runtime::Runtime> =
        Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new());
    let with = |auth: ClientAuth| {
        OAuth2Client::builder(server.authorization_server(), auth, http.clone())
            .dpop(key.clone())
            .runtime(runtime.clone())
            .build()
            .unwrap()
    };
    let client = with(ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    let password = oauth2_kit::Password::new(DEFAULT_PASSWORD);
    let user = client.password().unwrap().request_token(DEFAULT_USERNAME, &password, None).await.unwrap();
    let exchanged = client
        .token_exchange()
        .unwrap()
        .exchange(&TokenExchangeRequest::access_token(user.access_token()))
        .await
        .unwrap()
        .token()
        .clone();
    let assertion = SignedAssertion::new(signer.clone(), "reports", "reports");
    let vouched =
        with(ClientAuth::public("reports")).jwt_bearer(assertion).unwrap().request_token(None).await.unwrap();
    let device = with(ClientAuth::public("tv")).device().unwrap();
    let authorization = device.request_authorization(None).await.unwrap();
    assert!(server.approve_device(authorization.user_code()));
    let polled = device.poll_token(&authorization).await.unwrap();
    // A public client's refresh token is bound to the key too (RFC 9449 §5).
    let refresh_token = polled.refresh_token().expect("a refresh token").clone();
    let other = OAuth2Client::builder(server.authorization_server(), ClientAuth::public("tv"), http.clone())
        .dpop(DpopKey::generate().unwrap())
        .build()
        .unwrap();
    let stolen = other.refresh().unwrap().refresh(&refresh_token, None).await;
    let error = oauth2_kit_test_support::expect_oauth2_error(stolen, "reqwest");
    assert_eq!(error.response.error, ErrorCode::InvalidGrant);
    let refreshed =
        with(ClientAuth::public("tv")).refresh().unwrap().refresh(&refresh_token, None).await.unwrap();
    assert_eq!(refreshed.dpop_jkt(), Some(key.thumbprint()));

    let introspection = client.introspection().unwrap();
    for (grant, token) in
        [("password", user), ("token exchange", exchanged), ("jwt bearer", vouched), ("device", polled)]
    {
        assert_eq!(token.token_type(), &TokenType::DPoP, "{grant}");
        assert_eq!(token.dpop_jkt(), Some(key.thumbprint()), "{grant}");
        let info = introspection.introspect(token.access_token()).await.unwrap();
        assert!(info.confirmation().unwrap().is_bound_to_key(&key), "{grant}");
    }
}
