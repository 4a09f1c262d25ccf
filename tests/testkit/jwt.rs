//! The testkit's signed tokens: ID tokens validated by the code flow, JWT access tokens
//! validated by a resource server, through key rotation under load, made-up `kid`s, and a key
//! set endpoint that fails.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_kit::jwt::{JwtAccessTokens, JwtError};
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner as _, PrivateKey};
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_test_support::adapters;
use oauth2_kit_testkit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME, Fault, Route, TestServer,
};

use super::grants::{provider, visit};

fn client(server: &TestServer, http: Arc<dyn oauth2_kit::http::HttpClient>) -> OAuth2Client {
    OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    )
}

/// A resource server's validator of the server's JWT access tokens for its `/resource`.
fn validator(server: &TestServer, client: &OAuth2Client) -> JwtAccessTokens {
    client.jwt_access_tokens(server.resource_url().as_str()).unwrap()
}

#[tokio::test]
async fn an_openid_login_brings_an_id_token_the_flow_validates() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let p = provider(&server, ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), http.clone());
        let (url, pending) = p
            .login_link()
            .scope("openid profile".parse().unwrap())
            .nonce()
            .unwrap()
            .build()
            .unwrap()
            .into_parts();
        let token = p.complete_login(&pending, &visit(&http, &url).await).await.expect(adapter);
        let claims = token.id_token_claims().expect("validated");
        assert_eq!(claims.sub, DEFAULT_USERNAME, "{adapter}");
        assert_eq!(claims.nonce.as_deref(), Some(pending.nonce().unwrap().expose_secret()), "{adapter}");
        assert!(claims.at_hash.is_some() && claims.extra.contains_key("email"), "{adapter}");
        assert_eq!(server.requests(Route::Jwks), 1, "{adapter}");

        // Without `openid`: no ID token.
        let (url, pending) = p.login_link().scope("read".parse().unwrap()).build().unwrap().into_parts();
        let token = p.complete_login(&pending, &visit(&http, &url).await).await.expect(adapter);
        assert!(token.id_token().is_none() && token.id_token_claims().is_none(), "{adapter}");
    }
}

#[tokio::test]
async fn jwt_access_tokens_validate_locally_and_introspect_as_opaque_ones() {
    for (adapter, http) in adapters() {
        let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
        let client = client(&server, http.clone());
        let token =
            client.client_credentials().unwrap().request_token(Some(&"read".parse().unwrap())).await.unwrap();
        let tokens = validator(&server, &client);
        let claims =
            tokens.validate::<serde_json::Value>(token.access_token().expose_secret()).await.expect(adapter);
        assert_eq!(claims.client_id.as_deref(), Some(DEFAULT_CLIENT_ID), "{adapter}");
        assert!(claims.has_scope("read"), "{adapter}");
        assert!(
            client.introspection().unwrap().introspect(token.access_token()).await.unwrap().active,
            "{adapter}"
        );
        // Another resource server's audience: refused.
        let other = client.jwt_access_tokens("https://other.example/api").unwrap();
        let error =
            other.validate::<serde_json::Value>(token.access_token().expose_secret()).await.unwrap_err();
        assert!(matches!(error, JwtError::WrongAudience), "{adapter}: {error:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_under_load_costs_one_fetch_and_fails_no_request() {
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let client = client(&server, http);
    let tokens = validator(&server, &client);
    let grant = client.client_credentials().unwrap();
    let old = grant.request_token(None).await.unwrap().access_token().expose_secret().to_owned();
    tokens.validate::<serde_json::Value>(&old).await.unwrap();
    assert_eq!(server.requests(Route::Jwks), 1);

    server.rotate_signing_key();
    let new = grant.request_token(None).await.unwrap().access_token().expose_secret().to_owned();
    let tasks: Vec<_> = (0..10_000)
        .map(|n| {
            let (tokens, token) = (tokens.clone(), if n % 10 == 0 { old.clone() } else { new.clone() });
            tokio::spawn(async move { tokens.validate::<serde_json::Value>(&token).await.is_ok() })
        })
        .collect();
    let mut passed = 0;
    for task in tasks {
        passed += usize::from(task.await.unwrap());
    }
    assert_eq!(passed, 10_000, "no request failed across the rotation");
    assert_eq!(server.requests(Route::Jwks), 2, "10,000 tokens with a new kid: one fetch");

    // A flood of made-up kids: no fetch within the 30 s cooldown.
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    for n in 0..500 {
        let forged = forge(&key, &format!("made-up-{n}"), &new).await;
        assert!(matches!(tokens.validate::<serde_json::Value>(&forged).await, Err(JwtError::UnknownKey)));
    }
    assert_eq!(server.requests(Route::Jwks), 2);

    // Retired keys no longer verify (a refetch after the cooldown finds the key gone); the
    // endpoint down keeps the last good set.
    server.inject(Route::Jwks, Fault::status(503), 1_000);
    tokens.validate::<serde_json::Value>(&new).await.expect("the kept set");
}

/// `token`'s claims under a header naming `kid`, signed by `key`.
async fn forge(key: &PrivateKey, kid: &str, token: &str) -> String {
    let claims = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":"{kid}"}}"#));
    let input = format!("{header}.{claims}");
    let signature = key.sign(input.as_bytes()).await.unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test]
async fn a_retired_key_is_refused_after_the_refetch_it_causes() {
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let client = client(&server, http);
    let grant = client.client_credentials().unwrap();
    let old = grant.request_token(None).await.unwrap().access_token().expose_secret().to_owned();
    server.rotate_signing_key();
    server.retire_old_signing_keys();
    // A validator that has never seen the old key: its cold fetch lacks it.
    let tokens = validator(&server, &client);
    let error = tokens.validate::<serde_json::Value>(&old).await.unwrap_err();
    assert!(matches!(error, JwtError::UnknownKey), "{error:?}");
}
