//! Tests whose subject runs in child processes of this test binary: code that reads the
//! process environment (proxy variables). (The fleet of replicas as separate processes is in
//! `fleet_redis.rs`, beside its in-process tests.) Each parent test starts this binary again with
//! `--exact <child> --include-ignored` and the environment the child needs; the child tests are
//! ignored in ordinary runs (they only make sense in that environment) and always run by their
//! parent.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use oauth2_kit::Endpoint;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};

/// Runs the child test `name` of this binary with `env` set (and the proxy variables cleared
/// first); panics unless it passes.
fn run_child(name: &str, env: &[(&str, String)]) {
    let mut command = oauth2_kit_test_support::child_test(name);
    command.envs(env.iter().map(|(name, value)| (*name, value)));
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn();
    oauth2_kit_test_support::passed(name, child.unwrap());
}

/// A forward proxy that answers every request with `502` and records its request line.
struct CountingProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                record.lock().unwrap().push(line.trim_end().to_owned());
                let _ = stream
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

const CHILD_TOKEN_URL: &str = "OAUTH2_KIT_TEST_TOKEN_URL";
const CHILD_RESOURCE_URL: &str = "OAUTH2_KIT_TEST_RESOURCE_URL";

/// With every proxy variable pointing at a local proxy, both adapters' default clients reach a
/// loopback authorization server and API directly (a token request carries the client secret,
/// an API call the token: neither may go to a proxy in clear), while an `https` destination
/// elsewhere still goes through the proxy.
#[test]
fn loopback_never_goes_through_a_proxy_but_https_elsewhere_does() {
    let proxy = CountingProxy::start();
    let server = TestServer::start().unwrap();
    let mut env: Vec<(&str, String)> =
        oauth2_kit_test_support::PROXY_VARIABLES[..6].iter().map(|v| (*v, proxy.url.clone())).collect();
    env.push((CHILD_TOKEN_URL, server.token_endpoint().to_string()));
    env.push((CHILD_RESOURCE_URL, server.resource_url().to_string()));
    run_child("processes::proxied_child", &env);
    assert_eq!(
        server.requests(oauth2_kit_testkit::Route::Token),
        2,
        "one token request per adapter reached the server"
    );
    // Only the https requests to another host reached the proxy, as tunnels.
    assert_eq!(proxy.seen(), vec!["CONNECT auth.oauth2-kit.invalid:443 HTTP/1.1"; 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the proxy variables its parent sets: run by loopback_never_goes_through_a_proxy_but_https_elsewhere_does"]
async fn proxied_child() {
    let token_url: Endpoint = std::env::var(CHILD_TOKEN_URL).unwrap().parse().unwrap();
    let resource = std::env::var(CHILD_RESOURCE_URL).unwrap();
    let elsewhere: Endpoint = "https://auth.oauth2-kit.invalid/token".parse().unwrap();
    let adapters = [
        (
            "reqwest",
            Arc::new(oauth2_kit_reqwest::ReqwestClient::new().unwrap())
                as Arc<dyn oauth2_kit::http::HttpClient>,
        ),
        ("isahc", Arc::new(oauth2_kit_isahc::IsahcClient::new().unwrap())),
    ];
    for (adapter, http) in adapters {
        let client = OAuth2Client::new(
            AuthorizationServer::new().token(token_url.clone()),
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            http.clone(),
        )
        .client_credentials()
        .unwrap();
        let api = BearerClient::new(http.clone(), BearerAuth::builder(client).build());
        let response =
            api.execute(http::Request::get(resource.as_str()).body(Bytes::new()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200, "{adapter}: the loopback API answered directly");
        let remote = OAuth2Client::new(
            AuthorizationServer::new().token(elsewhere.clone()),
            ClientAuth::new("id", "secret"),
            http,
        )
        .client_credentials()
        .unwrap();
        let error = remote.request_token(None).await.unwrap_err();
        assert!(error.transport_kind().is_some(), "{adapter}: {error}");
    }
}
