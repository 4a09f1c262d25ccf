//! `private_key_jwt` and `client_secret_jwt` against the embedded server, through both HTTP
//! adapters: every key type through token, introspection and revocation, and the server's
//! checks (signature, `iss` = `sub`, `aud`, `exp`, `iat`, `jti` replay) each refusing a bad
//! assertion with `invalid_client`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::http::HttpClient;
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner, PrivateKey, PublicKey, SharedSecretKey};
use oauth2_kit::{AssertionAudience, ClientAuth, Clock, Error, ErrorCode, OAuth2Client};
use oauth2_kit_test_support::adapters;
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestClient, TestServer};
use serde_json::{Value, json};

const ALGORITHMS: [JwsAlgorithm; 4] =
    [JwsAlgorithm::RS256, JwsAlgorithm::PS256, JwsAlgorithm::ES256, JwsAlgorithm::EdDSA];

fn invalid_client(error: &Error) -> bool {
    error.oauth2().is_some_and(|e| e.response.error == ErrorCode::InvalidClient)
}

#[tokio::test]
async fn private_key_jwt_with_every_key_type_through_token_introspection_and_revocation() {
    let keys: Vec<PrivateKey> = ALGORITHMS
        .iter()
        .map(|alg| PrivateKey::generate(*alg).unwrap().with_key_id(format!("{alg}-1")))
        .collect();
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        for key in &keys {
            // Registered as a server would read it: from the public JWK.
            let public = PublicKey::from_jwk(&key.public_key().to_jwk().to_string()).unwrap();
            let id = format!("svc-{}", key.algorithm());
            server.register(TestClient::with_key(&id, public));
            let client = OAuth2Client::new(
                server.authorization_server(),
                ClientAuth::private_key_jwt(id.as_str(), key.clone()),
                http.clone(),
            );
            let grant = client.client_credentials().unwrap();
            let first = grant.request_token(None).await.expect(adapter);
            // A second request right after: a new jti (the server refuses one it has seen).
            let second = grant.request_token(None).await.expect(adapter);
            let introspection = client.introspection().unwrap();
            assert!(introspection.introspect(first.access_token()).await.expect(adapter).active);
            client.revocation().unwrap().revoke(second.access_token()).await.expect(adapter);
            assert!(
                !introspection.introspect(second.access_token()).await.expect(adapter).active,
                "{adapter}"
            );
        }
        assert_eq!(server.requests(Route::Token), 2 * keys.len(), "{adapter}");
    }
}

#[tokio::test]
async fn client_secret_jwt_and_an_issuer_audience_are_accepted() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        for audience in [AssertionAudience::TokenEndpoint, AssertionAudience::Issuer] {
            let auth = ClientAuth::client_secret_jwt(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
                .with_assertion_audience(audience.clone());
            let client = OAuth2Client::new(server.authorization_server(), auth, http.clone());
            let token = client.client_credentials().unwrap().request_token(None).await.expect(adapter);
            assert!(client.introspection().unwrap().introspect(token.access_token()).await.unwrap().active);
        }
    }
}

