//! The isahc adapter passes the HttpClient conformance suite over real loopback sockets.

// Test code: a failed expect is a failed test.
#![allow(clippy::expect_used)]

oauth2_kit_testkit::http_client_conformance!(|timeout| {
    oauth2_kit_isahc::IsahcClient::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .expect("an isahc client")
});

/// A builder that asked for redirects still gets none.
#[tokio::test]
async fn from_builder_turns_redirects_off() {
    use isahc::config::{Configurable as _, RedirectPolicy};
    let builder = isahc::HttpClient::builder().redirect_policy(RedirectPolicy::Limit(10));
    let client = oauth2_kit_isahc::IsahcClient::from_builder(builder).expect("an isahc client");
    oauth2_kit_testkit::conformance::redirects_are_not_followed(&client).await;
}

/// libcurl over rustls ignores client certificates given from memory: the builder refuses one,
/// rather than make a client that says it presents a certificate and does not.
#[test]
fn a_client_certificate_from_memory_is_refused_with_rustls() {
    use oauth2_kit::http::{ClientCertificate, HttpClient as _, TransportErrorKind};
    let certificate = ClientCertificate::from_pem(
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n",
    )
    .expect("PEM blocks");
    let built = oauth2_kit_isahc::IsahcClient::builder().client_certificate(certificate).build();
    match built {
        Err(error) => {
            assert_eq!(error.kind(), TransportErrorKind::InvalidRequest);
            assert!(error.to_string().contains("from_pem_files"), "{error}");
        }
        Ok(client) => assert!(cfg!(feature = "native-tls") && client.presents_certificate()),
    }
    let plain = oauth2_kit_isahc::IsahcClient::new().expect("an isahc client");
    assert!(!plain.presents_certificate());
}
