//! What the workspace's integration tests, examples and benchmarks share (not published):
//! the HTTP adapters by name ([`adapters`], [`cli::http_client`]), the oidc-provider test server
//! ([`OidcProvider`]), a scripted browser for its pages ([`browser`]), child test processes
//! ([`child_test`]), and the fixtures of the bearer client's and the caches' measurements
//! ([`bearer`], [`cache_bench`]).

// Test support: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod bearer;
pub mod browser;
pub mod cache_bench;
pub mod cli;
pub mod leak;
pub mod pki;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use oauth2_kit::http::HttpClient;
use oauth2_kit::{AccessTokenProvider, Scope, TokenResponse};

/// Every HTTP adapter, each test runs against all of them.
pub fn adapters() -> Vec<(&'static str, Arc<dyn HttpClient>)> {
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

/// Both HTTP adapters presenting `certificate` and trusting only `roots` (PEM): for mutual TLS.
pub fn adapters_with_certificate(
    certificate: &oauth2_kit::http::ClientCertificate,
    roots: &str,
) -> Vec<(&'static str, Arc<dyn HttpClient>)> {
    vec![
        (
            "reqwest",
            Arc::new(
                oauth2_kit_reqwest::ReqwestClient::builder()
                    .client_certificate(certificate.clone())
                    .root_certificates(roots)
                    .build()
                    .expect("reqwest client with a certificate"),
            ),
        ),
        (
            "isahc",
            Arc::new(
                oauth2_kit_isahc::IsahcClient::builder()
                    .client_certificate(certificate.clone())
                    .root_certificates(roots)
                    .build()
                    .expect("isahc client with a certificate"),
            ),
        ),
    ]
}

/// The oidc-provider test server: the one `scripts/test.sh` started (`OIDC_ISSUER`), or one
/// started for this test process with `tests/oidc-provider/start.sh`, stopped when the guard
/// drops.
pub struct OidcProvider {
    /// The issuer identifier, without a trailing `/`.
    pub issuer: String,
    own_pid: Option<u32>,
}

impl OidcProvider {
    /// The server of this run (`OIDC_ISSUER`), or a new one for this process.
    pub fn get() -> Self {
        if let Ok(issuer) = std::env::var("OIDC_ISSUER") {
            return Self { issuer: issuer.trim_end_matches('/').to_owned(), own_pid: None };
        }
        Self::own()
    }

    /// A server of this test's own, whatever `OIDC_ISSUER` says: for a test that changes the
    /// server's state (rotates its DPoP nonce secret) under other tests' feet otherwise.
    pub fn own() -> Self {
        Self::own_with(&[])
    }

    /// A server of this test's own with mutual TLS: a second listener over TLS with the
    /// certificates of `pki`, named by the discovery document's `mtls_endpoint_aliases`, and the
    /// clients `kit-mtls-pki` (`tls_client_auth`) and `kit-mtls-self`
    /// (`self_signed_tls_client_auth`).
    pub fn own_with_tls(pki: &pki::TestPki) -> Self {
        Self::own_with(&[("KIT_TLS_DIR", pki.dir().as_os_str())])
    }

    fn own_with(env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/oidc-provider");
        let pidfile = std::env::temp_dir().join(format!(
            "oidc-provider-{}-{}.pid",
            std::process::id(),
            OWN.fetch_add(1, Ordering::SeqCst)
        ));
        let output = Command::new("bash")
            .arg(format!("{dir}/start.sh"))
            .arg(&pidfile)
            .envs(env.iter().copied())
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/oidc-provider/start.sh (needs node and npm)");
        assert!(output.status.success(), "tests/oidc-provider/start.sh failed; are node and npm installed?");
        let issuer = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();
        let pid = std::fs::read_to_string(&pidfile).expect("pid file").trim().parse().expect("a pid");
        let _ = std::fs::remove_file(&pidfile);
        Self { issuer, own_pid: Some(pid) }
    }

    /// The endpoint at `path` under the issuer.
    pub fn url(&self, path: &str) -> oauth2_kit::Endpoint {
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
pub fn expect_oauth2_error<T: std::fmt::Debug>(
    result: oauth2_kit::Result<T>,
    adapter: &str,
) -> Box<oauth2_kit::OAuth2Error> {
    match result {
        Err(oauth2_kit::Error::OAuth2(e)) => e,
        other => panic!("{adapter}: expected an OAuth2 error, got {other:?}"),
    }
}

/// Servers started by [`OidcProvider::own`] in this process, for their pid files' names.
static OWN: AtomicUsize = AtomicUsize::new(0);

/// An HTTP client that counts the requests it sends through the one it wraps.
pub struct CountingHttp {
    inner: Arc<dyn HttpClient>,
    sent: AtomicUsize,
}

impl CountingHttp {
    /// Counts the requests sent through `inner`.
    pub fn new(inner: Arc<dyn HttpClient>) -> Arc<Self> {
        Arc::new(Self { inner, sent: AtomicUsize::new(0) })
    }

    /// The requests sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
}

#[oauth2_kit::async_trait]
impl HttpClient for CountingHttp {
    async fn send(
        &self,
        request: oauth2_kit::http::HttpRequest,
    ) -> Result<oauth2_kit::http::HttpResponse, oauth2_kit::http::TransportError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.send(request).await
    }
}

/// A token provider that counts the token requests reaching the one it wraps.
pub struct Counting<P> {
    /// The provider counted.
    pub inner: P,
    requests: AtomicUsize,
}

impl<P> Counting<P> {
    /// Counts the requests reaching `inner`.
    pub fn new(inner: P) -> Arc<Self> {
        Arc::new(Self { inner, requests: AtomicUsize::new(0) })
    }

    /// The token requests so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

#[oauth2_kit::async_trait]
impl<P: AccessTokenProvider> AccessTokenProvider for Counting<P> {
    async fn request_token(&self, scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.request_token(scope).await
    }

    fn dpop_key(&self) -> Option<oauth2_kit::dpop::DpopKey> {
        self.inner.dpop_key()
    }
}

/// The environment variables that name proxies (cleared for child processes unless set).
pub const PROXY_VARIABLES: [&str; 8] = [
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
pub fn child_test(name: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args(["--exact", name, "--include-ignored", "--nocapture", "--test-threads=1"]);
    for variable in PROXY_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Waits for a child test; its standard output, or a failure naming what it printed.
pub fn passed(name: &str, child: std::process::Child) -> String {
    let output = child.wait_with_output().expect("wait for a child test");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
