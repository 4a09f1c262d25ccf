//! Client credentials, introspection and revocation over an in-process HTTP client that records
//! every request and answers from a script: exact bodies and headers, and the classification of
//! every kind of answer.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use futures_lite::future::block_on;
use http::StatusCode;
use oauth2_kit::http::{
    BodyLimit, HttpClient, HttpRequest, HttpResponse, TransportError, TransportErrorKind,
};
use oauth2_kit::{
    AccessToken, AccessTokenProvider, AuthMethod, AuthorizationServer, ClientAuth, ClientCredentials, Clock,
    Endpoint, Error, ErrorCode, OAuth2Client, Scope, TokenIntrospection, TokenType,
};

type Answer = Result<HttpResponse, TransportError>;

const INTROSPECTION_URL: &str = "https://auth.example.com/oauth2/introspect";
const REVOCATION_URL: &str = "https://auth.example.com/oauth2/revoke";

/// The server of these tests: token, introspection and revocation endpoints.
fn server() -> AuthorizationServer {
    AuthorizationServer::new()
        .token(token_url())
        .introspection(INTROSPECTION_URL.parse().unwrap())
        .revocation(REVOCATION_URL.parse().unwrap())
}

fn client(id: &str, secret: &str, http: impl HttpClient + 'static) -> OAuth2Client {
    OAuth2Client::new(server(), ClientAuth::new(id, secret), http)
}

fn grant(id: &str, secret: &str, http: impl HttpClient + 'static) -> ClientCredentials {
    client(id, secret, http).client_credentials().unwrap()
}

/// Records requests; answers from a queue.
#[derive(Default)]
struct Scripted {
    requests: Mutex<Vec<HttpRequest>>,
    answers: Mutex<VecDeque<Answer>>,
}

impl Scripted {
    fn answering(answers: impl IntoIterator<Item = Answer>) -> Arc<Self> {
        Arc::new(Self { requests: Mutex::default(), answers: Mutex::new(answers.into_iter().collect()) })
    }

    fn last_request(&self) -> HttpRequest {
        let requests = self.requests.lock().unwrap();
        let last = requests.last().expect("a request was sent");
        let mut copy = http::Request::new(last.body().clone());
        *copy.method_mut() = last.method().clone();
        *copy.uri_mut() = last.uri().clone();
        *copy.headers_mut() = last.headers().clone();
        if let Some(limit) = last.extensions().get::<BodyLimit>() {
            copy.extensions_mut().insert(*limit);
        }
        copy
    }
}

#[async_trait::async_trait]
impl HttpClient for Scripted {
    async fn send(&self, request: HttpRequest) -> Answer {
        self.requests.lock().unwrap().push(request);
        self.answers.lock().unwrap().pop_front().expect("a scripted answer")
    }
}

fn answer(status: u16, content_type: &str, body: &str) -> Answer {
    Ok(http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("retry-after", "7")
        .header("set-cookie", "session=do-not-keep")
        .body(Bytes::copy_from_slice(body.as_bytes()))
        .unwrap())
}

fn json(status: u16, body: &str) -> Answer {
    answer(status, "application/json", body)
}

const TOKEN: &str =
    r#"{"access_token":"AT-123","token_type":"Bearer","expires_in":3600,"scope":"read write"}"#;

fn token_url() -> Endpoint {
    "https://auth.example.com/oauth2/token".parse().unwrap()
}

fn basic_credentials(request: &HttpRequest) -> String {
    let value = request.headers()["authorization"].to_str().unwrap();
    let encoded = value.strip_prefix("Basic ").expect("Basic credentials");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap()
}

fn body(request: &HttpRequest) -> &str {
    std::str::from_utf8(request.body()).unwrap()
}

#[test]
fn basic_auth_request_is_exact() {
    let http = Scripted::answering([json(200, TOKEN)]);
    let client = grant("my client:1", "s3cr:t%+ é", http.clone());
    let scope: Scope = "write read".parse().unwrap();
    let token = block_on(client.request_token(Some(&scope))).unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT-123");

    let request = http.last_request();
    assert_eq!(request.method(), "POST");
    assert_eq!(request.uri(), "https://auth.example.com/oauth2/token");
    assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(request.headers()["accept"], "application/json");
    assert!(request.headers()["authorization"].is_sensitive());
    // RFC 6749 §2.3.1: form-urlencode id and secret, then base64.
    assert_eq!(basic_credentials(&request), "my+client%3A1:s3cr%3At%25%2B+%C3%A9");
    assert_eq!(body(&request), "grant_type=client_credentials&scope=read+write");
    assert_eq!(request.headers().len(), 3);
    assert_eq!(BodyLimit::of(&request), 1024 * 1024);
}

