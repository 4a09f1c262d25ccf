//! DPoP (RFC 9449) against oidc-provider, through both HTTP adapters: tokens bound to the
//! client's key, the server's nonces followed at the cost of one request per new nonce, login
//! codes bound to the key and refreshed with it.

use std::sync::Arc;

use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::dpop::DpopKey;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::http::HttpClient;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::{AuthorizationServer, ClientAuth, ErrorCode, OAuth2Client, TokenType};
use oauth2_kit_test_support::browser::Browser;
use oauth2_kit_test_support::{CountingHttp, OidcProvider, adapters, expect_oauth2_error};

async fn discovered(server: &OidcProvider, http: Arc<dyn HttpClient>) -> AuthorizationServer {
    let issuer: oauth2_kit::Issuer = server.issuer.parse().unwrap();
    AuthorizationServer::from_metadata(&ServerMetadata::discover(&issuer, http).await.unwrap())
}

/// Rotates the server's DPoP nonce secret (its own nonce source, given a new secret): every
/// nonce it gave before is refused from now on.
async fn rotate_nonce(server: &OidcProvider, http: &Arc<dyn HttpClient>) {
    let request = http::Request::post(format!("{}/test-dpop/rotate-nonce", server.issuer))
        .body(bytes::Bytes::new())
        .unwrap();
    assert_eq!(http.send(request).await.unwrap().status(), 204);
}

fn dpop_client(
    server: AuthorizationServer,
    auth: ClientAuth,
    key: &DpopKey,
    http: Arc<dyn HttpClient>,
) -> OAuth2Client {
    OAuth2Client::builder(server, auth, http).dpop(key.clone()).build().unwrap()
}

#[tokio::test]
async fn client_credentials_tokens_are_bound_to_the_clients_key() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let key = DpopKey::generate().unwrap();
        let auth = ClientAuth::new("kit-dpop", "dpop-secret");
        let client = dpop_client(metadata.clone(), auth.clone(), &key, http.clone());
        let token = client.client_credentials().unwrap().request_token(Some(&"read".parse().unwrap())).await;
        let token = token.expect(adapter);
        assert_eq!(token.token_type(), &TokenType::DPoP, "{adapter}");
        assert_eq!(token.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        // The server says whom the token is bound to.
        let introspected = client.introspection().unwrap().introspect(token.access_token()).await.unwrap();
        assert!(introspected.active, "{adapter}");
        assert!(introspected.confirmation().unwrap().is_bound_to_key(&key), "{adapter}");
        // Without a proof, this client gets no token at all.
        let plain = OAuth2Client::new(metadata, auth, http.clone());
        let refused = plain.client_credentials().unwrap().request_token(None).await;
        let error = expect_oauth2_error(refused, adapter);
        assert_eq!(error.response.error, ErrorCode::InvalidGrant, "{adapter}: {error:?}");
    }
}

#[tokio::test]
async fn keys_of_every_algorithm_prove_possession() {
    use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
    let server = OidcProvider::get();
    let http = adapters().remove(0).1;
    let metadata = discovered(&server, http.clone()).await;
    for algorithm in [JwsAlgorithm::EdDSA, JwsAlgorithm::RS256, JwsAlgorithm::PS256] {
        let private = PrivateKey::generate(algorithm).unwrap().with_algorithm(algorithm).unwrap();
        let key = DpopKey::new(private).unwrap();
        let client =
            dpop_client(metadata.clone(), ClientAuth::new("kit-dpop", "dpop-secret"), &key, http.clone());
        let token = client.client_credentials().unwrap().request_token(None).await;
        let token = token.unwrap_or_else(|e| panic!("{algorithm}: {e:?}"));
        let introspected = client.introspection().unwrap().introspect(token.access_token()).await.unwrap();
        assert!(introspected.confirmation().unwrap().is_bound_to_key(&key), "{algorithm}");
    }
}

#[tokio::test]
async fn a_required_nonce_costs_one_extra_request_then_none() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let counting = CountingHttp::new(http.clone());
        let key = DpopKey::generate().unwrap();
        let auth = ClientAuth::new("kit-dpop-nonce", "dpop-nonce-secret");
        let client = dpop_client(metadata, auth, &key, counting.clone());
        let tokens = client.client_credentials().unwrap();
        let token = tokens.request_token(None).await.expect(adapter);
        assert_eq!(token.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        assert_eq!(counting.sent(), 2, "{adapter}: refused for want of a nonce, then sent with it");
        for _ in 0..3 {
            tokens.request_token(None).await.expect(adapter);
        }
        assert_eq!(counting.sent(), 5, "{adapter}: the nonce is kept");
    }
}

