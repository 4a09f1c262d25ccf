//! A whole token request answered by arbitrary bytes (first byte: status, second: content type):
//! the classification (OAuth 2.0 error, status, decode), the error excerpts and `Display` never
//! panic, and an error never repeats a token-looking value of the body.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::{ClientCredentials, Endpoint};

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
    let endpoint: Endpoint = "https://as.example/token".parse().unwrap();
    let client = ClientCredentials::new(endpoint, "client", "client-secret", Answer(status, kind, Bytes::copy_from_slice(body)));
    if let Err(error) = futures_lite::future::block_on(client.request_token(None)) {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("client-secret"));
        // A body's access_token value is never echoed (the excerpt removes it).
        if let Ok(serde) = std::str::from_utf8(body) {
            if let Some(start) = serde.find("\"access_token\":\"") {
                let value: String = serde[start + 16..].chars().take_while(|c| *c != '"').collect();
                // Only a value found once in the body: another member may hold the same text.
                if value.len() >= 12 && value.chars().all(|c| c.is_ascii_alphanumeric()) && serde.matches(value.as_str()).count() == 1 {
                    assert!(!shown.contains(&value), "an error repeats the access token");
                }
            }
        }
        let _ = (error.status(), error.is_retryable(), error.retry_after());
    }
});
