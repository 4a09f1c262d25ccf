//! Discovery against the real authorization server (oidc-provider): the metadata it publishes,
//! checked against the issuer asked for, builds a working client-credentials client.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::{AuthorizationServer, ClientAuth, EndpointKind, Issuer, OAuth2Client};

use oauth2_kit_test_support::{OidcProvider, adapters};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovered_endpoints_work() {
    let server = OidcProvider::get();
    let issuer: Issuer = server.issuer.parse().unwrap();
    for (name, http) in adapters() {
        let metadata = ServerMetadata::discover(&issuer, http.clone()).await.unwrap();
        assert_eq!(metadata.issuer, issuer, "{name}: the issuer as the server wrote it");
        let endpoints = AuthorizationServer::from_metadata(&metadata);
        let at = |kind| endpoints.endpoint(kind).unwrap();
        assert_eq!(at(EndpointKind::Token), server.url("/token"), "{name}");
        assert_eq!(at(EndpointKind::Introspection), server.url("/token/introspection"), "{name}");
        assert_eq!(at(EndpointKind::Revocation), server.url("/token/revocation"), "{name}");
        assert!(metadata.grant_types().contains(&"client_credentials"), "{name}");
        assert!(metadata.jwks_uri.is_some(), "{name}");

        let client = OAuth2Client::new(endpoints, ClientAuth::new("kit-basic", "basic-secret"), http);
        let token =
            client.client_credentials().unwrap().request_token(Some(&"read".parse().unwrap())).await.unwrap();
        let introspection = client.introspection().unwrap();
        assert!(introspection.introspect(token.access_token()).await.unwrap().active, "{name}");
    }
}
