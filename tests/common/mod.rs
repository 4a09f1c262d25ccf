//! Shared by the workspace's integration tests.

#![allow(dead_code)]

pub(crate) mod browser;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use oauth2_kit::http::HttpClient;
use oauth2_kit::{AccessTokenProvider, Scope, TokenResponse};

/// Every HTTP adapter, each test runs against all of them.
pub(crate) fn adapters() -> Vec<(&'static str, Arc<dyn HttpClient>)> {
    let timeout = Duration::from_secs(10);
    vec![
        (
            "reqwest",
            Arc::new(
                oauth2_kit_reqwest::ReqwestClient::builder()
                    .timeout(timeout)
                    .build()
                    .expect("reqwest client"),
            ),
        ),
        (
            "isahc",
            Arc::new(
                oauth2_kit_isahc::IsahcClient::builder().timeout(timeout).build().expect("isahc client"),
            ),
        ),
    ]
}

/// The oidc-provider test server: the one `scripts/test.sh` started (`OIDC_ISSUER`), or one
/// started for this test process with `tests/oidc-provider/start.sh`, stopped when the guard
/// drops.
pub(crate) struct OidcProvider {
    pub(crate) issuer: String,
    own_pid: Option<u32>,
}

impl OidcProvider {
    pub(crate) fn get() -> Self {
        if let Ok(issuer) = std::env::var("OIDC_ISSUER") {
            return Self { issuer: issuer.trim_end_matches('/').to_owned(), own_pid: None };
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc-provider");
        let pidfile = std::env::temp_dir().join(format!("oidc-provider-{}.pid", std::process::id()));
        let output = Command::new("bash")
            .arg(format!("{dir}/start.sh"))
            .arg(&pidfile)
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/oidc-provider/start.sh (needs node and npm)");
        assert!(output.status.success(), "tests/oidc-provider/start.sh failed; are node and npm installed?");
        let issuer = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();
        let pid = std::fs::read_to_string(&pidfile).expect("pid file").trim().parse().expect("a pid");
        let _ = std::fs::remove_file(&pidfile);
        Self { issuer, own_pid: Some(pid) }
    }

    pub(crate) fn url(&self, path: &str) -> oauth2_kit::Endpoint {
        format!("{}{}", self.issuer, path).parse().expect("a loopback endpoint")
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        if let Some(pid) = self.own_pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// The OAuth 2.0 error of a failed result; fails the test otherwise.
pub(crate) fn expect_oauth2_error<T: std::fmt::Debug>(
    result: oauth2_kit::Result<T>,
    adapter: &str,
) -> Box<oauth2_kit::OAuth2Error> {
    match result {
        Err(oauth2_kit::Error::OAuth2(e)) => e,
        other => panic!("{adapter}: expected an OAuth2 error, got {other:?}"),
    }
}

/// A token provider that counts the token requests reaching the one it wraps.
pub(crate) struct Counting<P> {
    pub(crate) inner: P,
    requests: AtomicUsize,
}

impl<P> Counting<P> {
    pub(crate) fn new(inner: P) -> Arc<Self> {
        Arc::new(Self { inner, requests: AtomicUsize::new(0) })
    }

    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

#[oauth2_kit::async_trait]
impl<P: AccessTokenProvider> AccessTokenProvider for Counting<P> {
    async fn request_token(&self, scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.request_token(scope).await
    }
}

/// The environment variables that name proxies (cleared for child processes unless set).
pub(crate) const PROXY_VARIABLES: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// This test binary started again to run only its test `name` (an ignored one, run here on
/// purpose), with the proxy variables cleared; add the environment the child needs.
pub(crate) fn child_test(name: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args(["--exact", name, "--include-ignored", "--nocapture", "--test-threads=1"]);
    for variable in PROXY_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Waits for a child test; its standard output, or a failure naming what it printed.
pub(crate) fn passed(name: &str, child: std::process::Child) -> String {
    let output = child.wait_with_output().expect("wait for a child test");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
