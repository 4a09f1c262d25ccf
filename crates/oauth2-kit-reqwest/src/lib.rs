//! # oauth2-kit-reqwest
//!
//! The [reqwest] adapter of `oauth2-kit`: an [`HttpClient`] over a `reqwest::Client`.
//!
//! ```no_run
//! use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
//! use oauth2_kit_reqwest::ReqwestClient;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let http = ReqwestClient::new()?;
//! let server = AuthorizationServer::new().token("https://auth.example.com/oauth2/token".parse()?);
//! let client = OAuth2Client::new(server, ClientAuth::new("my-service", "my-secret"), http);
//! let token = client.client_credentials()?.request_token(None).await?;
//! # Ok(()) }
//! ```
//!
//! [`ReqwestClient::new`] follows no redirects (a token endpoint must not forward credentials
//! elsewhere) and sets a connect timeout of 10 s and an overall timeout of 30 s. To use a
//! `reqwest::Client` you configured yourself, wrap it with [`ReqwestClient::with_client`] and
//! keep its redirect policy at [`reqwest::redirect::Policy::none`].
//!
//! With the `middleware` feature, `BearerMiddleware` attaches bearer tokens to the requests of
//! a `reqwest_middleware` client.
//!
//! Response bodies are read chunk by chunk and stop at the request's
//! [`BodyLimit`], so an oversized body never fills memory.
//!
//! ## Proxies
//!
//! A client from [`ReqwestClient::new`] or [`ReqwestClient::builder`] uses the proxies of the
//! environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, as reqwest reads them) for
//! every destination **except loopback hosts** (`localhost`, `127.0.0.0/8`, `::1`), which it
//! always reaches directly: plain `http` is allowed to loopback only because it never leaves the
//! machine, and a proxy would carry the client secret in clear. A client you configured
//! yourself ([`ReqwestClient::with_client`], [`ReqwestClient::from_builder`]) keeps your proxy
//! settings as they are: give it `.no_proxy()`, or put the loopback names in `NO_PROXY`, if it
//! talks to a loopback server.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "middleware")]
mod middleware;
#[cfg(feature = "middleware")]
pub use middleware::BearerMiddleware;

use std::error::Error as StdError;
use std::time::Duration;

use oauth2_kit::async_trait;
use oauth2_kit::http::{
    BodyCollector, BodyLimit, ClientCertificate, HttpClient, HttpRequest, HttpResponse, TransportError,
    TransportErrorKind, is_loopback_uri,
};

pub use reqwest;

/// The connect timeout of [`ReqwestClient::new`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The overall (connect, send, read the whole body) timeout of [`ReqwestClient::new`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An [`HttpClient`] backed by `reqwest`. Cheap to clone (reqwest pools connections behind an
/// `Arc`).
#[derive(Debug, Clone)]
pub struct ReqwestClient {
    client: reqwest::Client,
    /// The same client without any proxy, for loopback destinations; `None` for a client the
    /// user configured.
    direct: Option<reqwest::Client>,
    /// Whether it presents a TLS client certificate (mutual TLS).
    certificate: bool,
}

impl ReqwestClient {
    /// A client with the defaults: no redirects, [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_TIMEOUT`]. Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// A builder to change the timeouts.
    pub fn builder() -> ReqwestClientBuilder {
        ReqwestClientBuilder {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: None,
            certificate: None,
            roots: None,
        }
    }

    /// Wraps a client you configured. **Keep its redirect policy at
    /// [`reqwest::redirect::Policy::none`]** (reqwest follows up to ten redirects by default, and
    /// re-sends a POST body, which may hold your client secret, on a 307 or 308) and give it
    /// timeouts. [`from_builder`](Self::from_builder) does both for you.
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client, direct: None, certificate: false }
    }

    /// Builds a client from a `reqwest::ClientBuilder` you configured (proxies, TLS roots, ...),
    /// with redirects turned off whatever the builder said. Set timeouts on the builder.
    pub fn from_builder(builder: reqwest::ClientBuilder) -> Result<Self, TransportError> {
        let client = builder.redirect(reqwest::redirect::Policy::none()).build().map_err(map_error)?;
        Ok(Self { client, direct: None, certificate: false })
    }

    /// Says that the client you configured ([`with_client`](Self::with_client),
    /// [`from_builder`](Self::from_builder)) presents a TLS client certificate (its builder's
    /// `identity`), so that operations use the server's mutual-TLS endpoints and may
    /// authenticate with it ([`HttpClient::presents_certificate`]). The builder's
    /// [`client_certificate`](ReqwestClientBuilder::client_certificate) says so itself.
    #[must_use]
    pub fn with_presented_certificate(mut self) -> Self {
        self.certificate = true;
        self
    }

    /// The wrapped `reqwest::Client`.
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }
}

impl From<reqwest::Client> for ReqwestClient {
    fn from(client: reqwest::Client) -> Self {
        Self::with_client(client)
    }
}

/// Options of a [`ReqwestClient`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ReqwestClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: Option<String>,
    certificate: Option<ClientCertificate>,
    roots: Option<String>,
}

impl ReqwestClientBuilder {
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

    /// The `User-Agent` header. Default: reqwest's (none).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Presents `certificate` on every TLS connection (mutual TLS, RFC 8705): the client's
    /// operations then use the server's mutual-TLS endpoints, and may authenticate with the
    /// certificate (`ClientAuth::tls_client_auth`). PEM with the default (rustls) TLS; PKCS#12
    /// needs the `native-tls` feature.
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

