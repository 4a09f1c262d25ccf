//! The layer in front of axum services: over loopback sockets against the testkit (JWT access
//! tokens, introspection, both, DPoP), in process for the table of bad tokens (each with its
//! status and challenge) and certificate-bound tokens; the validators on async-std too.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use oauth2_kit::dpop::DpopKey;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::jwt::{AccessTokenClaims, Jwks, JwtAccessTokens};
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner as _, PrivateKey};
use oauth2_kit::{ClientAuth, Endpoint, IntrospectionResponse, OAuth2Client};
use oauth2_kit_resource_server::{
    Claims, DpopSettings, Introspected, JwtOrIntrospection, PresentedCertificate, Rejected, RequireScope,
    TokenLayer, TokenValidator,
};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Fault, Route, TestServer};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The service under test: `/orders` for `orders:read`, `/orders/new` also for `orders:write`;
/// both answer with what the token says.
fn app(layer: TokenLayer) -> Router {
    async fn who(Claims(claims): Claims) -> String {
        format!("{}|{}", claims.sub.unwrap_or_default(), claims.client_id.unwrap_or_default())
    }
    Router::new()
        .route("/orders", get(who))
        .route("/orders/new", get(who).route_layer(RequireScope::new("orders:write".parse().unwrap())))
        .layer(layer.realm("orders").require_scope("orders:read".parse().unwrap()))
}

/// Serves `app` on a loopback port; its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// GETs `url` with `headers` over `http`: the status and the challenges.
async fn get_with(
    http: &Arc<dyn HttpClient>,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Vec<String>, Bytes) {
    let mut request = Request::builder().uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = http.send(request.body(Bytes::new()).unwrap()).await.unwrap();
    (response.status(), challenges(response.headers()), response.body().clone())
}

fn challenges(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn testkit_client(server: &TestServer, http: Arc<dyn HttpClient>) -> OAuth2Client {
    OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    )
}