#[tokio::test]
async fn a_wrong_key_a_wrong_audience_or_an_old_clock_is_invalid_client() {
    let registered = PrivateKey::generate(JwsAlgorithm::ES256).unwrap().with_key_id("k1");
    let stranger = PrivateKey::generate(JwsAlgorithm::ES256).unwrap().with_key_id("k1");
    #[derive(Debug)]
    struct AnHourAgo;
    impl Clock for AnHourAgo {
        fn now(&self) -> std::time::Instant {
            oauth2_kit::SystemClock.now()
        }
        fn system_time(&self) -> SystemTime {
            oauth2_kit::SystemClock.system_time() - Duration::from_secs(3600)
        }
    }
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        server.register(TestClient::with_key("svc", registered.public_key()));
        let clients = [
            (
                "another key",
                OAuth2Client::new(
                    server.authorization_server(),
                    ClientAuth::private_key_jwt("svc", stranger.clone()),
                    http.clone(),
                ),
            ),
            (
                "another audience",
                OAuth2Client::new(
                    server.authorization_server(),
                    ClientAuth::private_key_jwt("svc", registered.clone()).with_assertion_audience(
                        AssertionAudience::Value("https://elsewhere.example".into()),
                    ),
                    http.clone(),
                ),
            ),
            (
                "expired",
                OAuth2Client::builder(
                    server.authorization_server(),
                    ClientAuth::private_key_jwt("svc", registered.clone()),
                    http.clone(),
                )
                .clock(Arc::new(AnHourAgo))
                .build()
                .unwrap(),
            ),
            (
                "the secret of a key-only client",
                OAuth2Client::new(
                    server.authorization_server(),
                    ClientAuth::client_secret_jwt("svc", ""),
                    http.clone(),
                ),
            ),
        ];
        for (case, client) in clients {
            let error = client.client_credentials().unwrap().request_token(None).await.unwrap_err();
            assert!(invalid_client(&error), "{adapter}, {case}: {error:?}");
        }
    }
}

/// A client assertion built by hand, to break one rule at a time.
async fn assertion(signer: &dyn JwtSigner, header: Value, claims: Value) -> String {
    let mut input = URL_SAFE_NO_PAD.encode(header.to_string());
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = signer.sign(input.as_bytes()).await.unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn post_token(http: &Arc<dyn HttpClient>, server: &TestServer, form: &[(&str, &str)]) -> (u16, Value) {
    let body = oauth2_kit::reexports::url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let request = http::Request::post(server.token_endpoint().as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .unwrap();
    let response = http.send(request).await.unwrap();
    (response.status().as_u16(), serde_json::from_slice(response.body()).unwrap())
}

#[tokio::test]
async fn the_server_checks_every_rule_of_a_client_assertion() {
    let key = PrivateKey::generate(JwsAlgorithm::EdDSA).unwrap().with_key_id("k1");
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::start().unwrap();
    server.register(TestClient::with_key("svc", key.public_key()));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let aud = server.token_endpoint().as_str().to_owned();
    let good = || json!({"iss": "svc", "sub": "svc", "aud": aud, "iat": now, "exp": now + 60, "jti": "j-0"});
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});
    let with = |name: &str, value: Value, jti: &str| {
        let mut claims = good();
        claims[name] = value;
        claims["jti"] = jti.into();
        claims
    };
    let hs256 = SharedSecretKey::new("svc-has-no-secret-so-this-cannot-match");
    let cases: Vec<(&str, String)> = vec![
        ("sub differs from iss", assertion(&key, header.clone(), with("sub", "other".into(), "j-1")).await),
        ("expired", assertion(&key, header.clone(), with("exp", (now - 60).into(), "j-2")).await),
        (
            "issued in the future",
            assertion(&key, header.clone(), with("iat", (now + 600).into(), "j-3")).await,
        ),
        ("no exp", assertion(&key, header.clone(), with("exp", Value::Null, "j-4")).await),
        (
            "another audience",
            assertion(&key, header.clone(), with("aud", "https://elsewhere".into(), "j-5")).await,
        ),
        (
            "unknown kid",
            assertion(&key, json!({"alg": "EdDSA", "kid": "k2"}), with("jti", "j-6".into(), "j-6")).await,
        ),
        ("alg none", {
            let unsigned = assertion(&key, json!({"alg": "none"}), with("jti", "j-7".into(), "j-7")).await;
            format!("{}.", unsigned.rsplit_once('.').unwrap().0)
        }),
        (
            "HS256 with no secret",
            assertion(&hs256, json!({"alg": "HS256"}), with("jti", "j-8".into(), "j-8")).await,
        ),
        ("unknown client", assertion(&key, header.clone(), with("iss", "nobody".into(), "j-9")).await),
        ("not a JWT", "abc".to_owned()),
    ];
    let assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    for (case, jwt) in &cases {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", assertion_type),
            ("client_assertion", jwt),
        ];
        let (status, body) = post_token(&http, &server, &form).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{case}: {body}");
    }
    // The good one once; the same again is a replay.
    let jwt = assertion(&key, header.clone(), good()).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", assertion_type),
        ("client_assertion", &jwt),
    ];
    let (status, body) = post_token(&http, &server, &form).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_token(&http, &server, &form).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "replayed: {body}");
    assert!(body["error_description"].as_str().unwrap().contains("jti"), "{body}");
    // With a client secret as well, or the wrong assertion type: a malformed request.
    let jwt = assertion(&key, header.clone(), with("jti", "j-10".into(), "j-10")).await;
    let both = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", assertion_type),
        ("client_assertion", &jwt),
        ("client_secret", "x"),
    ];
    let wrong_type =
        [("grant_type", "client_credentials"), ("client_assertion_type", "saml"), ("client_assertion", &jwt)];
    for form in [&both[..], &wrong_type[..]] {
        let (status, body) = post_token(&http, &server, form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    }
}