    /// Builds the client. Fails if the TLS backend cannot be initialised, or cannot read the
    /// client certificate or the root certificates.
    pub fn build(self) -> Result<ReqwestClient, TransportError> {
        let identity = self.certificate.as_ref().map(identity).transpose()?;
        let roots = match &self.roots {
            Some(pem) => Some(reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                TransportError::new(TransportErrorKind::InvalidRequest)
                    .with_context("the root certificates are not PEM certificates")
                    .with_source(e)
            })?),
            None => None,
        };
        let builder = || {
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .timeout(self.timeout);
            if let Some(user_agent) = &self.user_agent {
                builder = builder.user_agent(user_agent);
            }
            if let Some(identity) = &identity {
                builder = builder.identity(identity.clone());
            }
            if let Some(roots) = &roots {
                builder = builder.tls_certs_only(roots.iter().cloned());
            }
            builder
        };
        let client = builder().build().map_err(map_error)?;
        let direct = builder().no_proxy().build().map_err(map_error)?;
        Ok(ReqwestClient { client, direct: Some(direct), certificate: identity.is_some() })
    }
}

/// `certificate` as the TLS backend in use reads it.
fn identity(certificate: &ClientCertificate) -> Result<reqwest::Identity, TransportError> {
    let refused = |e: reqwest::Error| {
        TransportError::new(TransportErrorKind::InvalidRequest)
            .with_context("the TLS library cannot read the client certificate")
            .with_source(e)
    };
    if let Some((chain, key)) = certificate.pem() {
        #[cfg(feature = "default-tls")]
        {
            let mut pem = zeroize::Zeroizing::new(Vec::with_capacity(key.len() + chain.len() + 1));
            pem.extend_from_slice(key.as_bytes());
            pem.push(b'\n');
            pem.extend_from_slice(chain.as_bytes());
            return reqwest::Identity::from_pem(&pem).map_err(refused);
        }
        #[cfg(all(feature = "native-tls", not(feature = "default-tls")))]
        return reqwest::Identity::from_pkcs8_pem(chain.as_bytes(), key.as_bytes()).map_err(refused);
    }
    #[cfg(feature = "native-tls")]
    if let Some((der, password)) = certificate.pkcs12() {
        return reqwest::Identity::from_pkcs12_der(der, password).map_err(refused);
    }
    Err(TransportError::new(TransportErrorKind::InvalidRequest)
        .with_context("this TLS backend cannot read the client certificate in its format (PKCS#12 needs the native-tls feature)"))
}

#[async_trait]
impl HttpClient for ReqwestClient {
    fn presents_certificate(&self) -> bool {
        self.certificate
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = BodyLimit::of(&request);
        // Loopback never goes through a proxy (see the crate documentation).
        let client = match &self.direct {
            Some(direct) if is_loopback_uri(request.uri()) => direct,
            _ => &self.client,
        };
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest).with_source(e))?;
        let mut response = client.execute(request).await.map_err(map_error)?;
        let status = response.status();
        let mut body =
            BodyCollector::new(limit, response.content_length()).map_err(|e| e.with_status(status))?;
        while let Some(chunk) = response.chunk().await.map_err(|e| map_error(e).with_status(status))? {
            body.push(&chunk).map_err(|e| e.with_status(status))?;
        }
        let mut out = http::Response::new(body.finish());
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }
}

/// Classifies a reqwest error, keeping it as the source, without its URL (whose query could
/// carry a credential).
fn map_error(error: reqwest::Error) -> TransportError {
    if let Some(parse) = hyper_parse_error(&error) {
        // Not HTTP, a garbage status line, an invalid header, a header block too large: the
        // same server says it again.
        let mapped = TransportError::new(TransportErrorKind::Protocol);
        // hyper says "message head is too large" (`is_parse_too_large` exists only with
        // hyper's server feature, which a client has no use for).
        let mapped = if parse.to_string().contains("too large") {
            mapped.with_context("the response header block is larger than the client accepts")
        } else {
            mapped
        };
        return mapped.with_source(error.without_url());
    }
    let kind = if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_connect() && is_tls(&error) {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_builder() {
        TransportErrorKind::InvalidRequest
    } else {
        TransportErrorKind::Other
    };
    let retryable = kind != TransportErrorKind::Tls && !error.is_builder();
    TransportError::new(kind).with_retryable(retryable).with_source(error.without_url())
}

/// hyper's error under a reqwest error, when it is a parse error (the answer is not valid HTTP).
fn hyper_parse_error(error: &reqwest::Error) -> Option<&hyper::Error> {
    let mut source = StdError::source(error);
    while let Some(e) = source {
        if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
            return hyper.is_parse().then_some(hyper);
        }
        source = e.source();
    }
    None
}

/// reqwest reports a failed TLS handshake as a connect error. What tells it from a refused or
/// unreachable connection is in the chain: the TLS library reports a bad or unexpected message
/// as `io::ErrorKind::InvalidData` (a plain TCP connect never does), and certificate problems
/// name themselves. (Only the chain below reqwest's error is read: that one carries the URL.)
fn is_tls(error: &reqwest::Error) -> bool {
    chain_mentions_tls(StdError::source(error))
}

fn chain_mentions_tls(mut source: Option<&(dyn StdError + 'static)>) -> bool {
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::InvalidData {
                return true;
            }
            // `io::Error::source` skips the wrapped error itself; look at it too.
            if let Some(inner) = io.get_ref() {
                if chain_mentions_tls(Some(inner)) {
                    return true;
                }
            }
        }
        let text = e.to_string().to_ascii_lowercase();
        if ["certificate", "tls", "ssl", "handshake"].iter().any(|word| text.contains(word)) {
            return true;
        }
        source = e.source();
    }
    false
}
