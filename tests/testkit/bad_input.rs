//! The bad-input matrix: what a token endpoint can send wrong, each case through both adapters
//! against the testkit server's fault injection, each naming the exact outcome it expects.
//! None may panic; every error is typed.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::time::Duration;

use oauth2_kit::http::{HttpClient, TransportErrorKind};
use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
use oauth2_kit::{ClientCredentials, Error, ErrorCode, MAX_LIFETIME, TokenType};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Fault, Route, TestServer};

/// The client's body limit in these cases.
const LIMIT: usize = 4096;

/// What a case must produce.
#[derive(Debug, Clone)]
enum Expect {
    /// A token, checked by the function.
    Token(fn(&oauth2_kit::TokenResponse) -> bool),
    /// `Error::Decode` on this field (`None`: the body as a whole).
    Decode(Option<&'static str>),
    /// `Error::OAuth2` with this code and status.
    OAuth2(ErrorCode, u16),
    /// `Error::UnexpectedStatus` with this status.
    Status(u16),
    /// `Error::UnexpectedStatus` with this status and this `Retry-After`, in seconds.
    StatusRetryAfter(u16, u64),
    /// `Error::OAuth2` with this code, status and `Retry-After`, in seconds.
    OAuth2RetryAfter(ErrorCode, u16, u64),
    /// `Error::Transport` of this kind.
    Transport(TransportErrorKind),
}

fn json(body: &str) -> Fault {
    Fault::body(body.to_owned()).header("content-type", "application/json")
}

fn token_with(extra: &str) -> Fault {
    json(&format!(r#"{{"access_token":"AT-matrix-0123456789","token_type":"Bearer"{extra}}}"#))
}

fn cases() -> Vec<(&'static str, Fault, Expect)> {
    use Expect::*;
    let huge_description =
        format!(r#"{{"error":"invalid_request","error_description":"{}"}}"#, "x".repeat(3_900));
    let nested = format!("{}1{}", "[".repeat(2_000), "]".repeat(2_000));
    vec![
        ("empty body", Fault::body(""), Decode(None)),
        ("empty body, 204", Fault::status(204), Decode(None)),
        (
            "HTML 502 page",
            Fault::status(502)
                .with_body("<html><body><h1>502 Bad Gateway</h1></body></html>")
                .header("content-type", "text/html"),
            Status(502),
        ),
        ("truncated JSON", json(r#"{"access_token":"AT-1","token_ty"#), Decode(None)),
        ("JSON array", json(r#"[{"access_token":"AT-1","token_type":"Bearer"}]"#), Decode(None)),
        ("JSON null", json("null"), Decode(None)),
        ("JSON string", json(r#""AT-1""#), Decode(None)),
        ("plain text OK", Fault::body("OK").header("content-type", "text/plain"), Decode(None)),
        (
            "form-encoded token",
            Fault::body("access_token=AT-1&token_type=bearer")
                .header("content-type", "application/x-www-form-urlencoded"),
            Decode(None),
        ),
        (
            "UTF-8 BOM before JSON",
            Fault::body(b"\xEF\xBB\xBF{\"access_token\":\"a\",\"token_type\":\"Bearer\"}".to_vec()),
            Decode(None),
        ),
        (
            "invalid UTF-8",
            Fault::body(b"{\"access_token\":\"\xff\xfe\",\"token_type\":\"Bearer\"}".to_vec()),
            Decode(None),
        ),
        ("nesting 2,000 deep", json(&nested), Decode(None)),
        (
            "body over the size limit",
            json(&format!(r#"{{"access_token":"{}","token_type":"Bearer"}}"#, "a".repeat(LIMIT))),
            Transport(TransportErrorKind::BodyTooLarge { limit: LIMIT }),
        ),
        (
            "body just under the limit",
            json(&format!(r#"{{"access_token":"{}","token_type":"Bearer"}}"#, "a".repeat(LIMIT - 60))),
            Token(|t| t.access_token().expose_secret().len() == LIMIT - 60),
        ),
        ("expires_in negative", token_with(r#","expires_in":-3600"#), Token(|t| t.expires_in().is_none())),
        ("expires_in zero", token_with(r#","expires_in":0"#), Token(|t| t.expires_in().is_none())),
        (
            "expires_in huge",
            token_with(r#","expires_in":1e300"#),
            Token(|t| t.expires_in() == Some(MAX_LIFETIME)),
        ),
        ("expires_in beyond f64", token_with(r#","expires_in":1e400"#), Decode(None)),
        (
            "expires_in float",
            token_with(r#","expires_in":59.9"#),
            Token(|t| t.expires_in() == Some(Duration::from_secs(59))),
        ),
        (
            "expires_in numeric string",
            token_with(r#","expires_in":"3600""#),
            Token(|t| t.expires_in() == Some(Duration::from_secs(3600))),
        ),
        ("expires_in non-numeric string", token_with(r#","expires_in":"soon""#), Decode(Some("expires_in"))),
        ("expires_in boolean", token_with(r#","expires_in":true"#), Decode(Some("expires_in"))),
        ("no access_token", json(r#"{"token_type":"Bearer","expires_in":60}"#), Decode(Some("access_token"))),
        (
            "empty access_token",
            json(r#"{"access_token":"","token_type":"Bearer"}"#),
            Decode(Some("access_token")),
        ),
        (
            "numeric access_token",
            json(r#"{"access_token":12345,"token_type":"Bearer"}"#),
            Decode(Some("access_token")),
        ),
        ("no token_type", json(r#"{"access_token":"AT-1"}"#), Decode(Some("token_type"))),
        (
            "token_type mac (decoded; a bearer client refuses it)",
            json(r#"{"access_token":"AT-1","token_type":"mac","mac_key":"k"}"#),
            Token(|t| t.token_type() == &TokenType::Other("mac".into()) && t.bearer_header().is_err()),
        ),
        ("numeric scope", token_with(r#","scope":7"#), Decode(Some("scope"))),
        ("numeric refresh_token", token_with(r#","refresh_token":1"#), Decode(Some("refresh_token"))),
        (
            "duplicate members",
            json(r#"{"access_token":"AT-a","access_token":"AT-b","token_type":"Bearer"}"#),
            Token(|t| t.access_token().expose_secret() == "AT-b"),
        ),
        (
            "200 carrying an error",
            json(r#"{"error":"invalid_client","error_description":"unknown client"}"#),
            OAuth2(ErrorCode::InvalidClient, 200),
        ),
        (
            "400 with only error",
            Fault::status(400).with_body(r#"{"error":"invalid_grant"}"#),
            OAuth2(ErrorCode::InvalidGrant, 400),
        ),
        ("400 with a non-string error", Fault::status(400).with_body(r#"{"error":5}"#), Status(400)),
        (
            "401 invalid_client with a Basic challenge",
            Fault::status(401)
                .with_body(r#"{"error":"invalid_client"}"#)
                .header("www-authenticate", "Basic realm=\"as\""),
            OAuth2(ErrorCode::InvalidClient, 401),
        ),
        (
            "401 with a malformed WWW-Authenticate",
            Fault::status(401).header("www-authenticate", "Bearer realm=\"unterminated, error=="),
            Status(401),
        ),
        (
            "500 server_error",
            Fault::status(500).with_body(r#"{"error":"server_error"}"#),
            OAuth2(ErrorCode::ServerError, 500),
        ),
        ("429 with Retry-After", Fault::status(429).header("retry-after", "7"), StatusRetryAfter(429, 7)),
        (
            "429 error body with Retry-After",
            Fault::status(429).with_body(r#"{"error":"slow_down"}"#).header("retry-after", "7"),
            OAuth2RetryAfter(ErrorCode::SlowDown, 429, 7),
        ),
        ("503", Fault::status(503), Status(503)),
        (
            "418 with a token body",
            Fault::status(418).with_body(r#"{"access_token":"AT-1","token_type":"Bearer"}"#),
            Status(418),
        ),
        (
            "302 to another host",
            Fault::status(302).header("location", "https://evil.example/token"),
            Status(302),
        ),
        (
            "error_description of 3,900 characters (clipped in messages)",
            Fault::status(400).with_body(huge_description),
            OAuth2(ErrorCode::InvalidRequest, 400),
        ),
        (
            "control characters in error_description",
            Fault::status(400)
                .with_body("{\"error\":\"invalid_request\",\"error_description\":\"line1\\nline2\\u0007\"}"),
            OAuth2(ErrorCode::InvalidRequest, 400),
        ),
        (
            "connection closed mid-body",
            Fault::close_mid_body(r#"{"access_token":"AT-1","tok"#),
            Transport(TransportErrorKind::Other),
        ),
        (
            "bytes trickling past the timeout",
            Fault::trickle(r#"{"access_token":"AT-1","token_type":"Bearer"}"#, Duration::from_millis(200)),
            Transport(TransportErrorKind::Timeout),
        ),
        (
            "slow but within the timeout",
            token_with("").delay(Duration::from_millis(300)),
            Token(|t| t.access_token().expose_secret() == "AT-matrix-0123456789"),
        ),
    ]
}

/// Both adapters, with a 2 s overall timeout.
fn adapters() -> Vec<(&'static str, Arc<dyn HttpClient>)> {
    let timeout = Duration::from_secs(2);
    vec![
        ("reqwest", Arc::new(oauth2_kit_reqwest::ReqwestClient::builder().timeout(timeout).build().unwrap())),
        ("isahc", Arc::new(oauth2_kit_isahc::IsahcClient::builder().timeout(timeout).build().unwrap())),
    ]
}

fn check(name: &str, adapter: &str, result: oauth2_kit::Result<oauth2_kit::TokenResponse>, expect: &Expect) {
    let context = format!("{name} via {adapter}");
    match (expect, &result) {
        (Expect::Token(ok), Ok(token)) => assert!(ok(token), "{context}: unexpected token {token:?}"),
        (Expect::Decode(field), Err(Error::Decode { field: got, .. })) => assert_eq!(got, field, "{context}"),
        (Expect::OAuth2(code, status), Err(Error::OAuth2(e))) => {
            assert_eq!(&e.response.error, code, "{context}");
            assert_eq!(e.status.as_u16(), *status, "{context}");
        }
        (Expect::Status(status), Err(Error::UnexpectedStatus { status: got, .. })) => {
            assert_eq!(got.as_u16(), *status, "{context}")
        }
        (
            Expect::StatusRetryAfter(status, secs),
            Err(error @ Error::UnexpectedStatus { status: got, .. }),
        ) => {
            assert_eq!(got.as_u16(), *status, "{context}");
            assert_eq!(error.retry_after(), Some(Duration::from_secs(*secs)), "{context}");
        }
        (Expect::OAuth2RetryAfter(code, status, secs), Err(error @ Error::OAuth2(e))) => {
            assert_eq!(&e.response.error, code, "{context}");
            assert_eq!(e.status.as_u16(), *status, "{context}");
            assert_eq!(error.retry_after(), Some(Duration::from_secs(*secs)), "{context}");
        }
        (Expect::Transport(kind), Err(Error::Transport(e))) => assert_eq!(&e.kind(), kind, "{context}: {e}"),
        _ => panic!("{context}: expected {expect:?}, got {result:?}"),
    }
    // Errors say "retry" exactly when a retry may help: a transient status or server error, a
    // dropped or slow connection; never for a body that does not decode or a client error.
    if let Err(error) = &result {
        let transient_status = |status: &u16| matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
        let retryable = match expect {
            Expect::Token(_) | Expect::Decode(_) => false,
            Expect::OAuth2(code, status) | Expect::OAuth2RetryAfter(code, status, _) => {
                matches!(code, ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable)
                    || transient_status(status)
            }
            Expect::Status(status) | Expect::StatusRetryAfter(status, _) => transient_status(status),
            Expect::Transport(kind) => {
                matches!(
                    kind,
                    TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Other
                )
            }
        };
        assert_eq!(error.is_retryable(), retryable, "{context}: retryable? {error}");
    }
    if let Err(error) = &result {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(DEFAULT_CLIENT_SECRET), "{context}: the secret leaked");
        assert!(
            !shown.contains("AT-matrix") && !shown.contains("AT-1"),
            "{context}: a token leaked: {shown}"
        );
        assert!(
            error.to_string().len() < 2_000,
            "{context}: an error message of {} bytes",
            error.to_string().len()
        );
        assert!(!error.to_string().contains('\n'), "{context}: a multi-line message");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_answer_is_the_error_it_should_be() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let server = TestServer::start().unwrap();
    let mut checked = 0;
    for (adapter, http) in adapters() {
        let client = OAuth2Client::builder(
            server.authorization_server(),
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            http,
        )
        .body_limit(LIMIT)
        .build()
        .unwrap()
        .client_credentials()
        .unwrap();
        for (name, fault, expect) in &cases {
            server.inject(Route::Token, fault.clone(), 1);
            let result = client.request_token(None).await;
            check(name, adapter, result, expect);
            server.clear_faults();
            checked += 1;
        }
    }
    println!("bad-input matrix: {} cases x 2 adapters = {checked} checks, all as expected", cases.len());
    assert_eq!(checked, cases.len() * 2);
}

/// With a retry policy, transient failures (503, a 429 with `Retry-After`, a dropped
/// connection) are retried until the token comes; an OAuth 2.0 error is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_through_both_adapters() {
    let server = TestServer::start().unwrap();
    for (adapter, http) in adapters() {
        let client = OAuth2Client::builder(
            server.authorization_server(),
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            http,
        )
        .retry(
            oauth2_kit::RetryPolicy::default()
                .with_max_attempts(4)
                .with_backoff(Duration::from_millis(20), Duration::from_millis(100)),
        )
        .runtime(Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()))
        .build()
        .unwrap()
        .client_credentials()
        .unwrap();
        server.reset_counts();
        server.inject(Route::Token, Fault::status(503), 1);
        server.inject(Route::Token, Fault::status(429).header("retry-after", "1"), 1);
        server.inject(Route::Token, Fault::close_mid_body("{"), 1);
        client.request_token(None).await.expect(adapter);
        assert_eq!(server.requests(Route::Token), 4, "{adapter}");

        server.reset_counts();
        server.inject(
            Route::Token,
            Fault::status(503).with_body(r#"{"error":"temporarily_unavailable"}"#),
            1,
        );
        let err = client.request_token(None).await.unwrap_err();
        assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::TemporarilyUnavailable, "{adapter}");
        assert_eq!(server.requests(Route::Token), 1, "{adapter}: OAuth 2.0 errors are not retried");
    }
}

/// A client of `endpoint` with the default retry policy and short backoffs (10-20 ms).
fn retrying_client(endpoint: &oauth2_kit::Endpoint, http: Arc<dyn HttpClient>) -> ClientCredentials {
    OAuth2Client::builder(
        AuthorizationServer::new().token(endpoint.clone()),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    )
    .retry(
        oauth2_kit::RetryPolicy::default().with_backoff(Duration::from_millis(10), Duration::from_millis(20)),
    )
    .runtime(Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()))
    .build()
    .unwrap()
    .client_credentials()
    .unwrap()
}

/// Nothing listens at the token endpoint: a retryable `Connect` error through both adapters,
/// after every attempt the retry policy allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_a_retryable_connect_error() {
    let closed = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap()
    };
    let endpoint: oauth2_kit::Endpoint = format!("http://{closed}/token").parse().unwrap();
    for (adapter, http) in adapters() {
        let client = retrying_client(&endpoint, http);
        let error = client.request_token(None).await.unwrap_err();
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Connect), "{adapter}: {error}");
        assert!(error.is_retryable(), "{adapter}");
    }
}

/// A token endpoint that answers every request with `answer` (raw bytes, then a close) and
/// counts the requests.
fn raw_endpoint(answer: Vec<u8>) -> (oauth2_kit::Endpoint, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let endpoint = format!("http://{}/token", listener.local_addr().unwrap()).parse().unwrap();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Read the request head and body (the form is small: one read of what arrived).
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(&answer);
        }
    });
    (endpoint, count)
}

/// Answers that are not HTTP give the same error through both adapters: `Protocol`, not
/// retryable, so a retry policy sends the request once (the same server says the same again).
/// A header block past every client's limit says so in the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_are_not_http_are_protocol_errors_through_both_adapters() {
    let mut huge_headers = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..1024 {
        huge_headers.extend_from_slice(format!("x-filler-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    huge_headers.extend_from_slice(b"content-length: 2\r\n\r\n{}");
    let cases: [(&str, Vec<u8>); 4] = [
        ("not HTTP", b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()),
        ("a garbage status line", b"HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec()),
        ("Content-Length: -1", b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n{}".to_vec()),
        ("a 1 MiB header block", huge_headers),
    ];
    for (name, answer) in cases {
        let (endpoint, requests) = raw_endpoint(answer);
        for (adapter, http) in adapters() {
            let client = retrying_client(&endpoint, http);
            let before = requests.load(std::sync::atomic::Ordering::SeqCst);
            let error = client.request_token(None).await.unwrap_err();
            let sent = requests.load(std::sync::atomic::Ordering::SeqCst) - before;
            let context = format!("{name} via {adapter}: {error}");
            if name == "a 1 MiB header block" {
                // libcurl cannot tell this from a broken connection (see the conformance check).
                assert!(error.to_string().contains("header block"), "{context}");
                if error.transport_kind() == Some(TransportErrorKind::Other) {
                    assert!(adapter == "isahc" && error.is_retryable(), "{context}");
                    continue;
                }
            }
            assert_eq!(error.transport_kind(), Some(TransportErrorKind::Protocol), "{context}");
            assert!(!error.is_retryable(), "{context}");
            assert_eq!(sent, 1, "{context}: not retried");
        }
    }
}
