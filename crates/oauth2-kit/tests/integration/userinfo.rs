//! The UserInfo client: how the token is presented, the URL used as given, errors from the
//! `WWW-Authenticate` challenge.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::support::Script;
use futures_lite::future::block_on;
use oauth2_kit::userinfo::{UserInfoClient, UserInfoMethod};
use oauth2_kit::{AccessToken, Error, ErrorCode};

#[test]
fn get_with_the_bearer_token_at_the_url_as_given() {
    let http = Script::new(&[(200, r#"{"sub":"u-1","name":"Jane","custom":1}"#)]);
    let client = UserInfoClient::new("https://id.example.com/base/me?v=2".parse().unwrap(), http.clone());
    let info = block_on(client.fetch(&AccessToken::new("AT-1"))).unwrap();
    assert_eq!(info.sub, "u-1");
    assert_eq!(info.extra["custom"], 1);
    let sent = &http.sent()[0];
    assert_eq!(sent.method(), http::Method::GET);
    assert_eq!(sent.uri(), "https://id.example.com/base/me?v=2", "the base path is kept");
    assert_eq!(sent.headers()["authorization"], "Bearer AT-1");
    assert!(sent.headers()["authorization"].is_sensitive());
    assert_eq!(sent.headers()["accept"], "application/json");
}

#[test]
fn post_when_asked() {
    let http = Script::new(&[(200, r#"{"sub":"u-1"}"#)]);
    let client = UserInfoClient::new("https://id.example.com/userinfo".parse().unwrap(), http.clone())
        .method(UserInfoMethod::Post);
    block_on(client.fetch(&AccessToken::new("AT-1"))).unwrap();
    assert_eq!(http.sent()[0].method(), http::Method::POST);
    assert_eq!(http.sent()[0].headers()["authorization"], "Bearer AT-1");
}

#[test]
fn rejected_tokens_and_bad_bodies_are_typed_errors() {
    let http = Script::new(&[(401, ""), (200, r#"{"name":"no sub"}"#), (200, "<html>")]);
    let client = UserInfoClient::new("https://id.example.com/userinfo".parse().unwrap(), http);
    // A 401 without a challenge is an unexpected status.
    let err = block_on(client.fetch(&AccessToken::new("AT-1"))).unwrap_err();
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err}");
    let err = block_on(client.fetch(&AccessToken::new("AT-1"))).unwrap_err();
    assert!(matches!(err, Error::Decode { field: Some("sub"), .. }), "{err}");
    let err = block_on(client.fetch(&AccessToken::new("AT-1"))).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

/// The error of a UserInfo request comes in the `WWW-Authenticate` header (RFC 6750 §3).
#[test]
fn an_invalid_token_challenge_is_an_oauth2_error() {
    use bytes::Bytes;
    use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};

    struct Challenging;
    #[async_trait::async_trait]
    impl HttpClient for Challenging {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
            let mut response = http::Response::new(Bytes::new());
            *response.status_mut() = http::StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(
                "www-authenticate",
                r#"Bearer error="invalid_token", error_description="The access token expired""#.parse().unwrap(),
            );
            Ok(response)
        }
    }
    let client = UserInfoClient::new("https://id.example.com/userinfo".parse().unwrap(), Challenging);
    let err = block_on(client.fetch(&AccessToken::new("AT-1"))).unwrap_err();
    let oauth2 = err.oauth2().unwrap();
    assert_eq!(oauth2.response.error, ErrorCode::InvalidToken);
    assert_eq!(oauth2.response.error_description.as_deref(), Some("The access token expired"));
    assert!(!err.to_string().contains("AT-1"));
}

/// OpenID Connect Core §5.3.2: a UserInfo `sub` other than the ID token's must not be used.
#[test]
fn fetch_for_checks_the_subject() {
    let http = Script::new(&[(200, r#"{"sub":"u-1"}"#), (200, r#"{"sub":"someone-else"}"#)]);
    let client = UserInfoClient::new("https://id.example.com/userinfo".parse().unwrap(), http);
    assert_eq!(block_on(client.fetch_for(&AccessToken::new("t"), "u-1")).unwrap().sub, "u-1");
    let err = block_on(client.fetch_for(&AccessToken::new("t"), "u-1")).unwrap_err();
    assert!(matches!(err, Error::Decode { field: Some("sub"), .. }), "{err}");
}
