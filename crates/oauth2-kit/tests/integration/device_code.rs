//! The device authorization grant's polling (RFC 8628 §3.4, §3.5), in instant virtual time: the
//! intervals slept are asserted exactly.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use crate::support::{InstantSleeps, Script};
use futures_lite::future::block_on;
use oauth2_kit::grant::device_code::DeviceCodeClient;
use oauth2_kit::{AuthorizationServer, ClientAuth, Error, ErrorCode, OAuth2Client};

const PENDING: (u16, &str) = (400, r#"{"error":"authorization_pending"}"#);
const SLOW_DOWN: (u16, &str) = (400, r#"{"error":"slow_down"}"#);
const TOKEN: (u16, &str) = (200, r#"{"access_token":"AT","token_type":"Bearer","expires_in":60}"#);

fn authorization(interval: &str, expires_in: u64) -> &'static str {
    let body = format!(
        r#"{{"device_code":"DC-1","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device",
            "expires_in":{expires_in}{interval}}}"#
    );
    Box::leak(body.into_boxed_str())
}

fn client(script: &[(u16, &'static str)]) -> (DeviceCodeClient, Arc<Script>, Arc<InstantSleeps>) {
    let http = Script::new(script);
    let time = InstantSleeps::new();
    let server = AuthorizationServer::new()
        .device_authorization("https://as.example/device_authorization".parse().unwrap())
        .token("https://as.example/token".parse().unwrap());
    let client = OAuth2Client::builder(server, ClientAuth::public("tv"), http.clone())
        .clock(time.clone())
        .runtime(time.clone())
        .build()
        .unwrap()
        .device()
        .unwrap();
    (client, http, time)
}

#[test]
fn pending_then_slow_down_then_approved() {
    let (client, http, time) =
        client(&[(200, authorization("", 1800)), PENDING, PENDING, SLOW_DOWN, PENDING, TOKEN]);
    let auth = block_on(client.request_authorization(Some(&"profile".parse().unwrap()))).unwrap();
    assert_eq!(auth.user_code(), "WDJB-MJHT");
    let form = http.form(0);
    assert_eq!(form, [("scope".into(), "profile".into()), ("client_id".into(), "tv".into())]);

    let token = block_on(client.poll_token(&auth)).unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT");
    // 5 s when the server gives no interval; +5 s after slow_down, kept after.
    assert_eq!(time.sleeps(), [5, 5, 5, 10, 10]);
    assert_eq!(http.sent().len(), 6);
    let poll: Vec<(String, String)> = http.form(1);
    assert_eq!(poll[0], ("grant_type".into(), "urn:ietf:params:oauth:grant-type:device_code".into()));
    assert_eq!(poll[1], ("device_code".into(), "DC-1".into()));
}

#[test]
fn the_servers_interval_is_honoured() {
    let (client, _, time) = client(&[(200, authorization(r#","interval":"3""#, 1800)), PENDING, TOKEN]);
    let auth = block_on(client.request_authorization(None)).unwrap();
    assert_eq!(auth.interval(), Duration::from_secs(3));
    block_on(client.poll_token(&auth)).unwrap();
    assert_eq!(time.sleeps(), [3, 3]);
}

#[test]
fn denied_and_expired_end_the_polling() {
    for (code, expected) in
        [("access_denied", ErrorCode::AccessDenied), ("expired_token", ErrorCode::ExpiredToken)]
    {
        let answer = Box::leak(format!(r#"{{"error":"{code}"}}"#).into_boxed_str());
        let (client, http, _) = client(&[(200, authorization("", 600)), PENDING, (400, answer)]);
        let auth = block_on(client.request_authorization(None)).unwrap();
        let err = block_on(client.poll_token(&auth)).unwrap_err();
        assert_eq!(err.oauth2().unwrap().response.error, expected);
        assert_eq!(http.sent().len(), 3, "{code}: no request after the answer");
    }
}

#[test]
fn nothing_is_sent_once_the_codes_expire() {
    let (client, http, time) = client(&[(200, authorization("", 12)), PENDING, PENDING, PENDING]);
    let auth = block_on(client.request_authorization(None)).unwrap();
    let err = block_on(client.poll_token(&auth)).unwrap_err();
    assert!(matches!(err, Error::DeviceCodeExpired { polls: 2, .. }), "{err}");
    // Two full intervals, then only the 2 s left of the lifetime.
    assert_eq!(time.sleeps(), [5, 5, 2]);
    assert_eq!(http.sent().len(), 3);
    assert!(!err.is_retryable());
}

#[test]
fn connection_failures_double_the_interval() {
    let (client, _, time) = client(&[(200, authorization("", 600)), (0, ""), (0, ""), TOKEN]);
    let auth = block_on(client.request_authorization(None)).unwrap();
    block_on(client.poll_token(&auth)).unwrap();
    assert_eq!(time.sleeps(), [5, 10, 20]);
}

#[test]
fn other_errors_are_returned_at_once() {
    let (client, http, _) = client(&[(200, authorization("", 600)), (401, r#"{"error":"invalid_client"}"#)]);
    let auth = block_on(client.request_authorization(None)).unwrap();
    let err = block_on(client.poll_token(&auth)).unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidClient);
    assert_eq!(http.sent().len(), 2);
}

#[test]
fn a_briefly_unwell_server_does_not_end_the_polling() {
    let (client, _, time) =
        client(&[(200, authorization("", 600)), (503, "<html>down</html>"), PENDING, TOKEN]);
    let auth = block_on(client.request_authorization(None)).unwrap();
    block_on(client.poll_token(&auth)).unwrap();
    assert_eq!(time.sleeps(), [5, 10, 10]);
}

#[test]
fn extra_parameters_go_with_the_authorization_and_every_poll() {
    let http = Script::new(&[
        (200, authorization(r#","interval":1"#, 600)),
        (400, r#"{"error":"authorization_pending"}"#),
        (200, r#"{"access_token":"AT","token_type":"Bearer"}"#),
    ]);
    let time = InstantSleeps::new();
    let server = AuthorizationServer::new()
        .device_authorization("https://as.example/device_authorization".parse().unwrap())
        .token("https://as.example/token".parse().unwrap());
    let builder = || {
        OAuth2Client::builder(server.clone(), ClientAuth::public("tv"), http.clone())
            .clock(time.clone())
            .runtime(time.clone())
    };
    let client = builder().extra_param("audience", "https://api.example").build().unwrap().device().unwrap();
    let authorization = block_on(client.request_authorization(None)).unwrap();
    block_on(client.poll_token(&authorization)).unwrap();
    for index in 0..3 {
        let form = http.form(index);
        assert!(form.contains(&("audience".into(), "https://api.example".into())), "{index}: {form:?}");
    }
    // A parameter the flow sets itself is refused before anything is sent.
    let reserved = builder().extra_param("device_code", "x").build().unwrap();
    assert_eq!(
        reserved.device().unwrap_err().config_kind(),
        Some(oauth2_kit::ConfigErrorKind::ReservedParameter)
    );
    assert_eq!(http.sent().len(), 3);
}
