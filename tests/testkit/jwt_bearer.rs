//! The JWT bearer grant (RFC 7523 §2.1) against the embedded server, through both HTTP adapters:
//! assertions a trusted issuer signs, and the client's own; the server's refusals; a caching
//! provider over the grant on tokio and async-std (100 callers, 1 token request).

use std::sync::Arc;

use oauth2_kit::grant::jwt_bearer::SignedAssertion;
use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
use oauth2_kit::{AccessTokenProvider, Assertion, ClientAuth, Error, ErrorCode, OAuth2Client};
use oauth2_kit_test_support::adapters;
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestClient, TestServer};

const ISSUER: &str = "https://workload-identity.example";

fn invalid_grant(error: &Error) -> bool {
    error.oauth2().is_some_and(|e| e.response.error == ErrorCode::InvalidGrant)
}

fn server_trusting(key: &PrivateKey) -> TestServer {
    TestServer::builder().trust_assertion_issuer(ISSUER, key.public_key()).start().unwrap()
}

fn client(server: &TestServer, http: Arc<dyn oauth2_kit::http::HttpClient>) -> OAuth2Client {
    OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    )
}

#[tokio::test]
async fn a_trusted_issuers_assertion_gets_a_token_for_its_subject() {
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap().with_key_id("wi-1");
    for (adapter, http) in adapters() {
        let server = server_trusting(&key);
        let client = client(&server, http.clone());
        let grant = client
            .jwt_bearer(SignedAssertion::new(key.clone(), ISSUER, "system:serviceaccount:reports"))
            .unwrap();
        let scope = "read".parse().unwrap();
        let token = grant.request_token(Some(&scope)).await.expect(adapter);
        assert_eq!(token.scope(), Some(&scope), "{adapter}");
        let info = client.introspection().unwrap().introspect(token.access_token()).await.unwrap();
        assert!(info.active, "{adapter}");
        assert_eq!(info.sub.as_deref(), Some("system:serviceaccount:reports"), "{adapter}");
        // Right after: a new assertion (the server refuses a jti it has seen).
        grant.request_token(None).await.expect(adapter);
        assert_eq!(server.requests(Route::Token), 2, "{adapter}");
    }
}

#[tokio::test]
async fn a_client_may_vouch_for_itself_with_its_own_key_and_no_client_secret() {
    let key = PrivateKey::generate(JwsAlgorithm::EdDSA).unwrap();
    let (_, http) = adapters().into_iter().next().unwrap();
    let server =
        TestServer::builder().client(TestClient::with_key("reports", key.public_key())).start().unwrap();
    let client =
        OAuth2Client::new(server.authorization_server(), ClientAuth::public("reports"), http.clone());
    let token = client
        .jwt_bearer(SignedAssertion::new(key.clone(), "reports", "reports"))
        .unwrap()
        .request_token(None)
        .await
        .unwrap();
    assert!(!token.access_token().expose_secret().is_empty());
    // A public client for the grant, because the assertion is the credential; the same client
    // with private_key_jwt works as well.
    let authenticated = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::private_key_jwt("reports", key.clone()),
        http,
    );
    authenticated
        .jwt_bearer(SignedAssertion::new(key, "reports", "reports"))
        .unwrap()
        .request_token(None)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_untrusted_expired_or_replayed_assertion_is_invalid_grant() {
    let trusted = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    let stranger = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = server_trusting(&trusted);
    let client = client(&server, http);
    let cases = [
        ("another key", SignedAssertion::new(stranger, ISSUER, "svc")),
        ("another issuer", SignedAssertion::new(trusted.clone(), "https://elsewhere.example", "svc")),
        (
            "another audience",
            SignedAssertion::new(trusted.clone(), ISSUER, "svc")
                .audience(oauth2_kit::AssertionAudience::Value("https://elsewhere.example/token".into())),
        ),
    ];
    for (case, source) in cases {
        let error = client.jwt_bearer(source).unwrap().request_token(None).await.unwrap_err();
        assert!(invalid_grant(&error), "{case}: {error:?}");
    }
    // An assertion made once and presented twice: the second is a replay.
    let once = SignedAssertion::new(trusted, ISSUER, "svc");
    let fixed = fixed_assertion(&server, once).await;
    let grant = client.jwt_bearer(fixed).unwrap();
    grant.request_token(None).await.unwrap();
    let error = grant.request_token(None).await.unwrap_err();
    assert!(invalid_grant(&error), "replayed: {error:?}");
    assert!(error.to_string().contains("jti"), "{error}");
}

