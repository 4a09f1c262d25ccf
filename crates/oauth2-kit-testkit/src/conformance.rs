//! The conformance suite of the [`HttpClient`] contract.
//!
//! Every adapter runs the same checks over real loopback sockets, against small HTTP servers
//! that misbehave on purpose: methods, headers and bodies travel unchanged; every status comes
//! back as a response; redirects are not followed; bodies over the [`BodyLimit`] fail without
//! being buffered; a stalled server times out; a refused connection, a connection closed
//! mid-body or before any answer and a non-HTTP answer are classified.
//!
//! An adapter crate runs the whole suite with one macro call in a test file, giving a function
//! that builds the client under test with the given overall timeout:
//!
//! ```no_run
//! # use std::time::Duration;
//! # struct MyClient;
//! # #[oauth2_kit::async_trait]
//! # impl oauth2_kit::http::HttpClient for MyClient {
//! #     async fn send(&self, _: oauth2_kit::http::HttpRequest)
//! #         -> Result<oauth2_kit::http::HttpResponse, oauth2_kit::http::TransportError> {
//! #         Err(oauth2_kit::http::TransportError::new(oauth2_kit::http::TransportErrorKind::Other))
//! #     }
//! # }
//! # impl MyClient { fn with_timeout(_: Duration) -> Self { MyClient } }
//! oauth2_kit_testkit::http_client_conformance!(|timeout| MyClient::with_timeout(timeout));
//! # fn main() {}
//! ```
//!
//! Each check is also a public async function, for adapters that want to pick.

// A test suite: failures are reported by assertions.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use oauth2_kit::http::{
    BodyLimit, HttpClient, HttpRequest, HttpResponse, TransportError, TransportErrorKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::background::Background;

/// The overall timeout the suite gives the client under test.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

/// A request as a conformance server received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Headers, names lower-cased, values in order.
    pub headers: BTreeMap<String, Vec<String>>,
    /// The body.
    pub body: Vec<u8>,
}

/// Reads one HTTP/1.1 request (head, then a `Content-Length` body).
async fn read_request(stream: &mut TcpStream) -> io::Result<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::other("request head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before the head ended"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.entry(name.trim().to_ascii_lowercase()).or_default().push(value.trim().to_owned());
        }
    }
    let length: usize =
        headers.get("content-length").and_then(|v| v.first()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Received { method, target, headers, body })
}

/// A server that handles each connection with `handle`, on its own thread.
fn serve<F, Fut>(handle: F) -> Background
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handle = Arc::new(handle);
    Background::start("conformance", move |listener: TcpListener| async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handle = handle.clone();
            tokio::spawn(async move { handle(stream).await });
        }
    })
    .expect("start a conformance server")
}

/// A server that reads each request and answers with `response` (raw bytes).
fn answering(response: Vec<u8>) -> Background {
    let response = Arc::new(response);
    serve(move |mut stream| {
        let response = response.clone();
        async move {
            if read_request(&mut stream).await.is_ok() {
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
            }
        }
    })
}

fn url(addr: SocketAddr, target: &str) -> String {
    format!("http://{addr}{target}")
}

fn request(method: Method, uri: &str, body: impl Into<Bytes>) -> HttpRequest {
    let mut request = http::Request::new(body.into());
    *request.method_mut() = method;
    *request.uri_mut() = uri.parse().expect("a valid URI");
    request
}

fn expect_error(result: Result<HttpResponse, TransportError>, what: &str) -> TransportError {
    match result {
        Ok(response) => panic!("{what}: expected an error, got HTTP {}", response.status()),
        Err(error) => error,
    }
}

/// `POST /token` to `addr`, which must fail; the error.
async fn post_failure<C: HttpClient>(client: &C, addr: SocketAddr, what: &str) -> TransportError {
    expect_error(client.send(request(Method::POST, &url(addr, "/token"), "a=b")).await, what)
}

