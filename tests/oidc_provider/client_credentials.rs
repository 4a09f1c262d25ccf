//! Client credentials, introspection and revocation against a real authorization server nobody
//! here wrote: the `oidc-provider` npm package (pinned in `tests/oidc-provider/package.json`),
//! on 127.0.0.1. Every test runs through both HTTP adapters.
//!
//! `scripts/test.sh` starts the server and sets `OIDC_ISSUER`; without it, each test process
//! starts its own server with `tests/oidc-provider/start.sh` (needs node and npm).
//!
//! The server (see `server.mjs`) refuses a client that authenticates with another method than
//! the one it registered, so these tests prove which method the library used.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use http::StatusCode;
use oauth2_kit::http::HttpClient;
use oauth2_kit::{AuthMethod, ClientCredentials, ErrorCode, Scope, TokenType};
use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};

use oauth2_kit_test_support::{OidcProvider, adapters, expect_oauth2_error};

/// The server's token, introspection and revocation endpoints.
fn endpoints(server: &OidcProvider) -> AuthorizationServer {
    AuthorizationServer::new()
        .token(server.url("/token"))
        .introspection(server.url("/token/introspection"))
        .revocation(server.url("/token/revocation"))
}

fn client(
    server: &OidcProvider,
    id: &str,
    secret: &str,
    method: AuthMethod,
    http: std::sync::Arc<dyn HttpClient>,
) -> OAuth2Client {
    OAuth2Client::new(endpoints(server), ClientAuth::new(id, secret).with_method(method), http)
}

/// The client credentials grant of `client(..)`.
fn grant(
    server: &OidcProvider,
    id: &str,
    secret: &str,
    method: AuthMethod,
    http: std::sync::Arc<dyn HttpClient>,
) -> ClientCredentials {
    client(server, id, secret, method, http).client_credentials().expect("a valid client")
}

fn scope(s: &str) -> Scope {
    s.parse().expect("a valid scope")
}

/// Token, introspection (active), revocation, introspection (inactive).
async fn full_cycle(client: &OAuth2Client, requested: &str, adapter: &str) {
    let (introspection, revocation) = (client.introspection().unwrap(), client.revocation().unwrap());
    let client = client.client_credentials().unwrap();
    let token =
        client.request_token(Some(&scope(requested))).await.unwrap_or_else(|e| panic!("{adapter}: {e}"));
    assert_eq!(token.token_type(), &TokenType::Bearer, "{adapter}");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(600)), "{adapter}");
    assert_eq!(token.scope(), Some(&scope(requested)), "{adapter}");
    assert!(token.refresh_token().is_none(), "{adapter}");

    let info =
        introspection.introspect(token.access_token()).await.unwrap_or_else(|e| panic!("{adapter}: {e}"));
    assert!(info.active, "{adapter}: a fresh token is active");
    assert_eq!(info.client_id.as_deref(), Some(client.client_id().as_str()), "{adapter}");
    assert_eq!(info.scope, Some(scope(requested)), "{adapter}");
    assert_eq!(info.token_type, Some(TokenType::Bearer), "{adapter}");
    let (iat, exp) = (info.iat.expect("iat"), info.exp.expect("exp"));
    assert_eq!(exp - iat, 600, "{adapter}");

    revocation.revoke(token.access_token()).await.unwrap_or_else(|e| panic!("{adapter}: {e}"));
    let info =
        introspection.introspect(token.access_token()).await.unwrap_or_else(|e| panic!("{adapter}: {e}"));
    assert!(!info.active, "{adapter}: a revoked token is inactive");
    assert_eq!(info.client_id, None, "{adapter}");
}

#[tokio::test]
async fn client_secret_basic_token_introspect_revoke() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = client(&server, "kit-basic", "basic-secret", AuthMethod::ClientSecretBasic, http);
        full_cycle(&client, "read write", adapter).await;
    }
}

#[tokio::test]
async fn client_secret_post_token_introspect_revoke() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = client(&server, "kit-post", "post-secret", AuthMethod::ClientSecretPost, http);
        full_cycle(&client, "read", adapter).await;
    }
}

