//! # oauth2-kit-isahc
//!
//! The [isahc] (libcurl) adapter of `oauth2-kit`: an [`HttpClient`] over an
//! `isahc::HttpClient`. It brings its own I/O thread, so it works under any async runtime.
//!
//! ```no_run
//! use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
//! use oauth2_kit_isahc::IsahcClient;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let http = IsahcClient::new()?;
//! let server = AuthorizationServer::new().token("https://auth.example.com/oauth2/token".parse()?);
//! let client = OAuth2Client::new(server, ClientAuth::new("my-service", "my-secret"), http);
//! let token = client.client_credentials()?.request_token(None).await?;
//! # Ok(()) }
//! ```
//!
//! [`IsahcClient::new`] follows no redirects (a token endpoint must not forward credentials
//! elsewhere) and sets a connect timeout of 10 s and an overall timeout of 30 s. To use an
//! `isahc::HttpClient` you configured yourself, wrap it with [`IsahcClient::with_client`] and
//! keep its redirect policy at `RedirectPolicy::None` (isahc's default).
//!
//! Response bodies are read piece by piece and stop at the request's
//! [`BodyLimit`], so an oversized body never fills memory.
//!
//! ## Proxies
//!
//! Every [`IsahcClient`], whether built here or wrapped with [`IsahcClient::with_client`],
//! reaches **loopback hosts** (`localhost`, `127.0.0.0/8`, `::1`) directly, whatever proxy the
//! client or the environment names: plain `http` is allowed to loopback only because it never
//! leaves the machine, and a proxy would carry the client secret in clear. Other destinations
//! use the client's proxy, or libcurl's from the environment (`http_proxy` in lower case only,
//! `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::time::Duration;

use futures_lite::AsyncReadExt as _;
use isahc::AsyncBody;
use isahc::config::{Configurable as _, RedirectPolicy};
use isahc::error::ErrorKind;
use oauth2_kit::async_trait;
use oauth2_kit::http::{
    BodyCollector, BodyLimit, ClientCertificate, HttpClient, HttpRequest, HttpResponse, TransportError,
    TransportErrorKind, is_loopback_uri,
};

pub use isahc;

/// The connect timeout of [`IsahcClient::new`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The overall (connect, send, read the whole body) timeout of [`IsahcClient::new`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An [`HttpClient`] backed by isahc. Cheap to clone (isahc shares its agent behind an `Arc`).
#[derive(Debug, Clone)]
pub struct IsahcClient {
    client: isahc::HttpClient,
    /// Whether it presents a TLS client certificate (mutual TLS).
    certificate: bool,
}

impl IsahcClient {
    /// A client with the defaults: no redirects, [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_TIMEOUT`]. Fails if libcurl or its agent thread cannot start.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// A builder to change the timeouts.
    pub fn builder() -> IsahcClientBuilder {
        IsahcClientBuilder {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            certificate: None,
            roots: None,
        }
    }

    /// Wraps a client you configured. **Keep its redirect policy at `RedirectPolicy::None`**
    /// (isahc's default; a token endpoint must not forward your credentials elsewhere) and give
    /// it timeouts. [`from_builder`](Self::from_builder) turns redirects off for you.
    pub fn with_client(client: isahc::HttpClient) -> Self {
        Self { client, certificate: false }
    }

    /// Builds a client from an `isahc::HttpClientBuilder` you configured, with redirects turned
    /// off whatever the builder said. Set timeouts on the builder.
    pub fn from_builder(builder: isahc::HttpClientBuilder) -> Result<Self, TransportError> {
        let client = builder.redirect_policy(RedirectPolicy::None).build().map_err(map_error)?;
        Ok(Self { client, certificate: false })
    }

    /// Says that the client you configured ([`with_client`](Self::with_client),
    /// [`from_builder`](Self::from_builder)) presents a TLS client certificate (its TLS
    /// configuration's `identity`), so that operations use the server's mutual-TLS endpoints and
    /// may authenticate with it ([`HttpClient::presents_certificate`]). The builder's
    /// [`client_certificate`](IsahcClientBuilder::client_certificate) says so itself.
    #[must_use]
    pub fn with_presented_certificate(mut self) -> Self {
        self.certificate = true;
        self
    }

    /// The wrapped `isahc::HttpClient`.
    pub fn inner(&self) -> &isahc::HttpClient {
        &self.client
    }
}

impl From<isahc::HttpClient> for IsahcClient {
    fn from(client: isahc::HttpClient) -> Self {
        Self::with_client(client)
    }
}