/// Method, target, headers (several values of one name included) and a binary body travel
/// unchanged, and so do the response's status, headers and body.
pub async fn round_trip<C: HttpClient>(client: &C) {
    let (tx, rx) = std::sync::mpsc::channel::<Received>();
    let tx = Arc::new(std::sync::Mutex::new(tx));
    let server = serve(move |mut stream| {
        let tx = tx.clone();
        async move {
            let Ok(received) = read_request(&mut stream).await else { return };
            let _ = tx.lock().map(|tx| tx.send(received));
            let body = b"{\"ok\":true}\xff";
            let head = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nx-multi: one\r\nx-multi: two\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body).await;
        }
    });
    let body: &[u8] = b"grant_type=client_credentials&scope=a+b&bin=\x00\xff";
    let mut req =
        request(Method::POST, &url(server.addr(), "/oauth2/token?x=1&y=%20"), Bytes::from_static(body));
    let headers = req.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
    headers.insert("accept", HeaderValue::from_static("application/json"));
    let mut auth = HeaderValue::from_static("Basic dGVzdDp0ZXN0");
    auth.set_sensitive(true);
    headers.insert("authorization", auth);
    headers.append("x-repeated", HeaderValue::from_static("first"));
    headers.append("x-repeated", HeaderValue::from_static("second"));

    let response = client.send(req).await.expect("round trip");
    assert_eq!(response.status(), StatusCode::CREATED);
    let multi: Vec<_> = response.headers().get_all("x-multi").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(multi, ["one", "two"], "repeated response headers are kept in order");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(&response.body()[..], b"{\"ok\":true}\xff");

    let received = rx.recv_timeout(Duration::from_secs(5)).expect("the server saw the request");
    assert_eq!(received.method, "POST");
    assert_eq!(received.target, "/oauth2/token?x=1&y=%20");
    assert_eq!(received.body, body);
    assert_eq!(received.headers["content-type"], ["application/x-www-form-urlencoded"]);
    assert_eq!(received.headers["accept"], ["application/json"]);
    assert_eq!(received.headers["authorization"], ["Basic dGVzdDp0ZXN0"]);
    let repeated: Vec<String> = received.headers["x-repeated"]
        .iter()
        .flat_map(|v| v.split(',').map(|p| p.trim().to_owned()))
        .collect();
    assert_eq!(repeated, ["first", "second"]);
    assert_eq!(received.headers["content-length"], [body.len().to_string()]);
}

/// A `GET` without a body arrives as a `GET` with no body.
pub async fn get_without_body<C: HttpClient>(client: &C) {
    let (tx, rx) = std::sync::mpsc::channel::<Received>();
    let tx = Arc::new(std::sync::Mutex::new(tx));
    let server = serve(move |mut stream| {
        let tx = tx.clone();
        async move {
            let Ok(received) = read_request(&mut stream).await else { return };
            let _ = tx.lock().map(|tx| tx.send(received));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi")
                .await;
        }
    });
    let response = client.send(request(Method::GET, &url(server.addr(), "/resource"), Bytes::new())).await;
    let response = response.expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(&response.body()[..], b"hi");
    let received = rx.recv_timeout(Duration::from_secs(5)).expect("the server saw the request");
    assert_eq!(received.method, "GET");
    assert!(received.body.is_empty());
    assert!(!received.headers.contains_key("transfer-encoding"));
}

/// Error statuses are responses, not errors, with their headers and bodies.
pub async fn statuses_are_responses<C: HttpClient>(client: &C) {
    for status in [200u16, 201, 204, 400, 401, 403, 404, 429, 500, 502, 503] {
        let body = if status == 204 { String::new() } else { format!("status {status}") };
        let server = answering(
            format!(
                "HTTP/1.1 {status} X\r\nretry-after: 3\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        );
        let response = client
            .send(request(Method::POST, &url(server.addr(), "/token"), "a=b"))
            .await
            .unwrap_or_else(|e| panic!("HTTP {status} must be a response, got error {e}"));
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["retry-after"], "3", "HTTP {status}");
        assert_eq!(&response.body()[..], body.as_bytes(), "HTTP {status}");
    }
}

/// A redirect is returned as is: the target is never contacted. Adapters also run this check on
/// a client built from a user's builder that asked for redirects.
pub async fn redirects_are_not_followed<C: HttpClient>(client: &C) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let elsewhere = serve(move |mut stream| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let _ = read_request(&mut stream).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nstolen").await;
        }
    });
    for status in [301u16, 302, 303, 307, 308] {
        let server = answering(
            format!(
                "HTTP/1.1 {status} Moved\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                url(elsewhere.addr(), "/stolen")
            )
            .into_bytes(),
        );
        let response = client
            .send(request(Method::POST, &url(server.addr(), "/token"), "client_secret=s"))
            .await
            .expect("a redirect is a response");
        assert_eq!(response.status().as_u16(), status);
        assert!(response.headers().contains_key("location"));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a redirect target was contacted");
}