#[test]
fn post_auth_request_is_exact() {
    let http = Scripted::answering([json(200, TOKEN)]);
    let auth = ClientAuth::new("my client:1", "s3cr:t%+ é").with_method(AuthMethod::ClientSecretPost);
    let client = OAuth2Client::builder(server(), auth, http.clone())
        .extra_param("audience", "https://api.example.com/")
        .body_limit(4096)
        .build()
        .unwrap()
        .client_credentials()
        .unwrap();
    block_on(client.request_token(Some(&"read".parse().unwrap()))).unwrap();

    let request = http.last_request();
    assert!(request.headers().get("authorization").is_none());
    assert_eq!(
        body(&request),
        "grant_type=client_credentials&scope=read&audience=https%3A%2F%2Fapi.example.com%2F\
         &client_id=my+client%3A1&client_secret=s3cr%3At%25%2B+%C3%A9"
    );
    assert_eq!(BodyLimit::of(&request), 4096);
}

#[test]
fn no_scope_sends_no_scope_parameter() {
    let http = Scripted::answering([json(200, TOKEN)]);
    let client = grant("id", "secret", http.clone());
    block_on(client.request_token(None)).unwrap();
    assert_eq!(body(&http.last_request()), "grant_type=client_credentials");
}

#[test]
fn reserved_extra_parameters_are_refused() {
    for name in ["grant_type", "scope", "client_id", "client_secret"] {
        let client =
            OAuth2Client::builder(server(), ClientAuth::new("id", "secret"), Scripted::answering([]))
                .extra_param(name, "x")
                .build()
                .unwrap();
        assert!(matches!(client.client_credentials(), Err(Error::Config(_))), "{name}");
    }
    let twice = OAuth2Client::builder(server(), ClientAuth::new("id", "secret"), Scripted::answering([]))
        .extra_param("audience", "a")
        .extra_param("audience", "b")
        .build()
        .unwrap();
    assert!(matches!(twice.client_credentials(), Err(Error::Config(_))));
}

#[derive(Debug)]
struct FixedClock(Instant);

impl Clock for FixedClock {
    fn now(&self) -> Instant {
        self.0
    }
    fn system_time(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH
    }
}

#[test]
fn expiry_counts_from_when_the_request_was_sent() {
    let sent = oauth2_kit::SystemClock.now();
    let http = Scripted::answering([json(200, TOKEN)]);
    let client = OAuth2Client::builder(server(), ClientAuth::new("id", "secret"), http)
        .clock(Arc::new(FixedClock(sent)))
        .build()
        .unwrap()
        .client_credentials()
        .unwrap();
    let token = block_on(client.request_token(None)).unwrap();
    assert_eq!(token.requested_at(), sent);
    assert_eq!(token.expires_at(), Some(sent + Duration::from_secs(3600)));
    assert_eq!(token.token_type(), &TokenType::Bearer);
    assert_eq!(token.scope().unwrap().as_str(), "read write");
}

fn request_with(answer: Answer) -> Result<oauth2_kit::TokenResponse, Error> {
    let client = grant("id", "secret", Scripted::answering([answer]));
    block_on(client.request_token(None))
}

