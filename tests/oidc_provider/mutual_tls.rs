//! Mutual TLS (RFC 8705) against oidc-provider behind a TLS listener that asks for client
//! certificates (made at test time), through both adapters: `tls_client_auth` and
//! `self_signed_tls_client_auth` at the server's `mtls_endpoint_aliases`, certificate-bound
//! access tokens whose `cnf` names the certificate, a certificate of the wrong subject refused,
//! and mutual-TLS authentication without a certificate refused before anything is sent.

use std::sync::Arc;

use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::http::HttpClient;
use oauth2_kit::{AuthorizationServer, ClientAuth, ConfigErrorKind, EndpointKind, ErrorCode, OAuth2Client};
use oauth2_kit_test_support::pki::TestPki;
use oauth2_kit_test_support::{OidcProvider, adapters, adapters_with_certificate, expect_oauth2_error};

async fn discovered(server: &OidcProvider, http: Arc<dyn HttpClient>) -> ServerMetadata {
    let issuer: oauth2_kit::Issuer = server.issuer.parse().unwrap();
    ServerMetadata::discover(&issuer, http).await.unwrap()
}

#[tokio::test]
async fn certificates_authenticate_clients_and_bind_their_tokens() {
    let pki = TestPki::new();
    let server = OidcProvider::own_with_tls(&pki);
    let plain = adapters().remove(0).1;
    let metadata = discovered(&server, plain.clone()).await;
    let aliases = metadata.mtls_endpoint_aliases.clone().expect("the server names its mutual-TLS endpoints");
    let alias = aliases.token_endpoint.unwrap();
    assert_eq!(alias.scheme(), "https");
    for (identity, auth) in [
        (&pki.client, ClientAuth::tls_client_auth("kit-mtls-pki")),
        (&pki.self_signed, ClientAuth::self_signed_tls_client_auth("kit-mtls-self")),
    ] {
        for (adapter, http) in adapters_with_certificate(identity, &pki.server_ca) {
            assert!(http.presents_certificate(), "{adapter}");
            let client =
                OAuth2Client::new(AuthorizationServer::from_metadata(&metadata), auth.clone(), http.clone());
            let tokens = client.client_credentials().unwrap();
            assert_eq!(tokens.token_endpoint().url(), &alias, "{adapter}: the alias is used");
            let token = tokens.request_token(Some(&"read".parse().unwrap())).await;
            let token = token.unwrap_or_else(|e| panic!("{adapter} {}: {e:?}", auth.method()));
            let info = client.introspection().unwrap().introspect(token.access_token()).await.expect(adapter);
            assert!(info.active, "{adapter}");
            let cnf = info.confirmation().expect("a certificate-bound token");
            assert!(cnf.is_bound_to_certificate(identity), "{adapter}: {cnf:?}");
            assert_eq!(cnf.x5t_s256, identity.thumbprint(), "{adapter}");
        }
    }
}

#[tokio::test]
async fn a_wrong_certificate_or_none_gets_no_token() {
    let pki = TestPki::new();
    let server = OidcProvider::own_with_tls(&pki);
    let plain = adapters().remove(0).1;
    let metadata = discovered(&server, plain.clone()).await;
    let server_of = || AuthorizationServer::from_metadata(&metadata);
    for (adapter, http) in adapters_with_certificate(&pki.stranger, &pki.server_ca) {
        let client = OAuth2Client::new(server_of(), ClientAuth::tls_client_auth("kit-mtls-pki"), http);
        let refused = client.client_credentials().unwrap().request_token(None).await;
        assert_eq!(
            expect_oauth2_error(refused, adapter).response.error,
            ErrorCode::InvalidClient,
            "{adapter}"
        );
    }
    // The self-signed client's registered certificate is not this one either.
    for (adapter, http) in adapters_with_certificate(&pki.client, &pki.server_ca) {
        let client =
            OAuth2Client::new(server_of(), ClientAuth::self_signed_tls_client_auth("kit-mtls-self"), http);
        let refused = client.client_credentials().unwrap().request_token(None).await;
        assert_eq!(
            expect_oauth2_error(refused, adapter).response.error,
            ErrorCode::InvalidClient,
            "{adapter}"
        );
    }
    // Without a certificate: refused when the operation is obtained, and the plain endpoint kept.
    let client = OAuth2Client::new(server_of(), ClientAuth::tls_client_auth("kit-mtls-pki"), plain.clone());
    let error = client.client_credentials().unwrap_err();
    assert_eq!(error.config_kind(), Some(ConfigErrorKind::InvalidSetting), "{error:?}");
    let basic = OAuth2Client::new(server_of(), ClientAuth::new("kit-basic", "basic-secret"), plain);
    assert_eq!(
        basic.client_credentials().unwrap().token_endpoint(),
        &server_of().endpoint(EndpointKind::Token).unwrap(),
        "no certificate, no alias"
    );
}
