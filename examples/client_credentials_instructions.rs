//! A measurement harness for `docs/performance.md`: N client-credentials token requests over an
//! HTTP client that answers a canned token response without I/O, so that an instruction counter
//! sees the library's own work per request without the noise of a shared machine.
//!
//! ```text
//! cargo build --release --example client_credentials_instructions
//! for n in 1000 11000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cc-$n.out \
//!     target/release/examples/client_credentials_instructions $n 2>&1 | grep Collected
//! done
//! ```
//! (instructions per request = difference of the two totals / 10,000).

// A measurement tool: it fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client, Scope};

/// Answers every request with the same response, without I/O.
struct Canned(HttpResponse);

#[oauth2_kit::async_trait]
impl HttpClient for Canned {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        std::hint::black_box(request);
        Ok(self.0.clone())
    }
}

fn main() {
    let requests: usize =
        std::env::args().nth(1).map_or(100_000, |n| n.parse().expect("a number of requests"));
    let answer = http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Bytes::from_static(
            br#"{"access_token":"mF_9.B5f-4.1JqM","token_type":"Bearer","expires_in":3600,"scope":"read write"}"#,
        ))
        .unwrap();
    let scope: Scope = "read write".parse().unwrap();
    let server = AuthorizationServer::new().token("https://auth.example.com/oauth2/token".parse().unwrap());
    let client = OAuth2Client::new(server, ClientAuth::new("client", "secret-value-123"), Canned(answer))
        .client_credentials()
        .unwrap();
    for _ in 0..requests {
        let token = futures_lite::future::block_on(client.request_token(Some(&scope))).unwrap();
        std::hint::black_box(token);
    }
}
