//! The tower layer drives the same bearer logic: token attached, one retry with a copy of the
//! body when it can be replayed, none when it cannot, errors kept apart.
#![cfg(feature = "tower")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::convert::Infallible;
use std::future::{Ready, poll_fn, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_lite::future::block_on;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use oauth2_kit::bearer::{BearerAuth, BearerLayer, BearerServiceError};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, Clock as _, Error, Scope, SystemClock, TokenResponse, TokenType,
};
use tower_layer::Layer;
use tower_service::Service;

/// `token-1`, then `token-2` after an invalidation.
#[derive(Default)]
struct Tokens {
    generation: AtomicUsize,
}

#[async_trait::async_trait]
impl AccessTokenProvider for Tokens {
    async fn request_token(&self, _scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        let n = self.generation.load(Ordering::SeqCst) + 1;
        Ok(TokenResponse::new(AccessToken::new(format!("token-{n}")), TokenType::Bearer, SystemClock.now()))
    }

    fn invalidate(&self, _scope: Option<&Scope>, token: &AccessToken) -> bool {
        let n = self.generation.load(Ordering::SeqCst) + 1;
        token.expose_secret() == format!("token-{n}") && {
            self.generation.fetch_add(1, Ordering::SeqCst);
            true
        }
    }
}

/// Rejects `token-1`; records what it was sent.
#[derive(Clone, Default)]
struct Resource {
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl<B: Into<String>> Service<Request<B>> for Resource {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let auth =
            request.headers().get(AUTHORIZATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body: String = request.into_body().into();
        self.seen.lock().unwrap().push((auth.clone(), body.clone()));
        let mut response = Response::new(body);
        if auth != "Bearer token-2" {
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer error="invalid_token""#));
        }
        ready(Ok(response))
    }
}

/// A body that cannot be cloned, like a stream.
struct Streaming(String);

impl From<Streaming> for String {
    fn from(body: Streaming) -> String {
        body.0
    }
}

async fn call<S: Service<R>, R>(service: &mut S, request: R) -> Result<S::Response, S::Error> {
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

fn auth(tokens: &Arc<Tokens>) -> BearerAuth {
    BearerAuth::new(tokens.clone(), None)
}

#[test]
fn a_rejected_token_is_replaced_and_the_cloned_request_retried() {
    let resource = Resource::default();
    let tokens = Arc::new(Tokens::default());
    let mut service = BearerLayer::new(auth(&tokens)).layer(resource.clone());
    let request = Request::post("https://api.example.com/x").body("payload".to_owned()).unwrap();
    let response = block_on(call(&mut service, request)).unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = resource.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("Bearer token-1".to_owned(), "payload".to_owned()),
            ("Bearer token-2".to_owned(), "payload".to_owned())
        ]
    );
}

#[test]
fn a_body_that_cannot_be_replayed_is_not_retried_but_the_token_is_dropped() {
    let resource = Resource::default();
    let tokens = Arc::new(Tokens::default());
    let mut service = BearerLayer::new(auth(&tokens)).without_replay().layer(resource.clone());
    let request = || Request::post("https://api.example.com/x").body(Streaming("chunk".into())).unwrap();
    let response = block_on(call(&mut service, request())).unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resource.seen.lock().unwrap().len(), 1);
    // The next request goes out with the new token.
    let response = block_on(call(&mut service, request())).unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(resource.seen.lock().unwrap()[1].0, "Bearer token-2");
}

#[test]
fn a_replay_closure_decides_per_body() {
    let resource = Resource::default();
    let tokens = Arc::new(Tokens::default());
    let mut service = BearerLayer::new(auth(&tokens))
        .replay_with(|body: &Streaming| (body.0.len() < 16).then(|| Streaming(body.0.clone())))
        .layer(resource.clone());
    let request = Request::put("https://api.example.com/x").body(Streaming("small".into())).unwrap();
    assert_eq!(block_on(call(&mut service, request)).unwrap().status(), StatusCode::OK);
    assert_eq!(resource.seen.lock().unwrap().len(), 2);
}

#[test]
fn refusals_are_auth_errors_and_nothing_is_sent() {
    let resource = Resource::default();
    let tokens = Arc::new(Tokens::default());
    let mut service = BearerLayer::new(auth(&tokens)).layer(resource.clone());
    let request = Request::get("http://api.example.com/x").body(String::new()).unwrap();
    let err = block_on(call(&mut service, request)).unwrap_err();
    assert!(matches!(err, BearerServiceError::Auth(Error::Bearer(_))), "{err}");
    assert!(
        err.to_string().starts_with("bearer token not sent: refusing to send a bearer token over plain http"),
        "{err}"
    );
    assert!(resource.seen.lock().unwrap().is_empty());
}
