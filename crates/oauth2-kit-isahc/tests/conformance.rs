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
