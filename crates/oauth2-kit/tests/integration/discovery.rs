//! Discovery over an in-process HTTP client: which URLs are asked, the fallback from the OpenID
//! configuration to RFC 8414 on a 404, and the issuer check.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_lite::future::block_on;
use http::StatusCode;
use oauth2_kit::Error;
use oauth2_kit::discovery::{MetadataKind, ServerMetadata};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};

/// Serves `document` at `path`, 404 elsewhere; records the URIs asked for.
struct Documents {
    path: &'static str,
    document: String,
    asked: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl HttpClient for Documents {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        assert_eq!(request.method(), http::Method::GET);
        assert_eq!(request.headers()["accept"], "application/json");
        self.asked.lock().unwrap().push(request.uri().to_string());
        let mut response = http::Response::new(Bytes::from(self.document.clone()));
        if request.uri().path() != self.path {
            *response.status_mut() = StatusCode::NOT_FOUND;
            *response.body_mut() = Bytes::from_static(b"<html>not found</html>");
        }
        Ok(response)
    }
}

fn documents(path: &'static str, issuer: &str) -> Arc<Documents> {
    let document = format!(r#"{{"issuer":"{issuer}","token_endpoint":"{issuer}/token"}}"#);
    Arc::new(Documents { path, document, asked: Mutex::default() })
}

#[test]
fn openid_configuration_first() {
    let issuer = "https://auth.example.com/realms/demo";
    let http = documents("/realms/demo/.well-known/openid-configuration", issuer);
    let metadata = block_on(ServerMetadata::discover(&issuer.parse().unwrap(), http.clone())).unwrap();
    assert_eq!(metadata.token_endpoint.unwrap().as_str(), "https://auth.example.com/realms/demo/token");
    assert_eq!(http.asked.lock().unwrap().len(), 1);
}

#[test]
fn rfc8414_when_there_is_no_openid_configuration() {
    let issuer = "https://auth.example.com/tenant";
    let http = documents("/.well-known/oauth-authorization-server/tenant", issuer);
    let metadata = block_on(ServerMetadata::discover(&issuer.parse().unwrap(), http.clone())).unwrap();
    assert_eq!(metadata.issuer.as_str(), issuer);
    assert_eq!(
        *http.asked.lock().unwrap(),
        [
            "https://auth.example.com/tenant/.well-known/openid-configuration",
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant"
        ]
    );
}

#[test]
fn a_document_for_another_issuer_is_refused() {
    let http = documents("/.well-known/openid-configuration", "https://evil.example.com");
    let err =
        block_on(ServerMetadata::discover(&"https://auth.example.com".parse().unwrap(), http)).unwrap_err();
    assert!(matches!(&err, Error::Decode { field: Some("issuer"), .. }), "{err}");
    assert!(err.to_string().contains("evil.example.com"), "{err}");
}

#[test]
fn issuers_are_compared_exactly() {
    // A trailing slash is a different issuer, in both directions (RFC 8414 §3.3).
    for (asked, sent, path) in [
        ("https://auth.example.com", "https://auth.example.com/", ""),
        ("https://auth.example.com/", "https://auth.example.com", ""),
        ("https://auth.example.com/tenant", "https://auth.example.com/tenant/", "/tenant"),
        ("https://auth.example.com", "https://AUTH.example.com", ""),
    ] {
        let http = documents(format!("{path}/.well-known/openid-configuration").leak(), sent);
        let err = block_on(ServerMetadata::discover(&asked.parse().unwrap(), http)).unwrap_err();
        assert!(matches!(&err, Error::Decode { field: Some("issuer"), .. }), "{asked} / {sent}: {err}");
    }
    // The document's issuer is kept as written.
    let http = documents("/.well-known/openid-configuration", "https://auth.example.com/");
    let metadata =
        block_on(ServerMetadata::discover(&"https://auth.example.com/".parse().unwrap(), http)).unwrap();
    assert_eq!(metadata.issuer.as_str(), "https://auth.example.com/");
}

#[test]
fn no_document_is_an_unexpected_status() {
    let http = documents("/nowhere", "https://auth.example.com");
    let kind = MetadataKind::OAuthAuthorizationServer;
    let err = block_on(ServerMetadata::fetch(&"https://auth.example.com".parse().unwrap(), kind, http))
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
}
