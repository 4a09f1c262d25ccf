//! Discovery against the real authorization server (oidc-provider): the metadata it publishes,
//! checked against the issuer asked for, builds a working client-credentials client.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::{ClientCredentials, Issuer};

use common::{OidcProvider, adapters};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovered_endpoints_work() {
    let server = OidcProvider::get();
    let issuer: Issuer = server.issuer.parse().unwrap();
    for (name, http) in adapters() {
        let metadata = ServerMetadata::discover(&issuer, http.clone()).await.unwrap();
        assert_eq!(metadata.issuer, issuer, "{name}: the issuer as the server wrote it");
        assert_eq!(metadata.token_endpoint().unwrap(), server.url("/token"), "{name}");
        assert_eq!(metadata.introspection_endpoint().unwrap(), server.url("/token/introspection"), "{name}");
        assert_eq!(metadata.revocation_endpoint().unwrap(), server.url("/token/revocation"), "{name}");
        assert!(metadata.grant_types().contains(&"client_credentials"), "{name}");
        assert!(metadata.jwks_uri.is_some(), "{name}");

        let client =
            ClientCredentials::builder(metadata.token_endpoint().unwrap(), "kit-basic", "basic-secret", http)
                .introspection_endpoint(metadata.introspection_endpoint().unwrap())
                .build()
                .unwrap();
        let token = client.request_token(Some(&"read".parse().unwrap())).await.unwrap();
        assert!(client.introspect(token.access_token()).await.unwrap().active, "{name}");
    }
}