#[tokio::test]
async fn a_rotated_nonce_costs_one_extra_request_per_rotation() {
    // A server of its own: rotating the nonce secret would cost other tests a request.
    let server = OidcProvider::own();
    let http = adapters().remove(0).1;
    let metadata = discovered(&server, http.clone()).await;
    let counting = CountingHttp::new(http.clone());
    let key = DpopKey::generate().unwrap();
    let client =
        dpop_client(metadata, ClientAuth::new("kit-dpop-nonce", "dpop-nonce-secret"), &key, counting.clone());
    let tokens = client.client_credentials().unwrap();
    tokens.request_token(None).await.unwrap();
    tokens.request_token(None).await.unwrap();
    assert_eq!(counting.sent(), 3);
    rotate_nonce(&server, &http).await;
    for _ in 0..3 {
        tokens.request_token(None).await.unwrap();
    }
    assert_eq!(counting.sent(), 3 + 2 + 1 + 1, "one extra request for the new nonce, then none");
}

#[tokio::test]
async fn a_login_code_is_bound_to_the_key_and_refreshed_with_it() {
    let server = OidcProvider::get();
    let redirect = Url::parse("http://127.0.0.1/callback").unwrap();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let key = DpopKey::generate().unwrap();
        let auth = ClientAuth::new("kit-web-dpop", "web-dpop-secret");
        let client = dpop_client(metadata.clone(), auth.clone(), &key, http.clone());
        let provider = client.authorization_code(redirect.clone()).unwrap().build().unwrap();
        let link = provider.login_link().scope("openid".parse().unwrap()).build().unwrap();
        let jkt = link
            .url()
            .query_pairs()
            .find(|(name, _)| name == "dpop_jkt")
            .map(|(_, value)| value.into_owned());
        assert_eq!(jkt.as_deref(), Some(key.thumbprint()), "{adapter}");

        // The code is bound to the key: another key cannot redeem it.
        let mut browser = Browser::new(http.clone(), "frank");
        let back = browser.log_in(link.url()).await;
        let other = dpop_client(metadata.clone(), auth.clone(), &DpopKey::generate().unwrap(), http.clone());
        let thief = other.authorization_code(redirect.clone()).unwrap().build().unwrap();
        let stolen = thief.complete_login(link.pending(), &Callback::from_url(&back).unwrap()).await;
        let refused = expect_oauth2_error(stolen, adapter);
        assert_eq!(refused.response.error, ErrorCode::InvalidGrant, "{adapter}: {refused:?}");

        // A new login, redeemed the same way but with the key it is bound to (the refused code
        // was spent by the attempt).
        let link = provider.login_link().scope("openid".parse().unwrap()).build().unwrap();
        let back = browser.log_in(link.url()).await;
        let token = provider.complete_login(link.pending(), &Callback::from_url(&back).unwrap()).await;
        let token = token.expect(adapter);
        assert_eq!(token.token_type(), &TokenType::DPoP, "{adapter}");
        assert_eq!(token.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        let refreshed = client.refresh().unwrap().refresh(token.refresh_token().unwrap(), None).await;
        let refreshed = refreshed.expect(adapter);
        assert_eq!(refreshed.dpop_jkt(), Some(key.thumbprint()), "{adapter}");
        let introspected =
            client.introspection().unwrap().introspect(refreshed.access_token()).await.unwrap();
        assert_eq!(introspected.extra["cnf"]["jkt"], key.thumbprint(), "{adapter}");
    }
}

/// Hands out one token (a user's, from a login).
struct Fixed(oauth2_kit::TokenResponse);

#[oauth2_kit::async_trait]
impl oauth2_kit::AccessTokenProvider for Fixed {
    async fn request_token(
        &self,
        _: Option<&oauth2_kit::Scope>,
    ) -> oauth2_kit::Result<oauth2_kit::TokenResponse> {
        Ok(self.0.clone())
    }
}

/// A user's DPoP-bound token for kit-web-dpop, from a login through the server's pages.
async fn logged_in(
    client: &OAuth2Client,
    http: Arc<dyn HttpClient>,
    user: &str,
) -> oauth2_kit::TokenResponse {
    let redirect = Url::parse("http://127.0.0.1/callback").unwrap();
    let provider = client.authorization_code(redirect).unwrap().build().unwrap();
    let link = provider.login_link().scope("openid email".parse().unwrap()).build().unwrap();
    let back = Browser::new(http, user).log_in(link.url()).await;
    provider.complete_login(link.pending(), &Callback::from_url(&back).unwrap()).await.unwrap()
}