/// Options of an [`IsahcClient`].
#[derive(Debug, Clone)]
#[must_use]
pub struct IsahcClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    certificate: Option<ClientCertificate>,
    roots: Option<String>,
}

impl IsahcClientBuilder {
    /// How long connecting may take. Default: [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole request may take, body included. Default: [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Presents `certificate` on every TLS connection (mutual TLS, RFC 8705): the client's
    /// operations then use the server's mutual-TLS endpoints, and may authenticate with the
    /// certificate (`ClientAuth::tls_client_auth`). With the default TLS (libcurl over rustls),
    /// libcurl reads client certificates only from files: give one made with
    /// `ClientCertificate::from_pem_files` ([`build`](Self::build) refuses another). With the
    /// `native-tls` feature (OpenSSL), PEM from memory and PKCS#12 work too.
    pub fn client_certificate(mut self, certificate: ClientCertificate) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// Trusts only the CA certificates of `pem` (one or more PEM `CERTIFICATE` blocks) for the
    /// servers' certificates, instead of the platform's roots: for a private PKI. Default: the
    /// platform's roots.
    pub fn root_certificates(mut self, pem: impl Into<String>) -> Self {
        self.roots = Some(pem.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<IsahcClient, TransportError> {
        use isahc::config::Configurable as _;
        let mut builder = isahc::HttpClient::builder()
            .redirect_policy(RedirectPolicy::None)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout);
        if self.certificate.is_some() || self.roots.is_some() {
            let mut tls = isahc::tls::TlsConfig::builder();
            if let Some(certificate) = &self.certificate {
                tls = tls.identity(identity(certificate)?);
            }
            if let Some(roots) = self.roots {
                tls = tls.trust_store(isahc::tls::TrustStore::builder().certificate_from_pem(roots).build());
            }
            builder = builder.tls_config(tls.build());
        }
        let client = builder.build().map_err(map_error)?;
        Ok(IsahcClient { client, certificate: self.certificate.is_some() })
    }
}

/// `certificate` as libcurl takes it: files when it has them; from memory with OpenSSL only
/// (libcurl's rustls backend ignores certificates in memory, which would leave the client
/// without one while it says it has one).
fn identity(certificate: &ClientCertificate) -> Result<isahc::tls::Identity, TransportError> {
    if let Some((chain, key)) = certificate.files() {
        let key = isahc::tls::PrivateKey::from_pem_file(key.to_path_buf(), None);
        return Ok(isahc::tls::Identity::from_pem_file(chain.to_path_buf(), Some(key)));
    }
    if cfg!(not(feature = "native-tls")) {
        return Err(TransportError::new(TransportErrorKind::InvalidRequest).with_context(
            "libcurl over rustls reads client certificates only from files: use ClientCertificate::from_pem_files (or the native-tls feature)",
        ));
    }
    Ok(match certificate.pem() {
        Some((chain, key)) => isahc::tls::Identity::from_pem(
            chain.as_bytes().to_vec(),
            Some(isahc::tls::PrivateKey::from_pem(key.as_bytes().to_vec(), None)),
        ),
        None => {
            let (der, password) = certificate.pkcs12().unwrap_or_default();
            isahc::tls::Identity::from_pkcs12(der.to_vec(), Some(password.to_owned()))
        }
    })
}

#[async_trait]
impl HttpClient for IsahcClient {
    fn presents_certificate(&self) -> bool {
        self.certificate
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = BodyLimit::of(&request);
        let (mut parts, body) = request.into_parts();
        if is_loopback_uri(&parts.uri) {
            // Loopback never goes through a proxy (see the crate documentation): an explicit
            // "no proxy" for this request overrides the client's and curl's environment.
            let no_proxy = http::Request::builder()
                .proxy(None)
                .body(())
                .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest).with_source(e))?;
            parts.extensions.extend(no_proxy.into_parts().0.extensions);
        }
        let request = http::Request::from_parts(parts, AsyncBody::from_bytes_static(body));
        // isahc turns on curl's verbose mode when a tracing subscriber is interested in its
        // span, and then logs the raw request and response at TRACE (`isahc::wire`): client
        // secrets, tokens and passwords included. The request runs with no subscriber, so
        // isahc creates no span and curl logs nothing; this crate's own spans are unaffected.
        let no_subscriber = || tracing::subscriber::NoSubscriber::default();
        let sending = tracing::subscriber::with_default(no_subscriber(), || self.client.send_async(request));
        let response = Untraced(sending).await.map_err(map_error)?;
        let (parts, mut body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let status = parts.status;
        let mut collected = BodyCollector::new(limit, declared).map_err(|e| e.with_status(status))?;
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = body.read(&mut chunk).await.map_err(|e| map_io_error(e).with_status(status))?;
            if n == 0 {
                break;
            }
            collected.push(chunk.get(..n).unwrap_or_default()).map_err(|e| e.with_status(status))?;
        }
        Ok(http::Response::from_parts(parts, collected.finish()))
    }
}

