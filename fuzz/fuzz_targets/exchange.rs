//! A whole token request answered by arbitrary bytes (first byte: status, second: content type):
//! the classification (OAuth 2.0 error, status, decode), the error excerpts and `Display` never
//! panic, and an error never repeats a token-looking value of the body.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{AuthorizationServer, ClientAuth, Endpoint, OAuth2Client};

struct Answer(u16, &'static str, Bytes);

#[async_trait::async_trait]
impl HttpClient for Answer {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = http::Response::new(self.2.clone());
        *response.status_mut() = http::StatusCode::from_u16(self.0).unwrap_or(http::StatusCode::OK);
        response.headers_mut().insert("content-type", http::HeaderValue::from_static(self.1));
        response.headers_mut().insert("retry-after", http::HeaderValue::from_static("3"));
        Ok(response)
    }
}

const STATUSES: [u16; 8] = [200, 201, 400, 401, 403, 429, 500, 503];
const TYPES: [&str; 3] = ["application/json", "text/html", "application/x-www-form-urlencoded"];

fuzz_target!(|data: &[u8]| {
    let [status, kind, body @ ..] = data else { return };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let kind = TYPES[usize::from(*kind) % TYPES.len()];
    let Some(shown) = error_text(status, kind, body) else { return };
    assert!(!shown.contains("client-secret"));
    // A body's access_token value is never echoed (the excerpt removes it): if the error shows
    // it, the same body with that value replaced by `Z`s (same length, same characters class,
    // so the same decoding path) must show it too, from another member holding the same text.
    let Ok(text) = std::str::from_utf8(body) else { return };
    let Some(start) = text.find("\"access_token\":\"").map(|at| at + 16) else { return };
    let value: String = text[start..].chars().take_while(|c| *c != '"').collect();
    if value.len() >= 8 && value.chars().all(|c| c.is_ascii_alphanumeric()) && shown.contains(&value) {
        let mut changed = body.to_vec();
        changed[start..start + value.len()].fill(b'Z');
        if let Some(other) = error_text(status, kind, &changed) {
            assert!(other.contains(&value), "an error repeats the access token");
        }
    }
});

/// The error's `Display` and `Debug` for one answer, if the request fails.
fn error_text(status: u16, kind: &'static str, body: &[u8]) -> Option<String> {
    let endpoint: Endpoint = "https://as.example/token".parse().unwrap();
    let server = AuthorizationServer::new().token(endpoint);
    let answer = Answer(status, kind, Bytes::copy_from_slice(body));
    let client = OAuth2Client::new(server, ClientAuth::new("client", "client-secret"), answer)
        .client_credentials()
        .expect("a token endpoint");
    let error = futures_lite::future::block_on(client.request_token(None)).err()?;
    let _ = (error.status(), error.is_retryable(), error.retry_after());
    Some(format!("{error} {error:?}"))
}