fn oversized(limit: usize, chunked: bool) -> Background {
    let body = vec![b'x'; limit * 2];
    let response = if chunked {
        let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
        for piece in body.chunks(1000) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    } else {
        let mut out =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len())
                .into_bytes();
        out.extend_from_slice(&body);
        out
    };
    answering(response)
}

/// A body over the request's [`BodyLimit`] fails with `BodyTooLarge`, with or without a
/// `Content-Length`.
pub async fn body_over_limit<C: HttpClient>(client: &C) {
    for chunked in [false, true] {
        let server = oversized(10_000, chunked);
        let mut req = request(Method::POST, &url(server.addr(), "/token"), "a=b");
        req.extensions_mut().insert(BodyLimit(10_000));
        let error = expect_error(client.send(req).await, "oversized body");
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge { limit: 10_000 }, "chunked: {chunked}");
        assert!(!error.is_retryable());
    }
}

/// Without a [`BodyLimit`] in the request, the limit is 1 MiB.
pub async fn default_body_limit<C: HttpClient>(client: &C) {
    let limit = BodyLimit::DEFAULT.0;
    let server = oversized(limit, true);
    let error = post_failure(client, server.addr(), "a body over 1 MiB").await;
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge { limit });
}

/// A body exactly at the limit is read whole.
pub async fn body_at_limit<C: HttpClient>(client: &C) {
    let body = vec![b'y'; 4096];
    let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 4096\r\nconnection: close\r\n\r\n".to_vec();
    response.extend_from_slice(&body);
    let server = answering(response);
    let mut req = request(Method::POST, &url(server.addr(), "/token"), "a=b");
    req.extensions_mut().insert(BodyLimit(4096));
    let response = client.send(req).await.expect("a body at the limit");
    assert_eq!(response.body().len(), 4096);
}