/// One assertion from `source`, made for `server`'s token endpoint now, to send as is.
async fn fixed_assertion(server: &TestServer, source: SignedAssertion) -> Assertion {
    /// Records the assertion a grant sends, and answers as the server would not: with an error.
    #[derive(Debug)]
    struct Capture(std::sync::Mutex<Option<Assertion>>, SignedAssertion);
    #[oauth2_kit::async_trait]
    impl oauth2_kit::grant::jwt_bearer::AssertionSource for Capture {
        async fn assertion(
            &self,
            context: &oauth2_kit::grant::jwt_bearer::AssertionContext<'_>,
        ) -> Result<Assertion, oauth2_kit::signing::SigningError> {
            let made = self.1.assertion(context).await?;
            *self.0.lock().unwrap() = Some(made);
            Err(oauth2_kit::signing::SigningError::new("captured, not sent"))
        }
    }
    let (_, http) = adapters().into_iter().next().unwrap();
    let capture = Arc::new(Capture(std::sync::Mutex::new(None), source));
    let client = client(server, http);
    let error = client.jwt_bearer(ArcSource(capture.clone())).unwrap().request_token(None).await.unwrap_err();
    assert!(matches!(error, Error::Signing(_)), "{error:?}");
    let assertion = capture.0.lock().unwrap().take();
    assertion.unwrap()
}

/// A shared source.
#[derive(Debug)]
struct ArcSource<S>(Arc<S>);

#[oauth2_kit::async_trait]
impl<S: oauth2_kit::grant::jwt_bearer::AssertionSource> oauth2_kit::grant::jwt_bearer::AssertionSource
    for ArcSource<S>
{
    async fn assertion(
        &self,
        context: &oauth2_kit::grant::jwt_bearer::AssertionContext<'_>,
    ) -> Result<Assertion, oauth2_kit::signing::SigningError> {
        self.0.assertion(context).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_on_tokio_a_hundred_callers_make_one_token_request() {
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    for (adapter, http) in adapters() {
        let server = server_trusting(&key);
        let grant =
            client(&server, http).jwt_bearer(SignedAssertion::new(key.clone(), ISSUER, "svc")).unwrap();
        assert!(grant.cache_identity().unwrap().contains("svc"), "the subject is part of the identity");
        let cached = oauth2_kit_cache_tokio::caching(grant);
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cached = cached.clone();
                tokio::spawn(async move {
                    cached.get(None).await.map(|t| t.access_token().expose_secret().to_owned())
                })
            })
            .collect();
        let mut tokens = std::collections::HashSet::new();
        for task in tasks {
            tokens.insert(task.await.unwrap().expect(adapter));
        }
        assert_eq!((tokens.len(), server.requests(Route::Token)), (1, 1), "{adapter}");
    }
}

#[test]
fn cached_on_async_std_a_hundred_callers_make_one_token_request() {
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    let server = server_trusting(&key);
    let http: Arc<dyn oauth2_kit::http::HttpClient> = Arc::new(oauth2_kit_isahc::IsahcClient::new().unwrap());
    let grant = client(&server, http).jwt_bearer(SignedAssertion::new(key, ISSUER, "svc")).unwrap();
    let cached = oauth2_kit_cache_async_std::caching(grant);
    async_std::task::block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cached = cached.clone();
                async_std::task::spawn(async move {
                    cached.get(None).await.map(|t| t.access_token().expose_secret().to_owned())
                })
            })
            .collect();
        let mut tokens = std::collections::HashSet::new();
        for task in tasks {
            tokens.insert(task.await.unwrap());
        }
        assert_eq!(tokens.len(), 1);
    });
    assert_eq!(server.requests(Route::Token), 1);
}
