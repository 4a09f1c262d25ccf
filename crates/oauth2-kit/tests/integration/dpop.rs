//! DPoP (RFC 9449) against scripted, hostile servers, in process: the proofs a token request and
//! a resource request carry, one retry per new nonce and never more, nonces a server may not
//! set, a bearer answer to a proven request, a new proof (and `jti`) for every attempt.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use futures_lite::future::block_on;
use http::StatusCode;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::dpop::DpopKey;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner, SigningError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, AuthorizationServer, ClientAuth, Error, ErrorCode, OAuth2Client,
    RetryPolicy, Scope, TokenResponse, TokenType,
};

use crate::support::InstantSleeps;

/// An ES256 signer whose signatures are not real: these servers check the proofs' claims only.
#[derive(Debug)]
struct FakeEs256;

#[async_trait::async_trait]
impl JwtSigner for FakeEs256 {
    fn algorithm(&self) -> JwsAlgorithm {
        JwsAlgorithm::ES256
    }
    fn key_id(&self) -> Option<&str> {
        None
    }
    async fn sign(&self, _: &[u8]) -> Result<Vec<u8>, SigningError> {
        Ok(vec![7; 64])
    }
}

fn key() -> DpopKey {
    let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": "WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis", "y": "y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE"});
    DpopKey::from_signer(FakeEs256, &jwk).unwrap()
}

/// A scripted answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, &'static str);

/// Answers from a script of `(status, headers, body)`, recording every request.
#[derive(Default)]
struct Server {
    answers: Mutex<VecDeque<Answer>>,
    sent: Mutex<Vec<HttpRequest>>,
}

impl Server {
    fn new(answers: Vec<Answer>) -> Arc<Self> {
        Arc::new(Self { answers: Mutex::new(answers.into()), sent: Mutex::default() })
    }

    fn sent(&self) -> Vec<HttpRequest> {
        self.sent.lock().unwrap().clone()
    }

    /// The claims of the `index`th request's proof.
    fn proof(&self, index: usize) -> serde_json::Value {
        let sent = self.sent.lock().unwrap();
        let proof = sent[index].headers().get("dpop").expect("a proof").to_str().unwrap().to_owned();
        let claims = proof.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
    }
}

#[async_trait::async_trait]
impl HttpClient for Server {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.lock().unwrap().push(request);
        let (status, headers, body) = self.answers.lock().unwrap().pop_front().expect("a scripted answer");
        let mut response = http::Response::new(Bytes::from_static(body.as_bytes()));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response.headers_mut().insert("content-type", "application/json".parse().unwrap());
        for (name, value) in headers {
            response.headers_mut().append(name, value.parse().unwrap());
        }
        Ok(response)
    }
}

const NONCE_ERROR: &str = r#"{"error":"use_dpop_nonce","error_description":"nonce required"}"#;
const DPOP_TOKEN: &str = r#"{"access_token":"AT-1","token_type":"DPoP","expires_in":60}"#;

fn nonce(value: &str) -> Vec<(&'static str, String)> {
    vec![("dpop-nonce", value.to_owned())]
}

fn client(server: &Arc<Server>, key: &DpopKey) -> OAuth2Client {
    let endpoints = AuthorizationServer::new().token("https://as.example/token?tenant=7".parse().unwrap());
    OAuth2Client::builder(endpoints, ClientAuth::new("svc", "secret"), server.clone())
        .dpop(key.clone())
        .build()
        .unwrap()
}

#[test]
fn a_token_request_is_proven_and_the_token_bound() {
    let server = Server::new(vec![(200, vec![], DPOP_TOKEN)]);
    let key = key();
    let token = block_on(client(&server, &key).client_credentials().unwrap().request_token(None)).unwrap();
    assert_eq!(token.token_type(), &TokenType::DPoP);
    assert_eq!(token.dpop_jkt(), Some(key.thumbprint()));
    let claims = server.proof(0);
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://as.example/token", "no query");
    assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
}