#[tokio::test]
async fn discovery_advertises_the_signed_assertion_methods() {
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::start().unwrap();
    let metadata = ServerMetadata::discover(&server.issuer(), http).await.unwrap();
    let methods = metadata.token_endpoint_auth_methods();
    assert!(methods.contains(&"private_key_jwt") && methods.contains(&"client_secret_jwt"), "{methods:?}");
}

#[tokio::test]
async fn a_discovered_client_picks_a_method_the_server_accepts_and_refuses_one_it_does_not() {
    use oauth2_kit::{AuthMethod, ConfigErrorKind};
    let (_, http) = adapters().into_iter().next().unwrap();
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    // (methods the server accepts, credentials, method used or None: refused at the getter)
    let cases = [
        (
            vec![AuthMethod::ClientSecretPost],
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            Some(AuthMethod::ClientSecretPost),
        ),
        (
            vec![AuthMethod::ClientSecretJwt],
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            Some(AuthMethod::ClientSecretJwt),
        ),
        (
            vec![AuthMethod::ClientSecretPost],
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
                .with_method(AuthMethod::ClientSecretBasic),
            None,
        ),
        (vec![AuthMethod::PrivateKeyJwt], ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), None),
        (vec![AuthMethod::ClientSecretBasic], ClientAuth::private_key_jwt("svc", key.clone()), None),
        (
            vec![AuthMethod::PrivateKeyJwt],
            ClientAuth::private_key_jwt("svc", key.clone()),
            Some(AuthMethod::PrivateKeyJwt),
        ),
    ];
    for (index, (methods, auth, expected)) in cases.into_iter().enumerate() {
        let server = TestServer::builder()
            .auth_methods(methods.clone())
            .client(TestClient::with_key("svc", key.public_key()))
            .start()
            .unwrap();
        let client = OAuth2Client::discover(&server.issuer(), auth.clone(), http.clone()).await.unwrap();
        match (client.client_credentials(), expected) {
            (Ok(grant), Some(_)) => {
                grant.request_token(None).await.unwrap_or_else(|e| panic!("case {index}: {e}"));
            }
            (Err(Error::Config(error)), None) => {
                assert_eq!(error.kind(), ConfigErrorKind::UnsupportedByServer, "case {index}: {error}");
                assert_eq!(server.requests(Route::Token), 0, "case {index}: nothing sent");
                // Configured by hand (no metadata), the same credentials reach the server,
                // which refuses them.
                let by_hand = OAuth2Client::new(server.authorization_server(), auth, http.clone());
                let refused = by_hand.client_credentials().unwrap().request_token(None).await.unwrap_err();
                assert!(invalid_client(&refused), "case {index}: {refused:?}");
            }
            (result, expected) => panic!("case {index}: {:?}, expected {expected:?}", result.map(drop)),
        }
        if let Some(method) = expected {
            // The server saw the method: it accepts only the listed ones.
            assert_eq!(server.requests(Route::Token), 1, "case {index}");
            assert!(methods.contains(&method));
        }
    }
}