#[test]
fn oauth2_error_with_any_status() {
    let err = request_with(json(
        401,
        r#"{"error":"invalid_client","error_description":"client authentication failed","error_uri":"https://e/x"}"#,
    ))
    .unwrap_err();
    let Error::OAuth2(e) = &err else { panic!("{err:?}") };
    assert_eq!(e.status, StatusCode::UNAUTHORIZED);
    assert_eq!(e.response.error, ErrorCode::InvalidClient);
    assert_eq!(e.response.error_description.as_deref(), Some("client authentication failed"));
    assert_eq!(e.response.error_uri.as_deref(), Some("https://e/x"));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.headers.get("set-cookie").is_none(), "cookies are not kept");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "authorization server error (HTTP 401): invalid_client: client authentication failed"
    );

    // A 200 carrying an error is an error.
    let err = request_with(json(200, r#"{"error":"invalid_scope"}"#)).unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidScope);
    assert_eq!(err.status(), Some(StatusCode::OK));

    // Unknown codes are kept.
    let err = request_with(json(400, r#"{"error":"consent_required"}"#)).unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::Other("consent_required".into()));

    // temporarily_unavailable can be retried.
    let err = request_with(json(503, r#"{"error":"temporarily_unavailable"}"#)).unwrap_err();
    assert!(err.is_retryable());
}

fn answer_with(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    Ok(builder.body(Bytes::copy_from_slice(body.as_bytes())).unwrap())
}

#[test]
fn a_secret_straddling_a_length_limit_is_redacted_before_the_cut() {
    let secret = "s3cret-straddling-the-cut";
    let bodies = [
        format!(r#"{{"error":"invalid_client","error_description":"{}{secret}"}}"#, "d".repeat(490)),
        format!(r#"{{"error":"{}{secret}"}}"#, "c".repeat(95)),
        format!(r#"{{"error":"invalid_client","error_uri":"https://e/{}{secret}"}}"#, "u".repeat(480)),
    ];
    for body in bodies {
        let client = grant("id", secret, Scripted::answering([json(400, &body)]));
        let err = block_on(client.request_token(None)).unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        assert!(format!("{err:?}").contains("[reda"), "{err:?}");
    }
}

#[test]
fn hostile_error_bodies_stay_small_and_secret_free() {
    let request = |secret: &str, body: &str| {
        let client = grant("id", secret, Scripted::answering([json(400, body)]));
        block_on(client.request_token(None)).unwrap_err()
    };
    // A numeric secret, echoed as a JSON number.
    let err = request("12345678", r#"{"error":"invalid_client","detail":12345678,"code_count":3}"#);
    assert!(!format!("{err:?}").contains("12345678"), "{err:?}");
    // Control characters slipped into an echo do not rebuild it once the text is one line.
    let err =
        request("rt-0123456789", "{\"error\":\"x\",\"error_description\":\"rt-01234\\u0007\\u202e56789\"}");
    assert!(!err.to_string().contains("0123456789"), "{err}");
    // Most of a megabyte of members: the error keeps at most 8 KiB of them.
    let members: Vec<String> = (0..30_000).map(|i| format!(r#""m{i}":"{}""#, "v".repeat(20))).collect();
    let err = request("secret", &format!(r#"{{"error":"x",{}}}"#, members.join(",")));
    let extra = &err.oauth2().unwrap().response.extra;
    assert!(serde_json::to_string(extra).unwrap().len() <= 8 * 1024, "{}", extra.len());
    assert!(!extra.is_empty());
    // An error member whose name is escaped is still an error, with a 200 too.
    let err = request("secret", r#"{"access_token":"a","token_type":"Bearer","\u0065rror":"invalid_grant"}"#);
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidGrant);
}

#[test]
fn retry_after_is_read_in_both_forms_and_clamped() {
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Headers<'_>, Option<u64>); 6] = [
        (&[("retry-after", "120")], Some(120)),
        (&[("retry-after", "99999999999999999999999")], Some(86_400)),
        (&[("retry-after", "9999999")], Some(86_400)),
        // An HTTP date, counted from the response's own Date.
        (
            &[("retry-after", "Wed, 21 Oct 2037 07:30:00 GMT"), ("date", "Wed, 21 Oct 2037 07:28:00 GMT")],
            Some(120),
        ),
        (
            &[("retry-after", "Wed, 21 Oct 2037 07:28:00 GMT"), ("date", "Wed, 21 Oct 2037 07:30:00 GMT")],
            Some(0),
        ),
        (&[("retry-after", "soon")], None),
    ];
    for (headers, expected) in cases {
        for body in [r#"{"error":"temporarily_unavailable"}"#, "busy"] {
            let client = grant("id", "secret", Scripted::answering([answer_with(503, headers, body)]));
            let err = block_on(client.request_token(None)).unwrap_err();
            assert_eq!(err.retry_after(), expected.map(Duration::from_secs), "{headers:?} {body}");
            // Adding the delay to an instant never overflows.
            let _ = oauth2_kit::SystemClock.now() + err.retry_after().unwrap_or_default();
        }
    }
    assert_eq!(Error::MAX_RETRY_AFTER, Duration::from_secs(86_400));
}

#[test]
fn errors_keep_what_explains_them() {
    let body = r#"{"error":"invalid_request","error_codes":[7000215],"trace_id":"t-1","refresh_token":"rt-x","detail":{"client_secret":"s"}}"#;
    let client = grant("id", "s3cr3t-value", Scripted::answering([json(400, body)]));
    let err = block_on(client.request_token(None)).unwrap_err();
    let extra = &err.oauth2().unwrap().response.extra;
    assert_eq!(extra["error_codes"], serde_json::json!([7000215]));
    assert_eq!(extra["trace_id"], "t-1");
    assert_eq!(extra["refresh_token"], "[redacted]");
    assert_eq!(extra["detail"]["client_secret"], "[redacted]");
    assert!(!extra.contains_key("error"));

    let headers = [
        ("location", "https://login.example.com/signin?session=abc#frag"),
        ("retry-after", "30"),
        ("www-authenticate", r#"Basic realm="auth""#),
        ("set-cookie", "session=do-not-keep"),
    ];
    let err = request_with(answer_with(302, &headers, "")).unwrap_err();
    let Error::UnexpectedStatus { headers, retry_after, .. } = &err else { panic!("{err:?}") };
    assert_eq!(headers["location"], "https://login.example.com/signin");
    assert_eq!(headers["www-authenticate"], r#"Basic realm="auth""#);
    assert_eq!(*retry_after, Some(Duration::from_secs(30)));
    assert!(headers.get("set-cookie").is_none());
}

#[test]
fn unexpected_status_keeps_a_short_excerpt() {
    let page = format!("<html><body><h1>502 Bad Gateway</h1>{}</body></html>", "padding ".repeat(100));
    let err = request_with(answer(502, "text/html", &page)).unwrap_err();
    let Error::UnexpectedStatus { status, body_excerpt, retry_after, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*status, StatusCode::BAD_GATEWAY);
    assert_eq!(*retry_after, Some(Duration::from_secs(7)));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(body_excerpt.starts_with("<html><body><h1>502 Bad Gateway</h1>"));
    assert!(body_excerpt.chars().count() <= 201);
    assert!(err.is_retryable());

    let err = request_with(answer(404, "text/plain", "")).unwrap_err();
    assert_eq!(err.to_string(), "unexpected HTTP status 404 Not Found");
    assert!(!err.is_retryable());
}

#[test]
fn undecodable_success_names_the_field_and_leaks_nothing() {
    let err = request_with(answer(200, "text/html", "<html>login</html>")).unwrap_err();
    let Error::Decode { status, field, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*status, *field), (StatusCode::OK, None));

    let err = request_with(json(200, r#"{"access_token":"LEAKED-TOKEN","token_type":5}"#)).unwrap_err();
    let Error::Decode { field, body_excerpt, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*field, Some("token_type"));
    assert_eq!(body_excerpt, r#"{"access_token": string, "token_type": number}"#);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("LEAKED-TOKEN"), "{shown}");
    assert!(shown.contains("token_type"), "{shown}");
    assert!(!err.is_retryable());
}

#[test]
fn transport_errors_and_oversized_bodies() {
    let err = request_with(Err(TransportError::new(TransportErrorKind::Connect))).unwrap_err();
    assert_eq!(err.transport_kind(), Some(TransportErrorKind::Connect));
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);

    // An adapter that ignored the limit: the core still refuses the body.
    let client = OAuth2Client::builder(
        server(),
        ClientAuth::new("id", "secret"),
        Scripted::answering([json(200, TOKEN)]),
    )
    .body_limit(16)
    .build()
    .unwrap()
    .client_credentials()
    .unwrap();
    let err = block_on(client.request_token(None)).unwrap_err();
    assert_eq!(err.transport_kind(), Some(TransportErrorKind::BodyTooLarge { limit: 16 }));
    assert_eq!(err.status(), Some(StatusCode::OK), "the status line had arrived");
}

#[test]
fn introspection_request_and_response() {
    let http = Scripted::answering([json(
        200,
        r#"{"active":true,"client_id":"id","scope":"read","exp":1900000000,"aud":"api","custom":1}"#,
    )]);
    let client = client("id", "secret", http.clone()).introspection().unwrap();
    let provider: Arc<dyn TokenIntrospection> = Arc::new(client);
    let info = block_on(provider.introspect(&AccessToken::new("AT 1+2"))).unwrap();
    assert!(info.active);
    assert_eq!(info.aud.as_deref(), Some(&["api".to_owned()][..]));
    assert_eq!(info.extra["custom"], 1);

    let request = http.last_request();
    assert_eq!(request.uri(), "https://auth.example.com/oauth2/introspect");
    assert_eq!(body(&request), "token=AT+1%2B2&token_type_hint=access_token");
    assert_eq!(basic_credentials(&request), "id:secret");
    assert_eq!(request.headers()["accept"], "application/json");
}

#[test]
fn hints_are_optional() {
    let http = Scripted::answering([json(200, r#"{"active":false}"#), answer(200, "text/plain", "")]);
    let client = client("id", "secret", http.clone());
    let introspection = client.introspection().unwrap();
    assert!(!block_on(introspection.introspect_with_hint(&AccessToken::new("t"), None)).unwrap().active);
    assert_eq!(body(&http.last_request()), "token=t");
    let hint = oauth2_kit::TokenTypeHint::Other("urn:custom".into());
    block_on(client.revocation().unwrap().revoke_with_hint(&AccessToken::new("t"), Some(hint))).unwrap();
    assert_eq!(body(&http.last_request()), "token=t&token_type_hint=urn%3Acustom");
}

#[test]
fn introspection_without_endpoint_is_a_config_error_before_any_request() {
    let http = Scripted::answering([]);
    let server = AuthorizationServer::new().token(token_url());
    let client = OAuth2Client::new(server, ClientAuth::new("id", "secret"), http.clone());
    let err = client.introspection().unwrap_err();
    assert_eq!(
        err.config_kind(),
        Some(oauth2_kit::ConfigErrorKind::MissingEndpoint(oauth2_kit::EndpointKind::Introspection))
    );
    assert!(http.requests.lock().unwrap().is_empty());
}

#[test]
fn revocation_ignores_the_success_body() {
    let http = Scripted::answering([
        answer(200, "text/html", ""),
        json(400, r#"{"error":"unsupported_token_type"}"#),
    ]);
    let client = client("id", "secret", http.clone()).revocation().unwrap();
    block_on(client.revoke(&AccessToken::new("t"))).unwrap();
    assert_eq!(body(&http.last_request()), "token=t&token_type_hint=access_token");
    let err = block_on(client.revoke(&AccessToken::new("t"))).unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::UnsupportedTokenType);
}

#[test]
fn usable_as_dyn_provider_over_dyn_http_client() {
    let http: Arc<dyn HttpClient> = Scripted::answering([json(200, TOKEN)]);
    let provider: Arc<dyn AccessTokenProvider> = Arc::new(grant("id", "s", http));
    let token = block_on(provider.request_token(None)).unwrap();
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn traces_have_endpoint_grant_status_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let http = Scripted::answering([json(200, TOKEN), json(401, r#"{"error":"invalid_client"}"#)]);
        let client = grant("id", "TOP-SECRET", http);
        block_on(client.request_token(None)).unwrap();
        let _ = block_on(client.request_token(None));
    });
    let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(out.contains("oauth2_kit.request"), "{out}");
    assert!(out.contains("grant=\"client_credentials\""), "{out}");
    assert!(out.contains("endpoint=https://auth.example.com/oauth2/token"), "{out}");
    assert!(out.contains("status=200") && out.contains("status=401"), "{out}");
    assert!(out.contains("duration_ms="), "{out}");
    for secret in ["TOP-SECRET", "AT-123"] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
}

/// A resource server introspects with the introspection endpoint and its credentials alone: no
/// token endpoint anywhere.
#[test]
fn an_introspection_client_needs_no_token_endpoint() {
    let http = Scripted::answering([json(200, r#"{"active":true,"scope":"read","client_id":"app"}"#)]);
    let introspection = oauth2_kit::IntrospectionClient::new(
        "https://auth.example.com/oauth2/introspect".parse().unwrap(),
        oauth2_kit::ClientAuth::new("orders-api", "api-secret"),
        http.clone(),
    );
    // Through the trait too: the caching crates take any TokenIntrospection.
    let info = block_on(TokenIntrospection::introspect(&introspection, &AccessToken::new("AT 1"))).unwrap();
    assert!(info.active);
    assert_eq!(info.client_id.as_deref(), Some("app"));
    let request = http.last_request();
    assert_eq!(request.uri(), "https://auth.example.com/oauth2/introspect");
    assert_eq!(basic_credentials(&request), "orders-api:api-secret");
    assert_eq!(body(&request), "token=AT+1&token_type_hint=access_token");
    assert!(!format!("{introspection:?}").contains("api-secret"));
}

#[test]
fn a_revocation_client_revokes_with_its_hint_and_unknown_tokens_are_success() {
    let http = Scripted::answering([answer(200, "text/html", ""), json(200, "{}")]);
    let revocation = oauth2_kit::RevocationClient::new(
        "https://auth.example.com/oauth2/revoke".parse().unwrap(),
        oauth2_kit::ClientAuth::public("cli"),
        http.clone(),
    );
    block_on(revocation.revoke_refresh_token(&oauth2_kit::RefreshToken::new("RT-9"))).unwrap();
    assert_eq!(body(&http.last_request()), "token=RT-9&token_type_hint=refresh_token&client_id=cli");
    block_on(revocation.revoke(&AccessToken::new("AT-9"))).unwrap();
    assert_eq!(body(&http.last_request()), "token=AT-9&token_type_hint=access_token&client_id=cli");
    assert_eq!(http.requests.lock().unwrap().len(), 2);
}

#[test]
fn a_refresh_client_keeps_the_refresh_token_the_server_did_not_rotate() {
    let http = Scripted::answering([json(200, TOKEN)]);
    let refresh = oauth2_kit::RefreshClient::new(
        token_url(),
        oauth2_kit::ClientAuth::new("app", "app-secret"),
        http.clone(),
    );
    let used = oauth2_kit::RefreshToken::new("RT-1");
    let token = block_on(refresh.refresh(&used, Some(&"read".parse().unwrap()))).unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT-123");
    assert_eq!(token.refresh_token().map(|t| t.expose_secret()), Some("RT-1"));
    let request = http.last_request();
    assert_eq!(body(&request), "grant_type=refresh_token&refresh_token=RT-1&scope=read");
    assert_eq!(basic_credentials(&request), "app:app-secret");
}

mod one_client {
    use super::*;
    use oauth2_kit::discovery::ServerMetadata;
    use oauth2_kit::{AuthorizationServer, ClientAuth, ConfigErrorKind, EndpointKind, OAuth2Client};

    fn kind_of<T: std::fmt::Debug>(result: Result<T, Error>) -> ConfigErrorKind {
        result.unwrap_err().config_kind().expect("a configuration error")
    }

    /// Every operation needs its endpoints, and says which one is missing when obtained, before
    /// anything is sent.
    #[test]
    fn a_missing_endpoint_is_found_when_the_operation_is_obtained() {
        let http = Scripted::answering([]);
        let client =
            OAuth2Client::new(AuthorizationServer::new(), ClientAuth::new("id", "secret"), http.clone());
        let missing = |kind| ConfigErrorKind::MissingEndpoint(kind);
        assert_eq!(kind_of(client.client_credentials()), missing(EndpointKind::Token));
        assert_eq!(kind_of(client.password()), missing(EndpointKind::Token));
        assert_eq!(kind_of(client.refresh()), missing(EndpointKind::Token));
        assert_eq!(kind_of(client.introspection()), missing(EndpointKind::Introspection));
        assert_eq!(kind_of(client.revocation()), missing(EndpointKind::Revocation));
        assert_eq!(kind_of(client.userinfo()), missing(EndpointKind::UserInfo));
        let redirect = url::Url::parse("https://app.example.com/callback").unwrap();
        assert_eq!(kind_of(client.authorization_code(redirect)), missing(EndpointKind::Authorization));
        // The device flow also needs a runtime to sleep between polls.
        assert_eq!(kind_of(client.device()), ConfigErrorKind::NoRuntime);
        assert!(http.requests.lock().unwrap().is_empty());
    }

    #[test]
    fn settings_are_checked_by_build() {
        let builder = || {
            OAuth2Client::builder(
                AuthorizationServer::new(),
                ClientAuth::public("id"),
                Scripted::answering([]),
            )
        };
        assert_eq!(builder().body_limit(0).build().unwrap_err().kind(), ConfigErrorKind::InvalidSetting);
        let retrying = builder().retry(oauth2_kit::RetryPolicy::default()).build();
        assert_eq!(retrying.unwrap_err().kind(), ConfigErrorKind::NoRuntime);
        let reserved = OAuth2Client::builder(
            AuthorizationServer::new().token(token_url()),
            ClientAuth::new("id", "secret"),
            Scripted::answering([]),
        )
        .extra_param("grant_type", "password")
        .build()
        .unwrap();
        assert_eq!(kind_of(reserved.client_credentials()), ConfigErrorKind::ReservedParameter);
    }

    /// The settings given once reach every operation: the extra parameter and the body limit
    /// on the token request and the refresh, the body limit on introspection.
    #[test]
    fn settings_given_once_reach_every_operation() {
        let http =
            Scripted::answering([json(200, TOKEN), json(200, TOKEN), json(200, r#"{"active":false}"#)]);
        let server = AuthorizationServer::new()
            .token(token_url())
            .introspection("https://auth.example.com/oauth2/introspect".parse().unwrap());
        let client = OAuth2Client::builder(server, ClientAuth::new("id", "secret"), http.clone())
            .extra_param("audience", "https://api.example.com/")
            .body_limit(4096)
            .build()
            .unwrap();
        block_on(client.client_credentials().unwrap().request_token(None)).unwrap();
        let request = http.last_request();
        assert_eq!(body(&request), "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com%2F");
        assert_eq!(BodyLimit::of(&request), 4096);
        block_on(client.refresh().unwrap().refresh(&oauth2_kit::RefreshToken::new("RT"), None)).unwrap();
        let request = http.last_request();
        assert_eq!(
            body(&request),
            "grant_type=refresh_token&refresh_token=RT&audience=https%3A%2F%2Fapi.example.com%2F"
        );
        assert_eq!(BodyLimit::of(&request), 4096);
        assert!(
            !block_on(client.introspection().unwrap().introspect(&AccessToken::new("t"))).unwrap().active
        );
        assert_eq!(BodyLimit::of(&http.last_request()), 4096);
    }

    /// An unusable endpoint in a server's metadata fails only the operations that need it.
    #[test]
    fn an_unusable_advertised_endpoint_fails_only_its_operations() {
        let metadata = ServerMetadata::from_json(
            br#"{"issuer":"https://auth.example.com","token_endpoint":"https://auth.example.com/token",
                 "userinfo_endpoint":"http://auth.example.com/userinfo"}"#,
        )
        .unwrap();
        let server = AuthorizationServer::from_metadata(&metadata);
        let client = OAuth2Client::new(server, ClientAuth::new("id", "secret"), Scripted::answering([]));
        assert_eq!(kind_of(client.userinfo()), ConfigErrorKind::InvalidEndpoint);
        assert_eq!(
            client.client_credentials().unwrap().token_endpoint().as_str(),
            "https://auth.example.com/token"
        );
        assert!(!format!("{client:?}").contains("secret\""), "{client:?}");
    }
}

mod one_client_review {
    use super::*;
    use oauth2_kit::discovery::ServerMetadata;
    use oauth2_kit::{AuthorizationServer, ClientAuth, ConfigErrorKind, OAuth2Client};

    /// An unusable revocation or introspection endpoint in the metadata fails the operations
    /// that need it, not the grants, which do not.
    #[test]
    fn an_unusable_optional_endpoint_does_not_fail_the_grants() {
        let metadata = ServerMetadata::from_json(
            br#"{"issuer":"https://auth.example.com","token_endpoint":"https://auth.example.com/token",
                 "authorization_endpoint":"https://auth.example.com/authorize",
                 "revocation_endpoint":"http://auth.example.com/revoke",
                 "introspection_endpoint":"ftp://auth.example.com/introspect"}"#,
        )
        .unwrap();
        let client = OAuth2Client::new(
            AuthorizationServer::from_metadata(&metadata),
            ClientAuth::new("id", "secret"),
            Scripted::answering([]),
        );
        client.client_credentials().unwrap();
        client.password().unwrap();
        client
            .authorization_code(url::Url::parse("https://app.example.com/cb").unwrap())
            .unwrap()
            .build()
            .unwrap();
        let kind = |r: Result<_, Error>| r.map(|_: ()| ()).unwrap_err().config_kind();
        assert_eq!(kind(client.revocation().map(drop)), Some(ConfigErrorKind::InvalidEndpoint));
        assert_eq!(kind(client.introspection().map(drop)), Some(ConfigErrorKind::InvalidEndpoint));
    }

    #[test]
    fn a_refresh_refuses_the_parameters_it_sets_itself() {
        for name in ["grant_type", "refresh_token", "client_secret"] {
            let client = OAuth2Client::builder(
                AuthorizationServer::new().token(token_url()),
                ClientAuth::new("id", "secret"),
                Scripted::answering([]),
            )
            .extra_param(name, "x")
            .build()
            .unwrap();
            let err = client.refresh().unwrap_err();
            assert_eq!(err.config_kind(), Some(ConfigErrorKind::ReservedParameter), "{name}");
        }
    }

    /// `Debug` shows endpoints as `Endpoint` does: no user info, no query values.
    #[test]
    fn debug_shows_no_credentials_of_advertised_urls() {
        let metadata = ServerMetadata::from_json(
            br#"{"issuer":"https://auth.example.com",
                 "token_endpoint":"https://user:hunter2@auth.example.com/token?key=k3y",
                 "end_session_endpoint":"https://auth.example.com/logout?client_secret=s3cret"}"#,
        )
        .unwrap();
        let client = OAuth2Client::new(
            AuthorizationServer::from_metadata(&metadata),
            ClientAuth::new("id", "client-pw"),
            Scripted::answering([]),
        );
        let shown = format!("{client:?} {:?}", client.server());
        for secret in ["hunter2", "k3y", "s3cret", "client-pw"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("auth.example.com/token"), "{shown}");
    }
}

/// `private_key_jwt`: every request (token, introspection, revocation) carries a new assertion
/// for the token endpoint, signed by the client's key.
#[cfg(feature = "signing")]
mod private_key_jwt {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use oauth2_kit::signing::PrivateKey;

    use super::*;

    /// RFC 8037 A.1's Ed25519 key.
    const JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"key-1","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn form(request: &HttpRequest) -> Vec<(String, String)> {
        url::form_urlencoded::parse(request.body()).into_owned().collect()
    }

    fn part(jwt: &str, index: usize) -> serde_json::Value {
        let segment = jwt.split('.').nth(index).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    #[test]
    fn every_request_carries_a_new_assertion_for_the_token_endpoint() {
        let http = Scripted::answering([
            json(200, TOKEN),
            json(200, TOKEN),
            json(200, r#"{"active":true}"#),
            answer(200, "text/plain", ""),
        ]);
        let auth = ClientAuth::private_key_jwt("svc", PrivateKey::from_jwk(JWK).unwrap());
        let client = OAuth2Client::new(server(), auth, http.clone());
        let grant = client.client_credentials().unwrap();
        block_on(grant.request_token(None)).unwrap();
        block_on(grant.request_token(None)).unwrap();
        block_on(client.introspection().unwrap().introspect(&AccessToken::new("t"))).unwrap();
        block_on(client.revocation().unwrap().revoke(&AccessToken::new("t"))).unwrap();

        let requests = http.requests.lock().unwrap();
        let mut ids = std::collections::HashSet::new();
        for request in requests.iter() {
            assert!(request.headers().get("authorization").is_none());
            let form = form(request);
            let value = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
            assert_eq!(value("client_id"), "svc");
            assert_eq!(
                value("client_assertion_type"),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            );
            let assertion = value("client_assertion");
            assert_eq!(
                part(&assertion, 0),
                serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": "key-1"})
            );
            let claims = part(&assertion, 1);
            assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("svc"), Some("svc")));
            assert_eq!(
                claims["aud"], "https://auth.example.com/oauth2/token",
                "the token endpoint, for every endpoint"
            );
            assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 60);
            assert!(ids.insert(claims["jti"].as_str().unwrap().to_owned()), "a jti is never reused");
        }
        assert_eq!(ids.len(), 4);
    }

    /// Answers `invalid_client`, quoting the assertion it was sent.
    struct Echo;

    #[async_trait::async_trait]
    impl HttpClient for Echo {
        async fn send(&self, request: HttpRequest) -> Answer {
            let assertion = form(&request).into_iter().find(|(n, _)| n == "client_assertion").unwrap().1;
            let body = serde_json::json!({"error": "invalid_client", "error_description": format!("bad assertion {assertion}")});
            let mut response = http::Response::new(Bytes::from(body.to_string()));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert("content-type", "application/json".parse().unwrap());
            response.headers_mut().insert("x-assertion", assertion.parse().unwrap());
            Ok(response)
        }
    }

    #[test]
    fn an_assertion_echoed_back_never_appears_in_an_error() {
        let auth = ClientAuth::private_key_jwt("svc", PrivateKey::from_jwk(JWK).unwrap());
        let client = OAuth2Client::new(server(), auth.clone(), Echo);
        let error = block_on(client.client_credentials().unwrap().request_token(None)).unwrap_err();
        assert_eq!(error.oauth2().unwrap().response.error, ErrorCode::InvalidClient);
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("bad assertion"), "{shown}");
        // No signed segment of a JWS (the payload segment starts `eyJ`) is left in the text.
        assert!(!shown.contains(".eyJ"), "{shown}");
        assert!(!format!("{auth:?}").contains("nWGxne"));
    }
}