#[test]
fn a_server_that_always_wants_another_nonce_gets_one_retry() {
    let server = Server::new(vec![
        (400, nonce("n-1"), NONCE_ERROR),
        (400, nonce("n-2"), NONCE_ERROR),
        (400, nonce("n-3"), NONCE_ERROR),
    ]);
    let result = block_on(client(&server, &key()).client_credentials().unwrap().request_token(None));
    let Err(Error::OAuth2(error)) = result else { panic!("{result:?}") };
    assert_eq!(error.response.error, ErrorCode::Other("use_dpop_nonce".into()));
    assert_eq!(server.sent().len(), 2, "one retry, not a loop");
    assert_eq!(server.proof(1)["nonce"], "n-1");
}

#[test]
fn no_retry_without_a_new_valid_nonce() {
    let bad = "x".repeat(2000);
    for headers in [vec![], nonce("with space"), nonce("quote\"d"), nonce(&bad)] {
        let server = Server::new(vec![(400, headers, NONCE_ERROR), (200, vec![], DPOP_TOKEN)]);
        let key = key();
        let tokens = client(&server, &key).client_credentials().unwrap();
        assert!(block_on(tokens.request_token(None)).is_err());
        assert_eq!(server.sent().len(), 1);
        // Nothing kept: the next proof carries no nonce.
        block_on(tokens.request_token(None)).unwrap();
        assert!(server.proof(1).get("nonce").is_none());
    }
    // The nonce the proof already carried, asked for again: no retry either.
    let server = Server::new(vec![(200, nonce("n-1"), DPOP_TOKEN), (400, nonce("n-1"), NONCE_ERROR)]);
    let tokens = client(&server, &key()).client_credentials().unwrap();
    block_on(tokens.request_token(None)).unwrap();
    assert!(block_on(tokens.request_token(None)).is_err());
    assert_eq!(server.sent().len(), 2);
    assert_eq!(server.proof(1)["nonce"], "n-1");
}

