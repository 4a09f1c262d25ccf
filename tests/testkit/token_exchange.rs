//! Token exchange (RFC 8693) against the embedded server, through both HTTP adapters: a user's
//! token for another audience and resource with a narrower scope, delegation with an actor
//! token, a JWT of a trusted issuer as the subject, the server's refusals, and the per-subject
//! caches on tokio and async-std.

use std::sync::Arc;

use oauth2_kit::grant::jwt_bearer::{AssertionContext, AssertionSource as _, SignedAssertion};
use oauth2_kit::grant::token_exchange::{TokenExchangeRequest, TokenTypeUri};
use oauth2_kit::http::HttpClient;
use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, ClientAuth, Error, ErrorCode, OAuth2Client, Password, Scope,
};
use oauth2_kit_test_support::adapters;
use oauth2_kit_testkit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, Route, TestClient,
    TestServer, TestUser,
};

fn scope(s: &str) -> Scope {
    s.parse().unwrap()
}

fn client(server: &TestServer, http: Arc<dyn HttpClient>) -> OAuth2Client {
    OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    )
}

/// A token of `user` (password grant) with `scopes`.
async fn user_token(client: &OAuth2Client, user: &str, password: &str, scopes: &str) -> AccessToken {
    let password = Password::new(password);
    let token =
        client.password().unwrap().request_token(user, &password, Some(&scope(scopes))).await.unwrap();
    token.access_token().clone()
}

fn error_code(error: &Error) -> Option<&ErrorCode> {
    error.oauth2().map(|e| &e.response.error)
}

#[tokio::test]
async fn a_users_token_is_exchanged_for_another_audience_with_a_narrower_scope() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let client = client(&server, http.clone());
        let incoming = user_token(&client, DEFAULT_USERNAME, DEFAULT_PASSWORD, "read write").await;
        let request = TokenExchangeRequest::access_token(&incoming)
            .requested_token_type(TokenTypeUri::AccessToken)
            .audience("orders-api")
            .resource("https://orders.example.com/".parse().unwrap())
            .scope(scope("read"));
        let exchanged = client.token_exchange().unwrap().exchange(&request).await.expect(adapter);
        assert_eq!(exchanged.issued_token_type(), &TokenTypeUri::AccessToken, "{adapter}");
        assert_eq!(exchanged.token().scope(), Some(&scope("read")), "{adapter}");
        let info =
            client.introspection().unwrap().introspect(exchanged.token().access_token()).await.unwrap();
        assert!(info.active, "{adapter}");
        assert_eq!(info.sub.as_deref(), Some(DEFAULT_USERNAME), "{adapter}");
        assert_eq!(
            info.aud,
            Some(vec!["orders-api".to_owned(), "https://orders.example.com/".to_owned()]),
            "{adapter}"
        );
    }
}

#[tokio::test]
async fn delegation_names_the_actor_and_a_trusted_jwt_may_be_the_subject() {
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::builder()
        .client(TestClient::new("gateway", "gateway-secret"))
        .trust_assertion_issuer("https://idp.example", key.public_key())
        .start()
        .unwrap();
    let client = client(&server, http.clone());
    let incoming = user_token(&client, DEFAULT_USERNAME, DEFAULT_PASSWORD, "read").await;
    let gateway =
        OAuth2Client::new(server.authorization_server(), ClientAuth::new("gateway", "gateway-secret"), http);
    let actor = gateway.client_credentials().unwrap().request_token(None).await.unwrap();
    let request = TokenExchangeRequest::access_token(&incoming)
        .actor(actor.access_token().expose_secret(), TokenTypeUri::AccessToken);
    let exchanged = client.token_exchange().unwrap().exchange(&request).await.unwrap();
    let info = client.introspection().unwrap().introspect(exchanged.token().access_token()).await.unwrap();
    assert_eq!(info.sub.as_deref(), Some(DEFAULT_USERNAME));
    assert_eq!(info.extra["act"], serde_json::json!({"sub": "gateway"}));

    // A JWT another issuer made (signed here as that issuer would), exchanged for a token.
    let jwt = jwt_of(&server, SignedAssertion::new(key, "https://idp.example", "carol")).await;
    let exchanged = client
        .token_exchange()
        .unwrap()
        .exchange(&TokenExchangeRequest::new(jwt, TokenTypeUri::Jwt))
        .await
        .unwrap();
    let info = client.introspection().unwrap().introspect(exchanged.token().access_token()).await.unwrap();
    assert_eq!(info.sub.as_deref(), Some("carol"));
}

