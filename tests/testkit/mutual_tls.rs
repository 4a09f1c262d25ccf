//! Mutual TLS (RFC 8705) against the testkit's TLS listener, through both adapters:
//! `tls_client_auth` with a certificate the server issued, `self_signed_tls_client_auth` with a
//! registered self-signed one, at the `mtls_endpoint_aliases`; certificate-bound tokens taken by
//! the resource only over a connection that presents the certificate; a wrong certificate
//! refused.

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::http::HttpClient as _;
use oauth2_kit::{AuthorizationServer, ClientAuth, ErrorCode, OAuth2Client};
use oauth2_kit_test_support::{adapters, adapters_with_certificate, expect_oauth2_error};
use oauth2_kit_testkit::{Route, TestClient, TestServer, self_signed_client_certificate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_authenticate_and_bind_tokens_the_resource_checks() {
    let self_signed = self_signed_client_certificate("kit-self").unwrap();
    let server = TestServer::builder()
        .mutual_tls()
        .client(TestClient::tls_client_auth("payments", "payments-service"))
        .client(TestClient::self_signed_tls_client_auth("reports", &self_signed))
        .start()
        .unwrap();
    let issued = server.issue_client_certificate("payments-service").unwrap();
    let root = server.tls_root_certificate().unwrap();
    let mtls = server.mtls_url().unwrap();
    let plain = adapters().remove(0).1;
    let metadata = ServerMetadata::discover(&server.issuer(), plain.clone()).await.unwrap();
    assert!(metadata.tls_client_certificate_bound_access_tokens);
    let methods = metadata.token_endpoint_auth_methods();
    assert!(methods.contains(&"tls_client_auth") && methods.contains(&"self_signed_tls_client_auth"));

    for (identity, auth) in [
        (&issued, ClientAuth::tls_client_auth("payments")),
        (&self_signed, ClientAuth::self_signed_tls_client_auth("reports")),
    ] {
        for (adapter, http) in adapters_with_certificate(identity, &root) {
            server.reset_counts();
            let misused = server.misused_bound_tokens();
            let client =
                OAuth2Client::new(AuthorizationServer::from_metadata(&metadata), auth.clone(), http.clone());
            let tokens = client.client_credentials().unwrap();
            assert_eq!(tokens.token_endpoint().url().origin(), mtls.origin(), "{adapter}: the alias");
            let token = tokens.request_token(None).await.unwrap_or_else(|e| panic!("{adapter}: {e:?}"));
            let info = client.introspection().unwrap().introspect(token.access_token()).await.unwrap();
            let cnf = info.confirmation().expect("a certificate-bound token");
            assert!(cnf.is_bound_to_certificate(identity), "{adapter}: {cnf:?}");

            // Over a connection with the certificate, the resource takes it; without, not.
            let resource = mtls.join("resource").unwrap();
            let get = || http::Request::get(resource.as_str()).body(Bytes::new()).unwrap();
            let fixed = oauth2_kit_cache_tokio::caching(tokens.clone());
            let api = BearerClient::new(http.clone(), BearerAuth::new(fixed.clone(), None));
            assert_eq!(api.execute(get()).await.unwrap().status(), StatusCode::OK, "{adapter}");
            assert_eq!(server.misused_bound_tokens(), misused, "{adapter}");
            let without = BearerClient::new(
                plain.clone(),
                BearerAuth::builder(fixed).retry_unauthorized(false).build(),
            );
            let plain_resource =
                http::Request::get(server.resource_url().as_str()).body(Bytes::new()).unwrap();
            assert_eq!(
                without.execute(plain_resource).await.unwrap().status(),
                StatusCode::UNAUTHORIZED,
                "{adapter}"
            );
            assert_eq!(server.misused_bound_tokens(), misused + 1, "{adapter}");
            // The grant's own token, and the one the bearer client's cache fetched.
            assert_eq!(server.requests(Route::Token), 2, "{adapter}");
            // Over the TLS listener with another certificate: refused and counted too.
            let stranger = server.issue_client_certificate("someone-else").unwrap();
            let (_, other_http) = adapters_with_certificate(&stranger, &root).remove(0);
            let other = BearerClient::new(
                other_http,
                BearerAuth::builder(oauth2_kit_cache_tokio::caching(tokens.clone()))
                    .retry_unauthorized(false)
                    .build(),
            );
            assert_eq!(other.execute(get()).await.unwrap().status(), StatusCode::UNAUTHORIZED, "{adapter}");
            assert_eq!(server.misused_bound_tokens(), misused + 2, "{adapter}");
            server.revoke_all_tokens();
        }
    }
}

#[tokio::test]
async fn a_certificate_of_another_subject_or_none_registered_gets_nothing() {
    let server = TestServer::builder()
        .mutual_tls()
        .client(TestClient::tls_client_auth("payments", "payments-service"))
        .client(TestClient::self_signed_tls_client_auth(
            "reports",
            &self_signed_client_certificate("kit-self").unwrap(),
        ))
        .start()
        .unwrap();
    let stranger = server.issue_client_certificate("someone-else").unwrap();
    let unknown = self_signed_client_certificate("kit-unknown").unwrap();
    let root = server.tls_root_certificate().unwrap();
    let metadata = ServerMetadata::discover(&server.issuer(), adapters().remove(0).1).await.unwrap();
    // The control: each adapter presents the right certificate and is taken.
    let right = server.issue_client_certificate("payments-service").unwrap();
    for (adapter, http) in adapters_with_certificate(&right, &root) {
        let client = OAuth2Client::new(
            AuthorizationServer::from_metadata(&metadata),
            ClientAuth::tls_client_auth("payments"),
            http,
        );
        client
            .client_credentials()
            .unwrap()
            .request_token(None)
            .await
            .unwrap_or_else(|e| panic!("{adapter}: {e:?}"));
    }
    for (identity, auth) in [
        (&stranger, ClientAuth::tls_client_auth("payments")),
        (&unknown, ClientAuth::self_signed_tls_client_auth("reports")),
        (&unknown, ClientAuth::tls_client_auth("payments")),
    ] {
        for (adapter, http) in adapters_with_certificate(identity, &root) {
            let client = OAuth2Client::new(AuthorizationServer::from_metadata(&metadata), auth.clone(), http);
            let refused = client.client_credentials().unwrap().request_token(None).await;
            assert_eq!(
                expect_oauth2_error(refused, adapter).response.error,
                ErrorCode::InvalidClient,
                "{adapter}"
            );
        }
    }
    // A client that claims the right certificate in a header over plain HTTP gets nothing: the
    // header is the TLS listener's to set.
    let plain = adapters().remove(0).1;
    let mut forged = http::Request::post(server.token_endpoint().as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-testkit-peer-certificate", right.thumbprint().unwrap())
        .body(Bytes::from_static(b"grant_type=client_credentials&client_id=payments"))
        .unwrap();
    forged.headers_mut().insert("accept", "application/json".parse().unwrap());
    assert_eq!(plain.send(forged).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// DPoP and mutual TLS together (a FAPI setup): a token bound to both the key and the
/// certificate, proven at the TLS listener's own URLs.
#[tokio::test]
async fn dpop_over_the_mutual_tls_listener_binds_to_both() {
    let server = TestServer::builder()
        .mutual_tls()
        .client(TestClient::tls_client_auth("payments", "payments-service"))
        .dpop_nonce(true)
        .start()
        .unwrap();
    let certificate = server.issue_client_certificate("payments-service").unwrap();
    let root = server.tls_root_certificate().unwrap();
    let metadata = ServerMetadata::discover(&server.issuer(), adapters().remove(0).1).await.unwrap();
    for (adapter, http) in adapters_with_certificate(&certificate, &root) {
        let key = oauth2_kit::dpop::DpopKey::generate().unwrap();
        let client = OAuth2Client::builder(
            AuthorizationServer::from_metadata(&metadata),
            ClientAuth::tls_client_auth("payments"),
            http.clone(),
        )
        .dpop(key.clone())
        .build()
        .unwrap();
        let tokens = oauth2_kit_cache_tokio::caching(client.client_credentials().unwrap());
        let api = BearerClient::new(http.clone(), BearerAuth::new(tokens.clone(), None));
        let resource = server.mtls_url().unwrap().join("resource").unwrap();
        let get = || http::Request::get(resource.as_str()).body(Bytes::new()).unwrap();
        assert_eq!(api.execute(get()).await.unwrap().status(), StatusCode::OK, "{adapter}");
        let token = tokens.get(None).await.unwrap();
        let cnf = client
            .introspection()
            .unwrap()
            .introspect(token.access_token())
            .await
            .unwrap()
            .confirmation()
            .unwrap();
        assert!(cnf.is_bound_to_key(&key) && cnf.is_bound_to_certificate(&certificate), "{adapter}: {cnf:?}");
        assert_eq!(server.misused_bound_tokens(), 0, "{adapter}");
    }
}