/// A server that accepts the request and never answers: `Timeout`, retryable.
pub async fn stalled_server_times_out<C: HttpClient>(client: &C) {
    let server = serve(|mut stream| async move {
        let _ = read_request(&mut stream).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let error = post_failure(client, server.addr(), "a stalled server").await;
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(error.is_retryable());
}

/// A server that sends the head and then trickles the body past the timeout: `Timeout`.
pub async fn trickling_body_times_out<C: HttpClient>(client: &C) {
    let server = serve(|mut stream| async move {
        let _ = read_request(&mut stream).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n").await;
        for _ in 0..1000 {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let error = post_failure(client, server.addr(), "a trickling body").await;
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
}

/// Nothing listens on the port: `Connect`, retryable, with the cause as source.
pub async fn connection_refused<C: HttpClient>(client: &C) {
    let addr = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        listener.local_addr().expect("address")
    };
    let error = post_failure(client, addr, "a closed port").await;
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
    assert!(error.is_retryable());
    assert!(std::error::Error::source(&error).is_some(), "the cause is kept");
}

/// The connection closes before the declared body ends: `Other`, retryable.
pub async fn closed_mid_body<C: HttpClient>(client: &C) {
    let server = answering(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789".to_vec());
    let error = post_failure(client, server.addr(), "a truncated body").await;
    assert_eq!(error.kind(), TransportErrorKind::Other, "{error}");
    assert!(error.is_retryable());
}

/// The server reads the request and closes the connection without a word (a crashed or
/// restarting upstream): `Other`, retryable, like a connection closed mid-body.
pub async fn closed_without_answer<C: HttpClient>(client: &C) {
    let server = answering(Vec::new());
    let error = post_failure(client, server.addr(), "no answer").await;
    assert_eq!(error.kind(), TransportErrorKind::Other, "{error}");
    assert!(error.is_retryable(), "{error}");
}

/// The server answers something that is not HTTP: `Protocol`, not retryable (the same server
/// will say the same again).
pub async fn garbage_answer<C: HttpClient>(client: &C) {
    let server = answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec());
    let error = post_failure(client, server.addr(), "a non-HTTP answer").await;
    assert_protocol_error(&error, "a non-HTTP answer");
}

/// A status line that is not one (`HTTP/1.1 2x0 OK`): `Protocol`, not retryable.
pub async fn garbage_status_line<C: HttpClient>(client: &C) {
    let server = answering(b"HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec());
    let error = post_failure(client, server.addr(), "a garbage status line").await;
    assert_protocol_error(&error, "a garbage status line");
}

/// `Content-Length: -1`: `Protocol`, not retryable.
pub async fn negative_content_length<C: HttpClient>(client: &C) {
    let server = answering(b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n{}".to_vec());
    let error = post_failure(client, server.addr(), "Content-Length: -1").await;
    assert_protocol_error(&error, "Content-Length: -1");
}

/// A header block of 1 MiB (far past every client's limit): the message says a header block
/// may be too large; `Protocol`, not retryable, when the client can tell it from a connection
/// that broke while the headers arrived. (libcurl reports both as one receive error and isahc
/// drops the detail, so the isahc adapter cannot: it says `Other`, retryable, naming both
/// causes; retries are bounded.)
pub async fn header_block_too_large<C: HttpClient>(client: &C) {
    let mut response = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..1024 {
        response.extend_from_slice(format!("x-filler-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    response.extend_from_slice(b"content-length: 2\r\n\r\n{}");
    let server = answering(response);
    let error = post_failure(client, server.addr(), "a 1 MiB header block").await;
    assert!(error.to_string().contains("header block"), "says what may be too large: {error}");
    match error.kind() {
        TransportErrorKind::Protocol => assert!(!error.is_retryable(), "{error}"),
        TransportErrorKind::Other => assert!(error.is_retryable(), "{error}"),
        other => panic!("a 1 MiB header block: unexpected kind {other:?}: {error}"),
    }
}

fn assert_protocol_error(error: &TransportError, what: &str) {
    assert_eq!(error.kind(), TransportErrorKind::Protocol, "{what}: {error}: {error:?}");
    assert!(!error.is_retryable(), "{what}: the same server will answer the same: {error}");
}

/// An `https` URL whose server does not speak TLS: `Tls`, not retryable.
pub async fn tls_handshake_failure<C: HttpClient>(client: &C) {
    let server = serve(|mut stream| async move {
        let mut hello = [0u8; 512];
        let _ = stream.read(&mut hello).await;
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
        let _ = stream.shutdown().await;
    });
    let uri = format!("https://{}/token", server.addr());
    let error = expect_error(client.send(request(Method::POST, &uri, "a=b")).await, "a server without TLS");
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}: {error:?}");
    assert!(!error.is_retryable());
}

/// Runs every check of the suite as its own test. The argument is a closure (or function) that
/// takes the overall timeout ([`TIMEOUT`]) and returns the client under test. Needs `tokio`
/// (with `macros` and `rt`) as a dev-dependency.
#[macro_export]
macro_rules! http_client_conformance {
    ($make:expr) => {
        mod http_client_conformance {
            use super::*;

            // Builds the client under test; a failure to build is a test failure.
            #[allow(clippy::redundant_closure_call, clippy::expect_used, clippy::unwrap_used)]
            fn client() -> impl ::oauth2_kit::http::HttpClient {
                ($make)($crate::conformance::TIMEOUT)
            }

            $crate::http_client_conformance!(@tests client;
                round_trip, get_without_body, statuses_are_responses, redirects_are_not_followed,
                body_over_limit, default_body_limit, body_at_limit, stalled_server_times_out,
                trickling_body_times_out, connection_refused, closed_mid_body, closed_without_answer,
                garbage_answer, garbage_status_line, negative_content_length, header_block_too_large,
                tls_handshake_failure);
        }
    };
    (@tests $client:ident; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                $crate::conformance::$check(&$client()).await;
            }
        )*
    };
}
