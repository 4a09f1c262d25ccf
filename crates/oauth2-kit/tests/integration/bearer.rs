//! The bearer client over an in-process resource and a token provider written for the test:
//! which header goes out, where it may go, and what each kind of 401 does.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_lite::future::block_on;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use oauth2_kit::bearer::{BearerAuth, BearerClient, BearerError};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, ConfigError, ConfigErrorKind, Error, Scope, SystemClock,
    TokenResponse, TokenType,
};

/// Hands out `token-1`, `token-2`, ...: one token at a time, kept until invalidated.
#[derive(Default)]
struct Tokens {
    current: Mutex<Option<TokenResponse>>,
    issued: AtomicUsize,
    token_type: Mutex<Option<TokenType>>,
    fail: Mutex<Option<Error>>,
    /// Ignore invalidations (a provider without a cache).
    sticky: bool,
}

impl Tokens {
    fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl AccessTokenProvider for Tokens {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        if let Some(error) = self.fail.lock().unwrap().clone() {
            return Err(error);
        }
        let mut current = self.current.lock().unwrap();
        if let Some(token) = &*current {
            return Ok(token.clone());
        }
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token_type = self.token_type.lock().unwrap().clone().unwrap_or(TokenType::Bearer);
        let token = TokenResponse::new(AccessToken::new(format!("token-{n}")), token_type, SystemClock.now());
        *current = Some(token.clone());
        Ok(token)
    }

    fn cached_token(&self, _scope: Option<&Scope>) -> Option<TokenResponse> {
        self.current.lock().unwrap().clone()
    }

    fn invalidate(&self, _scope: Option<&Scope>, token: &AccessToken) -> bool {
        let mut current = self.current.lock().unwrap();
        if self.sticky || current.as_ref().is_none_or(|c| c.access_token() != token) {
            return false;
        }
        *current = None;
        true
    }
}

