//! Grants that trade a token the client holds for a new one, through oidc-provider's extension
//! point for grant types (see `server.mjs`): the JWT bearer grant (RFC 7523 §2.1) and token
//! exchange (RFC 8693), through both HTTP adapters.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_kit::grant::jwt_bearer::SignedAssertion;
use oauth2_kit::http::HttpClient;
use oauth2_kit::signing::{JwtSigner as _, PrivateKey};
use oauth2_kit::{Assertion, AuthorizationServer, ClientAuth, ErrorCode, OAuth2Client};
use oauth2_kit_test_support::{OidcProvider, adapters, expect_oauth2_error};

const ASSERTION_ISSUER: &str = "kit-assertion-issuer";

/// The server's EC test key, which signs the assertions it trusts.
async fn issuer_key(server: &OidcProvider, http: &Arc<dyn HttpClient>) -> PrivateKey {
    let url = format!("{}/test-keys/ec.pem", server.issuer);
    let pem = http.send(http::Request::get(url).body(bytes::Bytes::new()).unwrap()).await.unwrap();
    PrivateKey::from_pem(std::str::from_utf8(pem.body()).unwrap()).unwrap()
}

fn client(server: &OidcProvider, http: Arc<dyn HttpClient>) -> OAuth2Client {
    let endpoints = AuthorizationServer::new()
        .token(server.url("/token"))
        .introspection(server.url("/token/introspection"));
    OAuth2Client::new(endpoints, ClientAuth::new("kit-jwt-bearer", "jwt-bearer-secret"), http)
}

#[tokio::test]
async fn jwt_bearer_gets_a_token_for_the_assertions_subject() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let key = issuer_key(&server, &http).await;
        let client = client(&server, http.clone());
        let grant = client.jwt_bearer(SignedAssertion::new(key, ASSERTION_ISSUER, "alice")).unwrap();
        let token = grant.request_token(Some(&"openid".parse().unwrap())).await.expect(adapter);
        let info = client.introspection().unwrap().introspect(token.access_token()).await.expect(adapter);
        assert!(info.active, "{adapter}");
        assert_eq!(info.sub.as_deref(), Some("alice"), "{adapter}");
        // Right after: a new assertion (the server refuses a jti it has seen).
        grant.request_token(Some(&"openid".parse().unwrap())).await.expect(adapter);
    }
}

/// A compact JWS of `claims` signed by `key`, made by hand.
async fn sign(key: &PrivateKey, claims: serde_json::Value) -> Assertion {
    let header = serde_json::json!({"alg": "ES256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes()).await.unwrap();
    Assertion::new(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[tokio::test]
async fn a_foreign_expired_or_replayed_assertion_is_invalid_grant() {
    let server = OidcProvider::get();
    let http = adapters().remove(0).1;
    let key = issuer_key(&server, &http).await;
    let client = client(&server, http.clone());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let aud = format!("{}/token", server.issuer);
    let claims = |iss: &str, exp: u64, jti: &str| serde_json::json!({"iss": iss, "sub": "alice", "aud": aud, "iat": now, "exp": exp, "jti": jti});
    let replayed = sign(&key, claims(ASSERTION_ISSUER, now + 60, "once")).await;
    client.jwt_bearer(replayed.clone()).unwrap().request_token(None).await.unwrap();
    let cases = [
        ("replayed", replayed),
        ("another issuer", sign(&key, claims("someone-else", now + 60, "j-1")).await),
        ("expired", sign(&key, claims(ASSERTION_ISSUER, now - 60, "j-2")).await),
        (
            "another key",
            sign(
                &PrivateKey::generate(oauth2_kit::signing::JwsAlgorithm::ES256).unwrap(),
                claims(ASSERTION_ISSUER, now + 60, "j-3"),
            )
            .await,
        ),
    ];
    for (case, assertion) in cases {
        let result = client.jwt_bearer(assertion).unwrap().request_token(None).await;
        let error = expect_oauth2_error(result, case);
        assert_eq!(error.response.error, ErrorCode::InvalidGrant, "{case}: {error:?}");
    }
}

#[tokio::test]
async fn token_exchange_trades_a_users_access_token_for_another_of_the_same_subject() {
    use oauth2_kit::grant::token_exchange::{TokenExchangeRequest, TokenTypeUri};
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        // A user's access token, from the JWT bearer grant.
        let key = issuer_key(&server, &http).await;
        let subject = client(&server, http.clone())
            .jwt_bearer(SignedAssertion::new(key, ASSERTION_ISSUER, "dana"))
            .unwrap()
            .request_token(Some(&"openid email".parse().unwrap()))
            .await
            .expect(adapter);
        let endpoints = AuthorizationServer::new()
            .token(server.url("/token"))
            .introspection(server.url("/token/introspection"));
        let gateway = OAuth2Client::new(
            endpoints,
            ClientAuth::new("kit-token-exchange", "token-exchange-secret"),
            http.clone(),
        );
        let request = TokenExchangeRequest::access_token(subject.access_token())
            .requested_token_type(TokenTypeUri::AccessToken)
            .scope("openid".parse().unwrap());
        let exchanged = gateway.token_exchange().unwrap().exchange(&request).await.expect(adapter);
        assert_eq!(exchanged.issued_token_type(), &TokenTypeUri::AccessToken, "{adapter}");
        assert_ne!(exchanged.token().access_token(), subject.access_token(), "{adapter}");
        let info =
            gateway.introspection().unwrap().introspect(exchanged.token().access_token()).await.unwrap();
        assert!(info.active, "{adapter}");
        assert_eq!(info.sub.as_deref(), Some("dana"), "{adapter}");
        // Wider than the subject token's scope: refused.
        let wider = TokenExchangeRequest::access_token(subject.access_token())
            .scope("openid profile".parse().unwrap());
        let error = expect_oauth2_error(gateway.token_exchange().unwrap().exchange(&wider).await, adapter);
        assert_eq!(error.response.error, ErrorCode::InvalidScope, "{adapter}");
    }
}