#[tokio::test]
async fn basic_auth_form_encodes_id_and_secret() {
    // RFC 6749 §2.3.1: a space, `:`, `%`, `+` and `/` survive only if id and secret are
    // form-urlencoded before base64 (the server refuses non-ASCII secrets, see server.mjs).
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = client(&server, "kit special:id", "s3cr:t%+ e/u", AuthMethod::ClientSecretBasic, http);
        let token = client.client_credentials().unwrap().request_token(Some(&scope("read"))).await;
        let token = token.unwrap_or_else(|e| panic!("{adapter}: {e}"));
        let info = client
            .introspection()
            .unwrap()
            .introspect(token.access_token())
            .await
            .unwrap_or_else(|e| panic!("{adapter}: {e}"));
        assert!(info.active, "{adapter}");
        assert_eq!(info.client_id.as_deref(), Some("kit special:id"), "{adapter}");
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_401() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        for method in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost] {
            let id = if method == AuthMethod::ClientSecretBasic { "kit-basic" } else { "kit-post" };
            let client = grant(&server, id, "wrong-secret", method, http.clone());
            let e = expect_oauth2_error(client.request_token(None).await, adapter);
            assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{adapter} {method:?}");
            assert_eq!(e.response.error, ErrorCode::InvalidClient, "{adapter} {method:?}");
        }
    }
}

#[tokio::test]
async fn wrong_auth_method_is_refused() {
    // kit-post registered client_secret_post; sending basic must fail (proves which one we send).
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = grant(&server, "kit-post", "post-secret", AuthMethod::ClientSecretBasic, http);
        let e = expect_oauth2_error(client.request_token(None).await, adapter);
        assert_eq!(
            (e.status, &e.response.error),
            (StatusCode::UNAUTHORIZED, &ErrorCode::InvalidClient),
            "{adapter}"
        );
    }
}

#[tokio::test]
async fn grant_not_allowed_for_client_is_a_typed_error() {
    // oidc-provider answers a client without the client_credentials grant with
    // `invalid_request` ("requested grant type is not allowed for this client").
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = grant(&server, "kit-web", "web-secret", AuthMethod::ClientSecretBasic, http);
        let e = expect_oauth2_error(client.request_token(None).await, adapter);
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{adapter}");
        assert_eq!(e.response.error, ErrorCode::InvalidRequest, "{adapter}");
        assert!(
            e.response.error_description.as_deref().unwrap_or("").contains("grant type"),
            "{adapter}: {e:?}"
        );
    }
}

#[tokio::test]
async fn scope_not_allowed_is_invalid_scope() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = grant(&server, "kit-post", "post-secret", AuthMethod::ClientSecretPost, http);
        let e = expect_oauth2_error(client.request_token(Some(&scope("read admin"))).await, adapter);
        assert_eq!(
            (e.status, &e.response.error),
            (StatusCode::BAD_REQUEST, &ErrorCode::InvalidScope),
            "{adapter}"
        );
    }
}

#[tokio::test]
async fn short_lived_token_reports_its_lifetime() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let client = grant(&server, "kit-short", "short-secret", AuthMethod::ClientSecretBasic, http);
        let token = client.request_token(None).await.unwrap_or_else(|e| panic!("{adapter}: {e}"));
        assert_eq!(token.expires_in(), Some(Duration::from_secs(4)), "{adapter}");
        assert_eq!(token.scope(), None, "{adapter}: no scope asked, none granted");
        assert!(token.expires_at().expect("an expiry") > token.requested_at(), "{adapter}");
    }
}