/// A JWT `source` signs for `server`'s token endpoint now.
async fn jwt_of(server: &TestServer, source: SignedAssertion) -> String {
    let endpoint = server.token_endpoint();
    let context = AssertionContext::new(&endpoint, None, std::time::SystemTime::now());
    source.assertion(&context).await.unwrap().expose_secret().to_owned()
}

#[tokio::test]
async fn a_wider_scope_an_inactive_subject_or_another_token_type_is_refused() {
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::start().unwrap();
    let client = client(&server, http);
    let incoming = user_token(&client, DEFAULT_USERNAME, DEFAULT_PASSWORD, "read").await;
    let exchange = client.token_exchange().unwrap();
    let cases = [
        (TokenExchangeRequest::access_token(&incoming).scope(scope("read write")), ErrorCode::InvalidScope),
        (TokenExchangeRequest::access_token(&AccessToken::new("not-issued")), ErrorCode::InvalidGrant),
        (
            TokenExchangeRequest::access_token(&incoming).requested_token_type(TokenTypeUri::IdToken),
            ErrorCode::InvalidRequest,
        ),
    ];
    for (request, expected) in cases {
        let error = exchange.exchange(&request).await.unwrap_err();
        assert_eq!(error_code(&error), Some(&expected), "{request:?}: {error:?}");
    }
    assert_eq!(server.tokens_issued(), 1, "only the user's own token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_per_subject_on_tokio_each_caller_gets_its_own_subjects_token() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        server.add_user(TestUser::new("bob", "bob-password"));
        let client = client(&server, http.clone());
        let alice = user_token(&client, DEFAULT_USERNAME, DEFAULT_PASSWORD, "read").await;
        let bob = user_token(&client, "bob", "bob-password", "read").await;
        server.reset_counts();
        let cache = oauth2_kit_cache_tokio::caching_exchange(client.token_exchange().unwrap());
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let (cache, subject) = (cache.clone(), if i % 2 == 0 { alice.clone() } else { bob.clone() });
                let expected = if i % 2 == 0 { DEFAULT_USERNAME } else { "bob" };
                tokio::spawn(async move {
                    let request = TokenExchangeRequest::access_token(&subject).audience("orders-api");
                    (expected, cache.get(&request).await.map(|t| t.access_token().clone()))
                })
            })
            .collect();
        let mut tokens = std::collections::HashMap::new();
        for task in tasks {
            let (expected, token) = task.await.unwrap();
            tokens
                .entry(expected)
                .or_insert_with(std::collections::HashSet::new)
                .insert(token.expect(adapter).expose_secret().to_owned());
        }
        assert_eq!(server.requests(Route::Token), 2, "{adapter}: one exchange per subject");
        assert_eq!(cache.subjects(), 2, "{adapter}");
        for (expected, issued) in tokens {
            assert_eq!(issued.len(), 1, "{adapter}: {expected} got one token");
            let token = AccessToken::new(issued.into_iter().next().unwrap());
            let info = client.introspection().unwrap().introspect(&token).await.unwrap();
            assert_eq!(info.sub.as_deref(), Some(expected), "{adapter}: never another subject's token");
        }
    }
}

#[test]
fn cached_per_subject_on_async_std_a_hundred_callers_make_one_exchange() {
    let server = TestServer::start().unwrap();
    let http: Arc<dyn HttpClient> = Arc::new(oauth2_kit_isahc::IsahcClient::new().unwrap());
    let client = client(&server, http);
    async_std::task::block_on(async {
        let incoming = user_token(&client, DEFAULT_USERNAME, DEFAULT_PASSWORD, "read").await;
        let cache = oauth2_kit_cache_async_std::caching_exchange(client.token_exchange().unwrap());
        let provider =
            client.token_exchange().unwrap().provider(TokenExchangeRequest::access_token(&incoming));
        assert!(provider.cache_identity().is_some());
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (cache, incoming) = (cache.clone(), incoming.clone());
                async_std::task::spawn(async move {
                    let request = TokenExchangeRequest::access_token(&incoming);
                    cache.get(&request).await.map(|t| t.access_token().expose_secret().to_owned())
                })
            })
            .collect();
        let mut tokens = std::collections::HashSet::new();
        for task in tasks {
            tokens.insert(task.await.unwrap());
        }
        assert_eq!(tokens.len(), 1);
    });
    assert_eq!(server.requests(Route::Token), 2, "the password grant, then one exchange");
}
