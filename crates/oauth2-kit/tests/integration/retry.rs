//! Transient retries of token requests, with instant virtual sleeps: what is retried, how long
//! each wait is, the attempt bound and the deadline.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use crate::support::{InstantSleeps, Script};
use futures_lite::future::block_on;
use oauth2_kit::http::HttpClient;
use oauth2_kit::{
    AuthorizationServer, ClientAuth, ClientCredentials, Error, ErrorCode, OAuth2Client, Password,
    PasswordGrant, RefreshToken, RetryPolicy,
};

const TOKEN: (u16, &str) = (200, r#"{"access_token":"AT","token_type":"Bearer","expires_in":60}"#);

fn client(
    script: &[(u16, &'static str)],
    policy: RetryPolicy,
) -> (ClientCredentials, Arc<Script>, Arc<InstantSleeps>) {
    let http = Script::new(script);
    let time = InstantSleeps::new();
    let client = retrying(http.clone(), &time, policy).client_credentials().unwrap();
    (client, http, time)
}

/// A client of a server with a token endpoint, retrying with `policy`, whose clock and sleeps
/// are `time`'s.
fn retrying(http: impl HttpClient + 'static, time: &Arc<InstantSleeps>, policy: RetryPolicy) -> OAuth2Client {
    let server = AuthorizationServer::new()
        .authorization("https://as.example/authorize".parse().unwrap())
        .token("https://as.example/token".parse().unwrap());
    OAuth2Client::builder(server, ClientAuth::new("id", "secret"), http)
        .clock(time.clone())
        .retry(policy)
        .runtime(time.clone())
        .build()
        .unwrap()
}

/// Whole-second delays, for policies whose delays are whole seconds.
fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(4)
        .with_backoff(Duration::from_secs(2), Duration::from_secs(4))
        .with_deadline(Duration::from_secs(60))
}

#[test]
fn connection_failures_and_5xx_are_retried_with_growing_jittered_delays() {
    let (client, http, time) = client(&[(0, ""), (503, "<html>busy</html>"), (502, ""), TOKEN], policy());
    assert_eq!(block_on(client.request_token(None)).unwrap().access_token().expose_secret(), "AT");
    assert_eq!(http.sent().len(), 4);
    let sleeps = time.sleeps();
    assert_eq!(sleeps.len(), 3);
    // Equal jitter: [1, 2], [2, 4], [2, 4] seconds (whole seconds shown).
    assert!(
        (1..=2).contains(&sleeps[0]) && (2..=4).contains(&sleeps[1]) && (2..=4).contains(&sleeps[2]),
        "{sleeps:?}"
    );
}

#[test]
fn a_429_is_retried() {
    let (client, _, time) = client(&[(429, ""), TOKEN], policy());
    block_on(client.request_token(None)).unwrap();
    assert_eq!(time.sleeps().len(), 1);
    // (Retry-After over real sockets: tests/testkit/bad_input.rs.)
    assert_eq!(policy().delay(1, 0.0, Some(Duration::from_secs(9))), Duration::from_secs(9));
}

#[test]
fn oauth2_errors_are_never_retried() {
    for answer in [
        (400, r#"{"error":"invalid_client"}"#),
        (503, r#"{"error":"temporarily_unavailable"}"#),
        (500, r#"{"error":"server_error"}"#),
    ] {
        let (client, http, time) = client(&[answer, TOKEN], policy());
        let err = block_on(client.request_token(None)).unwrap_err();
        assert!(err.oauth2().is_some(), "{err}");
        assert_eq!(http.sent().len(), 1, "{answer:?}");
        assert!(time.sleeps().is_empty());
    }
    // Nor a body that does not decode.
    let (client, http, _) = client(&[(200, "<html>"), TOKEN], policy());
    assert!(matches!(block_on(client.request_token(None)).unwrap_err(), Error::Decode { .. }));
    assert_eq!(http.sent().len(), 1);
}

#[test]
fn attempts_are_bounded() {
    let (client, http, _) = client(&[(503, ""), (503, ""), (503, ""), (503, ""), TOKEN], policy());
    let err = block_on(client.request_token(None)).unwrap_err();
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err}");
    assert_eq!(http.sent().len(), 4, "max_attempts counts the first");
}

#[test]
fn no_sleep_runs_past_the_deadline() {
    let tight = policy().with_deadline(Duration::from_secs(5)).with_max_attempts(10);
    let (client, http, time) = client(&[(503, ""); 10], tight);
    block_on(client.request_token(None)).unwrap_err();
    let slept: u64 = time.sleeps().iter().sum();
    assert!(slept <= 5, "slept {slept} s");
    assert!(http.sent().len() < 10);
    let _ = ErrorCode::ServerError;
}

fn password_client(script: &[(u16, &'static str)]) -> (PasswordGrant, Arc<Script>, Arc<InstantSleeps>) {
    let http = Script::new(script);
    let time = InstantSleeps::new();
    let client = retrying(http.clone(), &time, policy()).password().unwrap();
    (client, http, time)
}

#[test]
fn the_password_grant_retries_like_client_credentials() {
    let (client, http, time) = password_client(&[(0, ""), (1, ""), (500, ""), TOKEN]);
    let token = block_on(client.request_token("alice", &Password::new("pw"), None)).unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT");
    assert_eq!(http.sent().len(), 4);
    assert_eq!(time.sleeps().len(), 3);
    // Every copy is the same request.
    assert!((1..4).all(|i| http.form(i) == http.form(0)));
}

#[test]
fn a_refresh_is_retried_only_when_the_server_surely_did_not_act_on_it() {
    // Not acted on: no connection, 429 (no OAuth 2.0 body).
    let refresh_client = |script: &[(u16, &'static str)]| {
        let http = Script::new(script);
        let time = InstantSleeps::new();
        (retrying(http.clone(), &time, policy()).refresh().unwrap(), http, time)
    };
    let (client, http, _) = refresh_client(&[(0, ""), (429, ""), TOKEN]);
    let refreshed = block_on(client.refresh(&RefreshToken::new("RT"), None)).unwrap();
    assert_eq!(refreshed.access_token().expose_secret(), "AT");
    assert_eq!(http.sent().len(), 3);
    // Perhaps acted on (the refresh token may be spent): a timeout, a 500, a 502, a 503 (a
    // proxy's, after its upstream dropped the request), a 504.
    for answer in
        [(1, ""), (500, ""), (502, "<html>bad gateway</html>"), (503, "<html>busy</html>"), (504, "")]
    {
        let (client, http, time) = refresh_client(&[answer, TOKEN]);
        let err = block_on(client.refresh(&RefreshToken::new("RT"), None)).unwrap_err();
        assert!(err.is_retryable(), "{answer:?}: {err}");
        assert_eq!(http.sent().len(), 1, "{answer:?}");
        assert!(time.sleeps().is_empty());
    }
    // The policy says so too.
    let policy = RetryPolicy::default();
    let timeout = Error::Transport(oauth2_kit::http::TransportError::new(
        oauth2_kit::http::TransportErrorKind::Timeout,
    ));
    assert!(policy.retries(&timeout) && !policy.retries_unprocessed(&timeout));
}

/// Answers `429` with `Retry-After: 9` once, then a token.
struct ThrottledOnce(std::sync::atomic::AtomicBool);

#[async_trait::async_trait]
impl oauth2_kit::http::HttpClient for ThrottledOnce {
    async fn send(
        &self,
        _: oauth2_kit::http::HttpRequest,
    ) -> Result<oauth2_kit::http::HttpResponse, oauth2_kit::http::TransportError> {
        let throttled = !self.0.swap(true, std::sync::atomic::Ordering::SeqCst);
        let (status, body) = if throttled { (429, "") } else { TOKEN };
        let mut response = http::Response::new(bytes::Bytes::from_static(body.as_bytes()));
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
        response.headers_mut().insert("retry-after", "9".parse().unwrap());
        Ok(response)
    }
}

#[test]
fn the_retry_loop_sleeps_as_long_as_retry_after_says() {
    let time = InstantSleeps::new();
    let client = retrying(ThrottledOnce(Default::default()), &time, policy()).client_credentials().unwrap();
    block_on(client.request_token(None)).unwrap();
    assert_eq!(time.sleeps(), vec![9], "the server's 9 s, not the 1-2 s backoff");
}

#[test]
fn a_code_exchange_is_retried_only_when_the_server_surely_did_not_act_on_it() {
    let exchange = |script: &[(u16, &'static str)]| {
        let http = Script::new(script);
        let time = InstantSleeps::new();
        let provider = retrying(http.clone(), &time, policy())
            .authorization_code(url::Url::parse("https://app.example/cb").unwrap())
            .unwrap()
            .build()
            .unwrap();
        let result = block_on(provider.exchange_code(&"code-1".into(), None));
        (result, http, time)
    };
    // No connection, then 429: the code was never seen; the third copy gets the token.
    let (result, http, time) = exchange(&[(0, ""), (429, ""), TOKEN]);
    assert_eq!(result.unwrap().access_token().expose_secret(), "AT");
    assert_eq!(http.sent().len(), 3);
    assert_eq!(time.sleeps().len(), 2);
    assert!((1..3).all(|i| http.form(i) == http.form(0)));
    // A timeout or a 5xx may have spent the code: not sent again.
    for answer in [(1, ""), (500, ""), (503, "")] {
        let (result, http, time) = exchange(&[answer, TOKEN]);
        assert!(result.unwrap_err().is_retryable(), "{answer:?}");
        assert_eq!(http.sent().len(), 1, "{answer:?}");
        assert!(time.sleeps().is_empty());
    }
}
