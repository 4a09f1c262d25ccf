//! The reqwest adapter passes the HttpClient conformance suite over real loopback sockets.

// Test code: a failed expect is a failed test.
#![allow(clippy::expect_used)]

oauth2_kit_testkit::http_client_conformance!(|timeout| {
    oauth2_kit_reqwest::ReqwestClient::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .expect("a reqwest client")
});

/// A builder that asked for redirects still gets none.
#[tokio::test]
async fn from_builder_turns_redirects_off() {
    let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10));
    let client = oauth2_kit_reqwest::ReqwestClient::from_builder(builder).expect("a reqwest client");
    oauth2_kit_testkit::conformance::redirects_are_not_followed(&client).await;
}
