//! # oauth2-kit-reqwest
//!
//! The [reqwest] adapter of `oauth2-kit`: an [`HttpClient`] over a `reqwest::Client`.
//!
//! ```no_run
//! use oauth2_kit::{ClientCredentials, Endpoint};
//! use oauth2_kit_reqwest::ReqwestClient;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let http = ReqwestClient::new()?;
//! let token_url: Endpoint = "https://auth.example.com/oauth2/token".parse()?;
//! let client = ClientCredentials::new(token_url, "my-service", "my-secret", http);
//! let token = client.request_token(None).await?;
//! # Ok(()) }
//! ```
//!
//! [`ReqwestClient::new`] follows no redirects (a token endpoint must not forward credentials
//! elsewhere) and sets a connect timeout of 10 s and an overall timeout of 30 s. To use a
//! `reqwest::Client` you configured yourself, wrap it with [`ReqwestClient::with_client`] and
//! keep its redirect policy at [`reqwest::redirect::Policy::none`].
//!
//! Response bodies are read chunk by chunk and stop at the request's
//! [`BodyLimit`], so an oversized body never fills memory.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::error::Error as StdError;
use std::time::Duration;

use oauth2_kit::async_trait;
use oauth2_kit::http::{
    BodyCollector, BodyLimit, HttpClient, HttpRequest, HttpResponse, TransportError, TransportErrorKind,
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
        }
    }

    /// Wraps a client you configured. Keep its redirect policy at
    /// [`reqwest::redirect::Policy::none`] and give it timeouts.
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
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

    /// Builds the client. Fails only if the TLS backend cannot be initialised.
    pub fn build(self) -> Result<ReqwestClient, TransportError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout);
        if let Some(user_agent) = self.user_agent {
            builder = builder.user_agent(user_agent);
        }
        let client = builder.build().map_err(map_error)?;
        Ok(ReqwestClient { client })
    }
}

#[async_trait]
impl HttpClient for ReqwestClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = BodyLimit::of(&request);
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest).with_source(e))?;
        let mut response = self.client.execute(request).await.map_err(map_error)?;
        let mut body = BodyCollector::new(limit, response.content_length())?;
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            body.push(&chunk)?;
        }
        let mut out = http::Response::new(body.finish());
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }
}

/// Classifies a reqwest error, keeping it as the source.
fn map_error(error: reqwest::Error) -> TransportError {
    let kind = if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if is_tls(&error) {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_builder() {
        TransportErrorKind::InvalidRequest
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind).with_source(error)
}

/// reqwest reports TLS failures as connect errors; the TLS library's error is in the chain.
fn is_tls(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = source {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("ssl") {
            return true;
        }
        source = e.source();
    }
    false
}