#[test]
fn a_bearer_answer_to_a_proven_request_is_a_bearer_token() {
    let server = Server::new(vec![(200, vec![], r#"{"access_token":"AT","token_type":"Bearer"}"#)]);
    let token = block_on(client(&server, &key()).client_credentials().unwrap().request_token(None)).unwrap();
    assert_eq!(token.token_type(), &TokenType::Bearer);
    assert_eq!(token.dpop_jkt(), None);
}

#[test]
fn every_attempt_of_a_retried_request_has_a_proof_of_its_own() {
    let server = Server::new(vec![(503, vec![], "{}"), (503, vec![], "{}"), (200, vec![], DPOP_TOKEN)]);
    let time = InstantSleeps::new();
    let endpoints = AuthorizationServer::new().token("https://as.example/token".parse().unwrap());
    let client = OAuth2Client::builder(endpoints, ClientAuth::new("svc", "secret"), server.clone())
        .dpop(key())
        .clock(time.clone())
        .runtime(time.clone())
        .retry(RetryPolicy::default().with_max_attempts(3))
        .build()
        .unwrap();
    block_on(client.client_credentials().unwrap().request_token(None)).unwrap();
    let jtis: std::collections::HashSet<String> =
        (0..3).map(|i| server.proof(i)["jti"].as_str().unwrap().to_owned()).collect();
    assert_eq!(jtis.len(), 3);
}

/// One DPoP token, then another after an invalidation.
struct Bound {
    thumbprint: String,
    issued: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl AccessTokenProvider for Bound {
    async fn request_token(&self, _: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        use oauth2_kit::Clock as _;
        let n = self.issued.load(std::sync::atomic::Ordering::SeqCst);
        let token = TokenResponse::new(
            AccessToken::new(format!("AT-{n}")),
            TokenType::DPoP,
            oauth2_kit::SystemClock.now(),
        );
        Ok(token
            .with_expires_in(Some(Duration::from_secs(60)))
            .with_dpop_jkt(Some(self.thumbprint.as_str().into())))
    }

    fn invalidate(&self, _: Option<&Scope>, _: &AccessToken) -> bool {
        self.issued.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    }
}

fn resource_client(server: &Arc<Server>, key: &DpopKey) -> BearerClient<Arc<Server>> {
    let tokens = Bound { thumbprint: key.thumbprint().to_owned(), issued: Default::default() };
    BearerClient::new(server.clone(), BearerAuth::builder(tokens).dpop(key.clone()).build())
}

fn get() -> HttpRequest {
    http::Request::get("https://api.example.com/orders?page=2#top").body(Bytes::new()).unwrap()
}

const DPOP_NONCE_CHALLENGE: &str = r#"DPoP error="use_dpop_nonce", error_description="fresh nonce""#;

#[test]
fn a_resource_request_carries_the_token_hash_and_follows_one_nonce_challenge() {
    let challenge =
        |n: &str| vec![("www-authenticate", DPOP_NONCE_CHALLENGE.to_owned()), ("dpop-nonce", n.to_owned())];
    let server = Server::new(vec![
        (401, challenge("r-1"), ""),
        (200, vec![], "{}"),
        (401, challenge("r-2"), ""),
        (401, challenge("r-3"), ""),
    ]);
    let key = key();
    let client = resource_client(&server, &key);
    assert_eq!(block_on(client.execute(get())).unwrap().status(), 200);
    let sent = server.sent();
    assert_eq!(sent[0].headers()["authorization"], "DPoP AT-0");
    assert!(sent[0].headers()["authorization"].is_sensitive());
    assert!(sent[0].headers()["dpop"].is_sensitive(), "the proof is not shown either");
    let claims = server.proof(0);
    assert_eq!(
        (claims["htm"].as_str(), claims["htu"].as_str()),
        (Some("GET"), Some("https://api.example.com/orders"))
    );
    let ath = URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(b"AT-0"));
    assert_eq!(claims["ath"], ath);
    assert_eq!(server.proof(1)["nonce"], "r-1");
    assert_ne!(server.proof(0)["jti"], server.proof(1)["jti"]);
    // A server that keeps changing its nonce gets one retry, then its 401.
    assert_eq!(block_on(client.execute(get())).unwrap().status(), 401);
    assert_eq!(server.sent().len(), 4);
}

#[test]
fn a_rejected_dpop_token_is_replaced_and_the_new_one_proven() {
    let rejected = vec![("www-authenticate", r#"DPoP error="invalid_token""#.to_owned())];
    let server = Server::new(vec![(401, rejected, ""), (200, vec![], "{}")]);
    let key = key();
    assert_eq!(block_on(resource_client(&server, &key).execute(get())).unwrap().status(), 200);
    let sent = server.sent();
    assert_eq!(sent[1].headers()["authorization"], "DPoP AT-1", "the new token");
    let ath = URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(b"AT-1"));
    assert_eq!(server.proof(1)["ath"], ath, "a proof for the new token");
}

#[test]
fn a_nonce_is_for_its_origin_only() {
    let server = Server::new(vec![(200, nonce("as-nonce"), DPOP_TOKEN), (200, vec![], "{}")]);
    let key = key();
    block_on(client(&server, &key).client_credentials().unwrap().request_token(None)).unwrap();
    block_on(resource_client(&server, &key).execute(get())).unwrap();
    assert!(server.proof(1).get("nonce").is_none(), "the authorization server's nonce stays there");
}

#[test]
fn no_proof_goes_where_the_token_may_not() {
    let server = Server::new(vec![]);
    let key = key();
    let tokens = Bound { thumbprint: key.thumbprint().to_owned(), issued: Default::default() };
    let auth = BearerAuth::builder(tokens)
        .dpop(key)
        .allowed_origin("https://api.example.com".parse().unwrap())
        .build();
    let client = BearerClient::new(server.clone(), auth);
    for uri in ["https://elsewhere.example.com/orders", "http://api.example.com/orders"] {
        let request = http::Request::get(uri).body(Bytes::new()).unwrap();
        let error = block_on(client.execute(request)).unwrap_err();
        assert!(matches!(error, Error::Bearer(_)), "{uri}: {error}");
    }
    assert!(server.sent().is_empty(), "nothing sent, no proof made for another origin");
}