/// Polls a future with no tracing subscriber (see [`IsahcClient`]'s `send`).
struct Untraced<F>(F);

impl<F: std::future::Future + Unpin> std::future::Future for Untraced<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let future = &mut self.0;
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            std::pin::Pin::new(future).poll(cx)
        })
    }
}

/// Classifies an isahc error, keeping it as the source.
fn map_error(error: isahc::Error) -> TransportError {
    let (kind, retryable) = match error.kind() {
        ErrorKind::ConnectionFailed if is_tls_handshake(&error) => (TransportErrorKind::Tls, false),
        ErrorKind::ConnectionFailed | ErrorKind::NameResolution => (TransportErrorKind::Connect, true),
        ErrorKind::Timeout => (TransportErrorKind::Timeout, true),
        ErrorKind::BadClientCertificate
        | ErrorKind::BadServerCertificate
        | ErrorKind::TlsEngine
        | ErrorKind::InvalidTlsConfiguration => (TransportErrorKind::Tls, false),
        ErrorKind::InvalidRequest | ErrorKind::ClientInitialization | ErrorKind::RequestBodyNotRewindable => {
            (TransportErrorKind::InvalidRequest, false)
        }
        // A server that closed the connection without answering (curl's "empty reply"): isahc
        // calls it a protocol violation, but it is a dropped connection, as with reqwest.
        ErrorKind::ProtocolViolation if is_empty_reply(&error) => (TransportErrorKind::Other, true),
        // Not HTTP, a garbage status line, an invalid header: the same server says it again.
        ErrorKind::ProtocolViolation => (TransportErrorKind::Protocol, false),
        // isahc documents these as not helped by a retry.
        ErrorKind::InvalidContentEncoding | ErrorKind::InvalidCredentials => {
            (TransportErrorKind::Other, false)
        }
        // Io (a reset, a connection closed mid-body) and anything newer.
        _ => (TransportErrorKind::Other, true),
    };
    let mut mapped = TransportError::new(kind).with_retryable(retryable);
    if curl_error(&error).is_some_and(curl::Error::is_recv_error) {
        // libcurl reports a header block over its limit as the same receive error as a reset,
        // and isahc drops the detail that tells them apart: name both.
        mapped = mapped.with_context(
            "receiving the answer failed: the connection broke, or the response header block is larger than \
             libcurl accepts (300 KiB)",
        );
    }
    mapped.with_source(error)
}

/// The libcurl error under an isahc error, if there is one.
fn curl_error(error: &isahc::Error) -> Option<&curl::Error> {
    std::error::Error::source(error).and_then(|source| source.downcast_ref::<curl::Error>())
}

/// isahc folds curl's "SSL connect error" into `ConnectionFailed`; curl's error is the source.
fn is_tls_handshake(error: &isahc::Error) -> bool {
    curl_error(error).is_some_and(curl::Error::is_ssl_connect_error)
}

/// curl's "empty reply from server" (the connection closed before a status line).
fn is_empty_reply(error: &isahc::Error) -> bool {
    curl_error(error).is_some_and(curl::Error::is_got_nothing)
}

/// Body read errors arrive as `io::Error`s, with isahc's error inside when there is one.
fn map_io_error(error: std::io::Error) -> TransportError {
    if error.kind() == std::io::ErrorKind::TimedOut {
        return TransportError::new(TransportErrorKind::Timeout).with_source(error);
    }
    if error.get_ref().is_some_and(|inner| inner.is::<isahc::Error>()) {
        match error.into_inner().map(|boxed| boxed.downcast::<isahc::Error>()) {
            Some(Ok(inner)) => return map_error(*inner),
            Some(Err(other)) => return TransportError::new(TransportErrorKind::Other).with_source(other),
            None => return TransportError::new(TransportErrorKind::Other),
        }
    }
    TransportError::new(TransportErrorKind::Other).with_source(error)
}