#[tokio::test]
async fn jwt_access_tokens_through_the_layer_over_sockets() {
    for (adapter, http) in oauth2_kit_test_support::adapters() {
        let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
        let client = testkit_client(&server, http.clone());
        let base =
            serve(app(TokenLayer::new(client.jwt_access_tokens(server.resource_url().as_str()).unwrap())))
                .await;
        let grant = client.client_credentials().unwrap();
        let read = grant.request_token(Some(&"orders:read".parse().unwrap())).await.unwrap();
        let bearer = format!("Bearer {}", read.access_token().expose_secret());

        let (status, challenge, body) =
            get_with(&http, &format!("{base}/orders"), &[("authorization", &bearer)]).await;
        assert_eq!(status, StatusCode::OK, "{adapter}");
        assert_eq!(
            body,
            format!("{DEFAULT_CLIENT_ID}|{DEFAULT_CLIENT_ID}"),
            "{adapter}: the handler saw the claims"
        );
        assert!(challenge.is_empty());

        let (status, challenge, body) = get_with(&http, &format!("{base}/orders"), &[]).await;
        assert_eq!(
            (status, challenge),
            (StatusCode::UNAUTHORIZED, vec![r#"Bearer realm="orders""#.to_owned()]),
            "{adapter}"
        );
        assert!(body.is_empty());

        // The route's own scope.
        let (status, challenge, _) =
            get_with(&http, &format!("{base}/orders/new"), &[("authorization", &bearer)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{adapter}");
        assert_eq!(challenge, [r#"Bearer realm="orders", error="insufficient_scope", scope="orders:write""#]);
        let both = grant.request_token(Some(&"orders:read orders:write".parse().unwrap())).await.unwrap();
        let authorization = format!("Bearer {}", both.access_token().expose_secret());
        let (status, ..) =
            get_with(&http, &format!("{base}/orders/new"), &[("authorization", &authorization)]).await;
        assert_eq!(status, StatusCode::OK, "{adapter}");
        // The layer's scope.
        let other = grant.request_token(Some(&"profile".parse().unwrap())).await.unwrap();
        let authorization = format!("Bearer {}", other.access_token().expose_secret());
        let (status, challenge, _) =
            get_with(&http, &format!("{base}/orders"), &[("authorization", &authorization)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{adapter}");
        assert_eq!(challenge, [r#"Bearer realm="orders", error="insufficient_scope", scope="orders:read""#]);
        // In the query string: refused, unless allowed.
        let query = format!("{base}/orders?access_token={}", read.access_token().expose_secret());
        let (status, challenge, _) = get_with(&http, &query, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{adapter}");
        assert_eq!(challenge, [r#"Bearer realm="orders", error="invalid_request""#]);
        assert_eq!(server.requests(Route::Jwks), 1, "{adapter}: the keys fetched once");
    }
}

#[tokio::test]
async fn opaque_tokens_by_cached_introspection_and_both_kinds_together() {
    let (_, http) = oauth2_kit_test_support::adapters().into_iter().next().unwrap();
    let server = TestServer::start().unwrap();
    let client = testkit_client(&server, http.clone());
    let cached = oauth2_kit_cache_tokio::caching_introspection(client.introspection().unwrap());
    let base = serve(app(TokenLayer::new(Introspected::new(cached.clone())))).await;
    let token = client
        .client_credentials()
        .unwrap()
        .request_token(Some(&"orders:read".parse().unwrap()))
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token.access_token().expose_secret());
    for _ in 0..20 {
        let (status, ..) = get_with(&http, &format!("{base}/orders"), &[("authorization", &bearer)]).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(server.requests(Route::Introspection), 1, "one introspection for 20 requests");
    let (status, challenge, _) =
        get_with(&http, &format!("{base}/orders"), &[("authorization", "Bearer made-up")]).await;
    assert_eq!(
        (status, challenge),
        (StatusCode::UNAUTHORIZED, vec![r#"Bearer realm="orders", error="invalid_token""#.to_owned()])
    );
    // The introspection endpoint down: 503, not 401.
    server.inject(Route::Introspection, Fault::status(500), 10);
    let (status, challenge, _) =
        get_with(&http, &format!("{base}/orders"), &[("authorization", "Bearer another")]).await;
    assert_eq!((status, challenge.len()), (StatusCode::SERVICE_UNAVAILABLE, 0));
    server.clear_faults();
    server.reset_counts();

    // JWTs locally, the rest by introspection.
    let jwt_server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let jwt_client = testkit_client(&jwt_server, http.clone());
    let both = JwtOrIntrospection::new(
        jwt_client.jwt_access_tokens(jwt_server.resource_url().as_str()).unwrap(),
        Introspected::new(client.introspection().unwrap()),
    );
    let base = serve(app(TokenLayer::new(both))).await;
    let jwt = jwt_client
        .client_credentials()
        .unwrap()
        .request_token(Some(&"orders:read".parse().unwrap()))
        .await
        .unwrap();
    for token in [jwt.access_token().expose_secret(), token.access_token().expose_secret()] {
        let (status, ..) =
            get_with(&http, &format!("{base}/orders"), &[("authorization", &format!("Bearer {token}"))])
                .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(jwt_server.requests(Route::Introspection), 0);
    assert_eq!(server.requests(Route::Introspection), 1, "the opaque token only");
}

#[tokio::test]
async fn dpop_bound_tokens_need_a_fresh_proof_of_their_key() {
    let (_, http) = oauth2_kit_test_support::adapters().into_iter().next().unwrap();
    let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let key = DpopKey::generate().unwrap();
    let client = OAuth2Client::builder(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http.clone(),
    )
    .dpop(key.clone())
    .build()
    .unwrap();
    let tokens = client.jwt_access_tokens(server.resource_url().as_str()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let layer = TokenLayer::new(tokens).dpop(DpopSettings::new(base.parse().unwrap()));
    let app = app(layer);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let token = client
        .client_credentials()
        .unwrap()
        .request_token(Some(&"orders:read".parse().unwrap()))
        .await
        .unwrap();
    assert!(token.dpop_jkt().is_some());
    let url = format!("{base}/orders");
    let proof = |key: &DpopKey| {
        let (key, uri, token) =
            (key.clone(), url.parse::<http::Uri>().unwrap(), token.access_token().clone());
        async move {
            key.proof(&http::Method::GET, &uri, Some(&token)).await.unwrap().to_str().unwrap().to_owned()
        }
    };
    let dpop = format!("DPoP {}", token.access_token().expose_secret());
    let first = proof(&key).await;
    let (status, ..) = get_with(&http, &url, &[("authorization", &dpop), ("dpop", &first)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, challenge, _) = get_with(&http, &url, &[("authorization", &dpop), ("dpop", &first)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a proof is good once");
    assert_eq!(
        challenge,
        [r#"DPoP realm="orders", algs="ES256 EdDSA RS256 PS256", error="invalid_dpop_proof""#]
    );
    let (status, ..) = get_with(&http, &url, &[("authorization", &dpop), ("dpop", &proof(&key).await)]).await;
    assert_eq!(status, StatusCode::OK);
    // A path that would move the proof's URI to another host when joined to the origin.
    let elsewhere = format!("{base}//evil.example/orders");
    let foreign = {
        let (key, token) = (key.clone(), token.access_token().clone());
        let uri: http::Uri = "https://evil.example/orders".parse().unwrap();
        key.proof(&http::Method::GET, &uri, Some(&token)).await.unwrap().to_str().unwrap().to_owned()
    };
    let (status, challenge, _) =
        get_with(&http, &elsewhere, &[("authorization", &dpop), ("dpop", &foreign)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a proof for another server");
    assert_eq!(
        challenge,
        [r#"DPoP realm="orders", algs="ES256 EdDSA RS256 PS256", error="invalid_dpop_proof""#]
    );
    let other = proof(&DpopKey::generate().unwrap()).await;
    let (status, challenge, _) = get_with(&http, &url, &[("authorization", &dpop), ("dpop", &other)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a proof of another key");
    assert_eq!(challenge, [r#"DPoP realm="orders", algs="ES256 EdDSA RS256 PS256", error="invalid_token""#]);
    let (status, ..) = get_with(&http, &url, &[("authorization", &dpop)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no proof");
    let bearer = format!("Bearer {}", token.access_token().expose_secret());
    let (status, challenge, _) =
        get_with(&http, &url, &[("authorization", &bearer), ("dpop", &proof(&key).await)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a bound token as a bearer token");
    assert_eq!(challenge, [r#"Bearer realm="orders", error="invalid_token""#]);
    // Without a token, both schemes are offered.
    let (_, challenge, _) = get_with(&http, &url, &[]).await;
    assert_eq!(
        challenge,
        [r#"Bearer realm="orders""#, r#"DPoP realm="orders", algs="ES256 EdDSA RS256 PS256""#]
    );
}

/// An issuer's `jwks_uri` in process, publishing one key.
struct KeySet(Value);

#[async_trait::async_trait]
impl HttpClient for KeySet {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(http::Response::new(Bytes::from(self.0.to_string())))
    }
}

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://orders.example";

fn sign(key: &PrivateKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = futures_lite::future::block_on(key.sign(input.as_bytes())).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn answer(app: &Router, headers: &[(&str, String)], uri: &str) -> (StatusCode, Vec<String>) {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let response = app.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    (response.status(), challenges(response.headers()))
}

#[tokio::test]
async fn every_bad_token_gets_its_status_and_challenge() {
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap().with_key_id("k1");
    let rsa = PrivateKey::generate(JwsAlgorithm::RS256).unwrap().with_key_id("r1");
    let set = json!({ "keys": [key.public_key().to_jwk(), rsa.public_key().to_jwk()] });
    let jwks =
        Jwks::builder(Endpoint::new("https://issuer.example/jwks".parse().unwrap()).unwrap(), KeySet(set))
            .build()
            .unwrap();
    let tokens = JwtAccessTokens::new(jwks, &ISSUER.parse().unwrap(), AUDIENCE);
    let app = app(TokenLayer::new(tokens));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "client_id": "c1", "iat": now,
        "exp": now + 300, "jti": "j1", "scope": "orders:read" });
    let with = |name: &str, value: Value| {
        let mut changed = claims.clone();
        changed[name] = value;
        changed
    };
    let header = json!({ "alg": "ES256", "kid": "k1", "typ": "at+jwt" });
    let header_with = |name: &str, value: Value| {
        let mut changed = header.clone();
        changed[name] = value;
        changed
    };
    let good = sign(&key, &header, &claims);
    let hs256 = {
        use hmac::Mac as _;
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "kid": "r1", "typ": "at+jwt" }).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(rsa.public_key().to_jwk().to_string().as_bytes())
                .unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    };
    let invalid = vec![r#"Bearer realm="orders", error="invalid_token""#.to_owned()];
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            ),
        ),
        ("HS256 signed with the public key", hs256),
        ("expired", sign(&key, &header, &with("exp", json!(now - 120)))),
        ("not yet valid", sign(&key, &header, &with("nbf", json!(now + 120)))),
        ("wrong iss", sign(&key, &header, &with("iss", json!("https://evil.example")))),
        ("wrong aud", sign(&key, &header, &with("aud", json!("https://other.example")))),
        ("wrong typ", sign(&key, &header_with("typ", json!("JWT")), &claims)),
        ("unknown kid after a refetch", sign(&key, &header_with("kid", json!("gone")), &claims)),
        ("truncated", good.get(..good.len() - 12).unwrap().to_owned()),
        ("1 MB", sign(&key, &header, &with("pad", json!("x".repeat(1024 * 1024))))),
    ];
    assert_eq!(
        answer(&app, &[("authorization", format!("Bearer {good}"))], "/orders").await.0,
        StatusCode::OK,
        "the control"
    );
    for (name, token) in cases {
        let got = answer(&app, &[("authorization", format!("Bearer {token}"))], "/orders").await;
        assert_eq!(got, (StatusCode::UNAUTHORIZED, invalid.clone()), "{name}");
    }
    let request_error =
        (StatusCode::BAD_REQUEST, vec![r#"Bearer realm="orders", error="invalid_request""#.to_owned()]);
    let in_query = format!("/orders?access_token={good}");
    assert_eq!(answer(&app, &[], &in_query).await, request_error, "a token in the query string");
    let two = [("authorization", format!("Bearer {good}")), ("authorization", format!("Bearer {good}"))];
    assert_eq!(answer(&app, &two, "/orders").await, request_error, "two tokens");
    assert_eq!(answer(&app, &[("authorization", "Bearer a b".to_owned())], "/orders").await, request_error);
    let none = (StatusCode::UNAUTHORIZED, vec![r#"Bearer realm="orders""#.to_owned()]);
    assert_eq!(
        answer(&app, &[("authorization", format!("Basic {good}"))], "/orders").await,
        none,
        "another scheme"
    );
    assert_eq!(
        answer(&app, &[("authorization", format!("DPoP {good}"))], "/orders").await,
        none,
        "DPoP not enabled"
    );

    // The query string, where allowed.
    let allowing = TokenLayer::new(JwtAccessTokens::new(
        Jwks::builder(
            Endpoint::new("https://issuer.example/jwks".parse().unwrap()).unwrap(),
            KeySet(json!({ "keys": [key.public_key().to_jwk()] })),
        )
        .build()
        .unwrap(),
        &ISSUER.parse().unwrap(),
        AUDIENCE,
    ))
    .allow_query_token();
    let allowing = self::app(allowing);
    assert_eq!(answer(&allowing, &[], &in_query).await.0, StatusCode::OK);
    assert_eq!(
        answer(&allowing, &[("authorization", format!("Bearer {good}"))], &in_query).await,
        request_error,
        "both ways at once"
    );
    let twice = format!("/orders?access_token={good}&access_token={good}");
    assert_eq!(answer(&allowing, &[], &twice).await, request_error, "two tokens in the query");

    // The service behind the layer never sees a token taken from the query string.
    let echo = Router::new().route("/echo", get(|uri: http::Uri| async move { uri.to_string() })).layer(
        TokenLayer::new(JwtAccessTokens::new(
            Jwks::builder(
                Endpoint::new("https://issuer.example/jwks".parse().unwrap()).unwrap(),
                KeySet(json!({ "keys": [key.public_key().to_jwk()] })),
            )
            .build()
            .unwrap(),
            &ISSUER.parse().unwrap(),
            AUDIENCE,
        ))
        .allow_query_token(),
    );
    let request = Request::get(format!("/echo?page=2&access_token={good}&sort=asc"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = echo.oneshot(request).await.unwrap();
    let seen = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    assert_eq!(&seen[..], b"/echo?page=2&sort=asc");
}

/// A validator answering with claims read from an introspection response.
struct Fixed(&'static str);

#[async_trait::async_trait]
impl TokenValidator for Fixed {
    async fn validate(&self, token: &str) -> Result<AccessTokenClaims, Rejected> {
        if token != "good" {
            return Err(Rejected::Invalid("unknown".into()));
        }
        let response = IntrospectionResponse::from_json(self.0.as_bytes()).unwrap();
        Ok(AccessTokenClaims::from_introspection(&response).unwrap())
    }
}

#[tokio::test]
async fn a_certificate_bound_token_needs_its_certificate() {
    let certificate = PresentedCertificate::from_der(b"the client's certificate");
    let body: &'static str = Box::leak(
        format!(
            r#"{{"active":true,"scope":"orders:read","cnf":{{"x5t#S256":"{}"}}}}"#,
            certificate.thumbprint()
        )
        .into_boxed_str(),
    );
    let app = app(TokenLayer::new(Fixed(body)));
    let call = |presented: Option<PresentedCertificate>| {
        let app = app.clone();
        async move {
            let mut request = Request::get("/orders").header("authorization", "Bearer good");
            if let Some(presented) = presented {
                request = request.extension(presented);
            }
            app.oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap().status()
        }
    };
    assert_eq!(call(Some(certificate.clone())).await, StatusCode::OK);
    assert_eq!(call(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(Some(PresentedCertificate::from_der(b"another"))).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_key_set_down_on_a_cold_start_is_503_not_401() {
    let (_, http) = oauth2_kit_test_support::adapters().into_iter().next().unwrap();
    let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let client = testkit_client(&server, http.clone());
    let token = client
        .client_credentials()
        .unwrap()
        .request_token(Some(&"orders:read".parse().unwrap()))
        .await
        .unwrap();
    server.inject(Route::Jwks, Fault::status(503), 100);
    let app = app(TokenLayer::new(client.jwt_access_tokens(server.resource_url().as_str()).unwrap()));
    let got = answer(
        &app,
        &[("authorization", format!("Bearer {}", token.access_token().expose_secret()))],
        "/orders",
    )
    .await;
    assert_eq!(got, (StatusCode::SERVICE_UNAVAILABLE, vec![]));
}

#[test]
fn the_validators_run_on_async_std() {
    let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let http = oauth2_kit_isahc::IsahcClient::new().unwrap();
    let client = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    );
    async_std::task::block_on(async {
        let token = client.client_credentials().unwrap().request_token(None).await.unwrap();
        let secret = token.access_token().expose_secret();
        let jwt = client.jwt_access_tokens(server.resource_url().as_str()).unwrap();
        let claims = TokenValidator::validate(&jwt, secret).await.unwrap();
        assert_eq!(claims.client_id.as_deref(), Some(DEFAULT_CLIENT_ID));
        let cached = oauth2_kit_cache_async_std::caching_introspection(client.introspection().unwrap());
        let introspected = Introspected::new(cached);
        for _ in 0..5 {
            assert!(introspected.validate(secret).await.is_ok());
        }
        assert!(matches!(introspected.validate("made-up").await, Err(Rejected::Invalid(_))));
        // An audience to hold tokens to: the testkit's client credentials tokens have none.
        let strict =
            Introspected::new(client.introspection().unwrap()).with_audience("https://orders.example");
        assert!(matches!(strict.validate(secret).await, Err(Rejected::Invalid(_))));
    });
    assert_eq!(server.requests(Route::Introspection), 3, "one per token through the cache, one uncached");
}