/// Client authentication by signed assertion (RFC 7523 §2.2): `private_key_jwt` with the RSA
/// (RS256 and PS256) and P-256 keys the server made at start, and `client_secret_jwt`; token,
/// introspection and revocation each authenticated that way, through both adapters. The server
/// refuses a `jti` it has seen, so a full cycle proves every assertion was new.
mod signed_assertions {
    use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};

    use super::*;

    async fn server_key(
        server: &OidcProvider,
        name: &str,
        http: &std::sync::Arc<dyn HttpClient>,
    ) -> PrivateKey {
        let url = format!("{}/test-keys/{name}.pem", server.issuer);
        let request = http::Request::get(url).body(bytes::Bytes::new()).unwrap();
        let pem = http.send(request).await.unwrap();
        PrivateKey::from_pem(std::str::from_utf8(pem.body()).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn private_key_jwt_with_rsa_and_ec_keys_and_client_secret_jwt() {
        let server = OidcProvider::get();
        for (adapter, http) in adapters() {
            let rsa = server_key(&server, "rsa", &http).await.with_key_id("rsa-1");
            let ec = server_key(&server, "ec", &http).await.with_key_id("ec-1");
            let pss = rsa.clone().with_algorithm(JwsAlgorithm::PS256).unwrap();
            for (name, auth) in [
                ("RS256", ClientAuth::private_key_jwt("kit-pkjwt-rsa", rsa)),
                ("PS256", ClientAuth::private_key_jwt("kit-pkjwt-rsa", pss)),
                ("ES256", ClientAuth::private_key_jwt("kit-pkjwt-ec", ec)),
                (
                    "HS256",
                    ClientAuth::client_secret_jwt("kit-csjwt", "csjwt-secret-0123456789-0123456789-abcdef"),
                ),
            ] {
                let client = OAuth2Client::new(endpoints(&server), auth, http.clone());
                full_cycle(&client, "read", &format!("{adapter} {name}")).await;
            }
        }
    }

    /// A clock an hour behind: assertions expired before they are sent.
    #[derive(Debug)]
    struct HourBehind;

    impl oauth2_kit::Clock for HourBehind {
        fn now(&self) -> std::time::Instant {
            oauth2_kit::SystemClock.now()
        }
        fn system_time(&self) -> std::time::SystemTime {
            oauth2_kit::SystemClock.system_time() - Duration::from_secs(3600)
        }
    }

    #[tokio::test]
    async fn a_wrong_key_an_expired_assertion_and_a_wrong_audience_are_invalid_client() {
        let server = OidcProvider::get();
        let http = adapters().remove(0).1;
        let rsa = server_key(&server, "rsa", &http).await.with_key_id("rsa-1");
        let ec = server_key(&server, "ec", &http).await.with_key_id("ec-1");
        let endpoints = || AuthorizationServer::new().token(server.url("/token"));
        let wrong_key =
            OAuth2Client::new(endpoints(), ClientAuth::private_key_jwt("kit-pkjwt-rsa", ec), http.clone());
        let expired = OAuth2Client::builder(
            endpoints(),
            ClientAuth::private_key_jwt("kit-pkjwt-rsa", rsa.clone()),
            http.clone(),
        )
        .clock(std::sync::Arc::new(HourBehind))
        .build()
        .unwrap();
        let elsewhere = oauth2_kit::AssertionAudience::Value("https://elsewhere.example/token".into());
        let wrong_audience = OAuth2Client::new(
            endpoints(),
            ClientAuth::private_key_jwt("kit-pkjwt-rsa", rsa).with_assertion_audience(elsewhere),
            http.clone(),
        );
        for (case, client) in
            [("wrong key", wrong_key), ("expired", expired), ("wrong audience", wrong_audience)]
        {
            let result = client.client_credentials().unwrap().request_token(None).await;
            let e = expect_oauth2_error(result, case);
            assert_eq!(
                (e.status, &e.response.error),
                (StatusCode::UNAUTHORIZED, &ErrorCode::InvalidClient),
                "{case}"
            );
        }
    }
}

/// The client authentication a discovered client uses, checked against oidc-provider's metadata.
mod discovered_auth {
    use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
    use oauth2_kit::{ConfigErrorKind, Error};

    use super::*;

    #[tokio::test]
    async fn the_metadata_accepts_the_signed_methods_and_refuses_an_algorithm_it_does_not_list() {
        let server = OidcProvider::get();
        let http = adapters().remove(0).1;
        let issuer = oauth2_kit::Issuer::new(server.issuer.as_str()).unwrap();
        let url = format!("{}/test-keys/ec.pem", server.issuer);
        let pem = http.send(http::Request::get(url).body(bytes::Bytes::new()).unwrap()).await.unwrap();
        let ec = PrivateKey::from_pem(std::str::from_utf8(pem.body()).unwrap()).unwrap().with_key_id("ec-1");
        let auth = ClientAuth::private_key_jwt("kit-pkjwt-ec", ec);
        let client = OAuth2Client::discover(&issuer, auth, http.clone()).await.unwrap();
        full_cycle(&client, "read", "discovered private_key_jwt").await;

        // The server lists HS256, RS256, PS256 and ES256 only: an Ed25519 key is refused at the
        // getter, before any request.
        let ed = PrivateKey::generate(JwsAlgorithm::EdDSA).unwrap();
        let auth = ClientAuth::private_key_jwt("kit-pkjwt-ec", ed);
        let client = OAuth2Client::discover(&issuer, auth, http.clone()).await.unwrap();
        let Err(Error::Config(error)) = client.client_credentials() else { panic!("refused") };
        assert_eq!(error.kind(), ConfigErrorKind::UnsupportedByServer, "{error}");
        assert!(error.to_string().contains("EdDSA"), "{error}");
        // Its introspection and revocation endpoints list nothing of their own: the token
        // endpoint's lists pick a method for them but refuse none (RFC 8414: "other means").
        assert!(client.introspection().is_ok() && client.revocation().is_ok());
    }
}
