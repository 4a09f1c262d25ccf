//! The reqwest adapter passes the HttpClient conformance suite over real loopback sockets.

oauth2_kit_testkit::http_client_conformance!(|timeout| {
    oauth2_kit_reqwest::ReqwestClient::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .expect("a reqwest client")
});