fn userinfo_request(server: &OidcProvider) -> oauth2_kit::http::HttpRequest {
    http::Request::get(format!("{}/me", server.issuer)).body(bytes::Bytes::new()).unwrap()
}

#[tokio::test]
async fn userinfo_and_the_bearer_client_send_bound_tokens_with_proofs_only() {
    use oauth2_kit::bearer::BearerError;
    use oauth2_kit::bearer::{BearerAuth, BearerClient};

    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let key = DpopKey::generate().unwrap();
        let auth = ClientAuth::new("kit-web-dpop", "web-dpop-secret");
        let client = dpop_client(metadata.clone(), auth.clone(), &key, http.clone());
        let token = logged_in(&client, http.clone(), "grace").await;
        assert_eq!(token.token_type(), &TokenType::DPoP, "{adapter}");

        // The client's UserInfo operation proves with the client's key.
        let me = client.userinfo().unwrap().fetch(token.access_token()).await.expect(adapter);
        assert_eq!(me.sub, "grace", "{adapter}");
        // Sent as a bearer token, the server refuses it.
        let plain = OAuth2Client::new(metadata.clone(), auth.clone(), http.clone());
        let refused = plain.userinfo().unwrap().fetch(token.access_token()).await;
        assert_eq!(
            expect_oauth2_error(refused, adapter).response.error,
            ErrorCode::InvalidToken,
            "{adapter}"
        );

        // The bearer client: `Authorization: DPoP` and a new proof per request (the server
        // refuses a replayed proof), three requests for three calls.
        let counting = CountingHttp::new(http.clone());
        let bearer = BearerClient::new(
            counting.clone(),
            BearerAuth::builder(Fixed(token.clone())).dpop(key.clone()).build(),
        );
        for _ in 0..3 {
            let response = bearer.execute(userinfo_request(&server)).await.expect(adapter);
            assert_eq!(response.status(), 200, "{adapter}");
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
            assert_eq!(body["sub"], "grace", "{adapter}");
        }
        assert_eq!(counting.sent(), 3, "{adapter}");

        // Another key, or none: nothing is sent.
        let other = BearerAuth::builder(Fixed(token.clone())).dpop(DpopKey::generate().unwrap()).build();
        let error = BearerClient::new(counting.clone(), other).execute(userinfo_request(&server)).await;
        assert!(
            matches!(error, Err(oauth2_kit::Error::Bearer(BearerError::DpopKeyMismatch { .. }))),
            "{adapter}: {error:?}"
        );
        let keyless = BearerClient::new(counting.clone(), BearerAuth::new(Fixed(token.clone()), None));
        let error = keyless.execute(userinfo_request(&server)).await;
        assert!(
            matches!(error, Err(oauth2_kit::Error::Bearer(BearerError::NoDpopKey))),
            "{adapter}: {error:?}"
        );
        assert_eq!(counting.sent(), 3, "{adapter}: nothing sent without the right key");
    }
}

#[tokio::test]
async fn a_resource_servers_new_nonce_costs_one_retry_per_rotation() {
    use oauth2_kit::bearer::{BearerAuth, BearerClient};

    // A server of its own: the test rotates its nonce secret.
    let server = OidcProvider::own();
    let http = adapters().remove(0).1;
    let metadata = discovered(&server, http.clone()).await;
    let key = DpopKey::generate().unwrap();
    let counting = CountingHttp::new(http.clone());
    let client =
        dpop_client(metadata, ClientAuth::new("kit-web-dpop", "web-dpop-secret"), &key, counting.clone());
    let token = logged_in(&client, http.clone(), "heidi").await;
    // The same key (its clones share the nonces it was given).
    let bearer = BearerClient::new(
        counting.clone(),
        BearerAuth::builder(Fixed(token.clone())).dpop(key.clone()).build(),
    );
    let userinfo = client.userinfo().unwrap();
    userinfo.fetch(token.access_token()).await.unwrap();
    let start = counting.sent();

    rotate_nonce(&server, &http).await;
    userinfo.fetch(token.access_token()).await.unwrap();
    userinfo.fetch(token.access_token()).await.unwrap();
    assert_eq!(counting.sent() - start, 3, "UserInfo: one retry for the new nonce, then none");

    rotate_nonce(&server, &http).await;
    for _ in 0..3 {
        let response = bearer.execute(userinfo_request(&server)).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(counting.sent() - start, 3 + 4, "the bearer client: one retry for the new nonce, then none");
}