/// A protected resource: accepts the tokens `valid` says are valid, records what it saw.
struct Resource {
    valid: Box<dyn Fn(&str) -> bool + Send + Sync>,
    /// Status and challenge for a rejected token.
    rejection: Mutex<(StatusCode, Option<&'static str>)>,
    seen: Mutex<Vec<(Option<HeaderValue>, Bytes)>>,
}

impl Resource {
    fn new(valid: impl Fn(&str) -> bool + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            valid: Box::new(valid),
            rejection: Mutex::new((StatusCode::UNAUTHORIZED, Some(r#"Bearer error="invalid_token""#))),
            seen: Mutex::default(),
        })
    }

    fn rejecting_with(self: Arc<Self>, status: StatusCode, challenge: Option<&'static str>) -> Arc<Self> {
        *self.rejection.lock().unwrap() = (status, challenge);
        self
    }

    fn tokens_seen(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(h, _)| h.as_ref().map(|h| h.to_str().unwrap().to_owned()).unwrap_or_default())
            .collect()
    }
}

#[async_trait::async_trait]
impl HttpClient for Resource {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let header = request.headers().get(AUTHORIZATION).cloned();
        self.seen.lock().unwrap().push((header.clone(), request.body().clone()));
        let token = header.as_ref().and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "));
        let mut response = http::Response::new(request.into_body());
        if !token.is_some_and(|t| (self.valid)(t)) {
            let (status, challenge) = *self.rejection.lock().unwrap();
            *response.status_mut() = status;
            if let Some(challenge) = challenge {
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
        }
        Ok(response)
    }
}

fn client(resource: &Arc<Resource>, tokens: &Arc<Tokens>) -> BearerClient<Arc<Resource>> {
    BearerClient::new(resource.clone(), BearerAuth::new(tokens.clone(), Some("read".parse().unwrap())))
}

fn post(uri: &str, body: &'static str) -> HttpRequest {
    http::Request::post(uri).body(Bytes::from_static(body.as_bytes())).unwrap()
}

const URL: &str = "https://api.example.com/orders";

#[test]
fn every_request_carries_the_token_built_once() {
    let resource = Resource::new(|_| true);
    let tokens = Arc::new(Tokens::default());
    let client = client(&resource, &tokens);
    for _ in 0..3 {
        let response = block_on(client.execute(post(URL, "{}"))).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(tokens.issued(), 1);
    let seen = resource.seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let first = seen[0].0.as_ref().unwrap();
    assert_eq!(first.to_str().unwrap(), "Bearer token-1");
    assert!(first.is_sensitive());
    // One header value per token: every request shares its bytes.
    for (header, _) in seen.iter() {
        assert_eq!(header.as_ref().unwrap().as_bytes().as_ptr(), first.as_bytes().as_ptr());
    }
}

#[test]
fn a_rejected_token_is_replaced_and_the_request_sent_once_more_with_its_body() {
    // token-1 is rejected, token-2 accepted.
    let resource = Resource::new(|t| t != "token-1");
    let tokens = Arc::new(Tokens::default());
    let client = client(&resource, &tokens);
    let response = block_on(client.execute(post(URL, "payload"))).unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "payload");
    assert_eq!(tokens.issued(), 2);
    assert_eq!(resource.tokens_seen(), ["Bearer token-1", "Bearer token-2"]);
    let bodies: Vec<Bytes> = resource.seen.lock().unwrap().iter().map(|(_, b)| b.clone()).collect();
    assert_eq!(bodies, [Bytes::from_static(b"payload"), Bytes::from_static(b"payload")]);
}

#[test]
fn a_challenge_without_error_or_no_challenge_also_means_a_rejected_token() {
    for challenge in [Some(r#"Bearer realm="api""#), None] {
        let resource = Resource::new(|t| t != "token-1").rejecting_with(StatusCode::UNAUTHORIZED, challenge);
        let tokens = Arc::new(Tokens::default());
        let response = block_on(client(&resource, &tokens).execute(post(URL, ""))).unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{challenge:?}");
        assert_eq!(tokens.issued(), 2);
    }
}

#[test]
fn forbidden_insufficient_scope_and_other_schemes_are_returned_as_they_are() {
    for (status, challenge) in [
        (StatusCode::FORBIDDEN, Some(r#"Bearer error="insufficient_scope", scope="admin""#)),
        (StatusCode::FORBIDDEN, None),
        (StatusCode::UNAUTHORIZED, Some(r#"Bearer error="insufficient_scope""#)),
        (StatusCode::UNAUTHORIZED, Some(r#"Bearer error="invalid_request""#)),
        (StatusCode::UNAUTHORIZED, Some(r#"Basic realm="api""#)),
        (StatusCode::UNAUTHORIZED, Some(r#"Bearer error="insufficient_scope" scope="a""#)),
        (StatusCode::UNAUTHORIZED, Some("garbage ====")),
    ] {
        let resource = Resource::new(|_| false).rejecting_with(status, challenge);
        let tokens = Arc::new(Tokens::default());
        let response = block_on(client(&resource, &tokens).execute(post(URL, ""))).unwrap();
        assert_eq!(response.status(), status, "{challenge:?}");
        assert_eq!(resource.seen.lock().unwrap().len(), 1, "{challenge:?}: no retry");
        assert_eq!(tokens.issued(), 1, "{challenge:?}: token kept");
        assert!(tokens.cached_token(None).is_some(), "{challenge:?}: token kept");
    }
}

#[test]
fn a_second_401_is_returned_and_a_storm_costs_one_token_per_cooldown() {
    let resource = Resource::new(|_| false);
    let tokens = Arc::new(Tokens::default());
    let client = client(&resource, &tokens);
    let response = block_on(client.execute(post(URL, ""))).unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resource.tokens_seen(), ["Bearer token-1", "Bearer token-2"], "one retry, no more");
    // Every token is rejected: within the cooldown, no more token is dropped or fetched.
    for _ in 0..20 {
        let response = block_on(client.execute(post(URL, ""))).unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(tokens.issued(), 2);
    assert_eq!(resource.seen.lock().unwrap().len(), 22);
}

#[test]
fn a_provider_handing_back_the_rejected_token_gets_no_retry() {
    let resource = Resource::new(|_| false);
    let tokens = Arc::new(Tokens { sticky: true, ..Tokens::default() });
    let response = block_on(client(&resource, &tokens).execute(post(URL, ""))).unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resource.seen.lock().unwrap().len(), 1);
}

#[test]
fn without_retries_a_rejected_token_is_still_dropped() {
    let resource = Resource::new(|t| t != "token-1");
    let tokens = Arc::new(Tokens::default());
    let auth = BearerAuth::builder(tokens.clone()).retry_unauthorized(false).build();
    let client = BearerClient::new(resource.clone(), auth);
    assert_eq!(block_on(client.execute(post(URL, ""))).unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(block_on(client.execute(post(URL, ""))).unwrap().status(), StatusCode::OK);
    assert_eq!(resource.tokens_seen(), ["Bearer token-1", "Bearer token-2"]);
}

#[test]
fn the_token_goes_only_where_it_belongs() {
    let resource = Resource::new(|_| true);
    let tokens = Arc::new(Tokens::default());
    let client = client(&resource, &tokens);
    for uri in ["http://api.example.com/x", "/relative", "ftp://files.example.com/x"] {
        let err = block_on(client.execute(post(uri, ""))).unwrap_err();
        assert!(
            matches!(err, Error::Bearer(BearerError::InsecureHttp { .. } | BearerError::NoOrigin { .. })),
            "{uri}: {err}"
        );
    }
    block_on(client.execute(post("http://127.0.0.1:8080/x", ""))).unwrap();
    block_on(client.execute(post("http://localhost/x", ""))).unwrap();

    let allow_listed = BearerClient::new(
        resource.clone(),
        BearerAuth::builder(tokens.clone())
            .allowed_origin("https://api.example.com".parse().unwrap())
            .allowed_origin("http://intranet.example:8080".parse().unwrap())
            .build(),
    );
    block_on(allow_listed.execute(post("https://api.example.com/x", ""))).unwrap();
    block_on(allow_listed.execute(post("http://intranet.example:8080/x", ""))).unwrap();
    let err = block_on(allow_listed.execute(post("https://other.example.com/x", ""))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bearer token not sent: refusing to send a bearer token to https://other.example.com:443: not one of the allowed origins"
    );
    let err = block_on(allow_listed.execute(post("http://127.0.0.1/x", ""))).unwrap_err();
    assert!(matches!(err, Error::Bearer(BearerError::OriginNotAllowed { .. })));

    let opted_in = BearerClient::new(
        resource.clone(),
        BearerAuth::builder(tokens.clone()).danger_allow_insecure_http().build(),
    );
    block_on(opted_in.execute(post("http://api.example.com/x", ""))).unwrap();
    // Refused requests were never sent.
    assert_eq!(resource.seen.lock().unwrap().len(), 5);
}

#[test]
fn no_token_means_nothing_sent_and_the_token_error() {
    let resource = Resource::new(|_| true);
    let tokens = Arc::new(Tokens::default());
    *tokens.fail.lock().unwrap() =
        Some(ConfigError::new(ConfigErrorKind::InvalidSetting, "no token today").into());
    let client = client(&resource, &tokens);
    let err = block_on(client.execute(post(URL, ""))).unwrap_err();
    let Error::NoToken(reason) = &err else { panic!("{err:?}") };
    assert!(matches!(&**reason, Error::Config(m) if m.to_string() == "no token today"), "{err}");
    assert!(!err.is_retryable());
    // Through the HttpClient trait: a NoToken transport error saying why, and nothing inside.
    let err = block_on(HttpClient::send(&client, post(URL, ""))).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::NoToken);
    assert!(err.to_string().contains("no token today"), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    assert!(!err.is_retryable());
    assert!(resource.seen.lock().unwrap().is_empty());
}

#[test]
fn tokens_other_than_bearer_are_refused_and_dpop_tokens_without_a_key() {
    for token_type in [TokenType::from("mac"), TokenType::DPoP] {
        let resource = Resource::new(|_| true);
        let tokens = Arc::new(Tokens::default());
        *tokens.token_type.lock().unwrap() = Some(token_type.clone());
        let err = block_on(client(&resource, &tokens).execute(post(URL, ""))).unwrap_err();
        if token_type == TokenType::DPoP {
            assert!(matches!(&err, Error::Bearer(BearerError::NoDpopKey)), "{err}");
        } else {
            assert!(
                matches!(&err, Error::Bearer(BearerError::UnsupportedTokenType(t)) if *t == token_type),
                "{err}"
            );
        }
        assert!(resource.seen.lock().unwrap().is_empty());
    }
}

#[test]
fn a_token_that_cannot_be_a_header_is_refused_without_showing_it() {
    for bad in ["with space", "line\r\nInjected: 1", "caf\u{e9}"] {
        let token = TokenResponse::new(AccessToken::new(bad), TokenType::Bearer, SystemClock.now());
        let err = token.bearer_header().unwrap_err();
        assert_eq!(err, BearerError::MalformedToken);
        assert!(!Error::from(err).to_string().contains(bad));
    }
}

#[test]
fn transport_errors_pass_through() {
    struct Down;
    #[async_trait::async_trait]
    impl HttpClient for Down {
        async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
            Err(TransportError::new(TransportErrorKind::Connect))
        }
    }
    let client = BearerClient::new(Down, BearerAuth::new(Arc::new(Tokens::default()), None));
    let err = block_on(HttpClient::send(&client, post(URL, ""))).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect);
}

#[test]
fn two_revocations_in_a_row_both_recover() {
    // The cooldown holds only while no token has been accepted since the last drop.
    let revoked = Arc::new(Mutex::new(vec!["token-1".to_owned()]));
    let seen_revoked = revoked.clone();
    let resource = Resource::new(move |t| !seen_revoked.lock().unwrap().iter().any(|r| r == t));
    let tokens = Arc::new(Tokens::default());
    let client = client(&resource, &tokens);
    assert_eq!(block_on(client.execute(post(URL, ""))).unwrap().status(), StatusCode::OK);
    revoked.lock().unwrap().push("token-2".into());
    assert_eq!(block_on(client.execute(post(URL, ""))).unwrap().status(), StatusCode::OK);
    assert_eq!(
        resource.tokens_seen(),
        ["Bearer token-1", "Bearer token-2", "Bearer token-2", "Bearer token-3"]
    );
}

#[test]
fn a_token_endpoint_failure_is_told_apart_from_a_failed_request() {
    let resource = Resource::new(|_| true);
    let tokens = Arc::new(Tokens::default());
    *tokens.fail.lock().unwrap() = Some(Error::Transport(TransportError::new(TransportErrorKind::Connect)));
    let client = client(&resource, &tokens);
    let err = block_on(HttpClient::send(&client, post(URL, ""))).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::NoToken);
    assert!(err.is_retryable());
    // Through execute: never an Error::Transport (that would mean the request failed on its
    // way), but NoToken with the token request's transport failure inside.
    let err = block_on(client.execute(post(URL, ""))).unwrap_err();
    assert_eq!(err.transport_kind(), None, "{err}");
    let Error::NoToken(reason) = &err else { panic!("{err:?}") };
    assert_eq!(reason.transport_kind(), Some(TransportErrorKind::Connect));
    assert!(err.is_retryable());
    assert!(resource.seen.lock().unwrap().is_empty());
}

#[test]
fn no_new_token_after_a_401_returns_the_401() {
    let resource = Resource::new(|t| t != "token-1");
    let tokens = Arc::new(Tokens::default());
    let client = client(&resource, &tokens);
    block_on(tokens.request_token(None)).unwrap();
    *tokens.fail.lock().unwrap() =
        Some(ConfigError::new(ConfigErrorKind::InvalidSetting, "token endpoint down").into());
    let response = block_on(client.execute(post(URL, ""))).unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resource.seen.lock().unwrap().len(), 1);
}

/// Answers `ok` for requests to `a.example.com` and `401 invalid_token` for any other host.
struct TwoOrigins {
    ok: StatusCode,
}

#[async_trait::async_trait]
impl HttpClient for TwoOrigins {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = http::Response::new(Bytes::new());
        if request.uri().host() == Some("a.example.com") {
            *response.status_mut() = self.ok;
        } else {
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer error="invalid_token""#));
        }
        Ok(response)
    }
}

#[test]
fn other_origins_successes_do_not_lift_the_storm_guard() {
    for ok in [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE, StatusCode::NOT_FOUND] {
        let tokens = Arc::new(Tokens::default());
        let client = BearerClient::new(TwoOrigins { ok }, BearerAuth::new(tokens.clone(), None));
        for _ in 0..20 {
            assert_eq!(block_on(client.execute(post("https://a.example.com/x", ""))).unwrap().status(), ok);
            let response = block_on(client.execute(post("https://b.example.com/x", ""))).unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(tokens.issued(), 2, "{ok}: the first token and one replacement, not one per request");
    }
}
