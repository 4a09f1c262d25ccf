//! The HTTP contract between the core and an HTTP client.
//!
//! The core builds [`HttpRequest`]s and reads [`HttpResponse`]s; an adapter crate
//! (`oauth2-kit-reqwest`, `oauth2-kit-isahc`, or your own) moves them over the network by
//! implementing [`HttpClient`]. The contract an adapter must keep:
//!
//! 1. Send the method, URI, headers and body of the request unchanged.
//! 2. Follow **no** redirects: return 3xx responses as they are (a token endpoint must not
//!    forward credentials elsewhere).
//! 3. Read at most [`BodyLimit::of`]`(&request)` bytes of response body; a longer body is a
//!    [`TransportErrorKind::BodyTooLarge`] error, found without buffering the whole body.
//! 4. Map failures to a [`TransportError`] of the right [`TransportErrorKind`], keeping the
//!    underlying error as its source.
//! 5. Send requests to a loopback host ([`is_loopback_uri`]) directly, never through a proxy:
//!    plain `http` is allowed to loopback on the grounds that it never leaves the machine, and
//!    a proxy from `HTTP_PROXY` would carry the credentials in clear.
//!
//! `oauth2-kit-testkit` ships a conformance suite that checks the first four over real
//! sockets; the proxy rule is checked by the adapters' own tests.

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;

/// A request as the core hands it to an [`HttpClient`].
pub type HttpRequest = http::Request<Bytes>;

/// A response as an [`HttpClient`] hands it back to the core.
pub type HttpResponse = http::Response<Bytes>;

/// Sends HTTP requests. Implemented by the adapter crates; dyn-compatible, so a client can be
/// shared as `Arc<dyn HttpClient>`.
///
/// A closure-free test double is a few lines:
///
/// ```
/// use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
///
/// struct Teapot;
///
/// #[async_trait::async_trait]
/// impl HttpClient for Teapot {
///     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
///         Ok(http::Response::builder().status(418).body(Default::default()).unwrap())
///     }
/// }
/// let client: std::sync::Arc<dyn HttpClient> = std::sync::Arc::new(Teapot);
/// # drop(client);
/// ```
#[async_trait]
pub trait HttpClient: Send + Sync {
    /// Sends one request and reads the whole response, keeping the contract of the
    /// [module documentation](self).
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Whether this client presents a TLS client certificate (mutual TLS, RFC 8705): then an
    /// [`OAuth2Client`](crate::OAuth2Client) over it sends its requests to the server's
    /// `mtls_endpoint_aliases`, and may authenticate with `tls_client_auth` or
    /// `self_signed_tls_client_auth`. The adapters say so when built with a
    /// [`ClientCertificate`]. Default: `false`.
    fn presents_certificate(&self) -> bool {
        false
    }
}

#[async_trait]
impl<T: HttpClient + ?Sized> HttpClient for std::sync::Arc<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }

    fn presents_certificate(&self) -> bool {
        (**self).presents_certificate()
    }
}

#[async_trait]
impl<T: HttpClient + ?Sized> HttpClient for Box<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }

    fn presents_certificate(&self) -> bool {
        (**self).presents_certificate()
    }
}

#[async_trait]
impl<T: HttpClient + ?Sized> HttpClient for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }

    fn presents_certificate(&self) -> bool {
        (**self).presents_certificate()
    }
}

/// A TLS client certificate and its private key, for mutual TLS (RFC 8705): what an adapter's
/// builder takes (`client_certificate`) to present it on every connection. From PEM (the
/// certificate chain, leaf first, and a PKCS#8 private key), or PKCS#12 where the adapter's TLS
/// library reads it. The key is zeroized on drop and never shown.
///
/// ```
/// use oauth2_kit::http::ClientCertificate;
///
/// # let (chain, key) = ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n");
/// let identity = ClientCertificate::from_pem(chain, key)?;
/// assert!(!format!("{identity:?}").contains("MC4C"));
/// # Ok::<(), oauth2_kit::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ClientCertificate {
    kind: CertificateKind,
}

#[derive(Clone)]
enum CertificateKind {
    Pem {
        chain: String,
        key: secrecy::SecretString,
        /// The files they were read from, for a TLS library that reads only files.
        files: Option<std::sync::Arc<(std::path::PathBuf, std::path::PathBuf)>>,
    },
    Pkcs12 {
        der: std::sync::Arc<zeroize::Zeroizing<Vec<u8>>>,
        password: secrecy::SecretString,
    },
}

impl ClientCertificate {
    /// The certificate `chain` (PEM `CERTIFICATE` blocks, the client's own first) and its
    /// private `key` (a PEM `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block).
    pub fn from_pem(chain: &str, key: &str) -> Result<Self, crate::ConfigError> {
        let invalid =
            |message: &'static str| crate::ConfigError::new(crate::ConfigErrorKind::InvalidKey, message);
        if !chain.contains("-----BEGIN CERTIFICATE-----") {
            return Err(invalid("the client certificate chain has no PEM CERTIFICATE block"));
        }
        if !key.contains("PRIVATE KEY-----") {
            return Err(invalid("the client certificate's key is not a PEM private key"));
        }
        Ok(Self { kind: CertificateKind::Pem { chain: chain.to_owned(), key: key.into(), files: None } })
    }

    /// [`from_pem`](Self::from_pem), read from the files `chain` and `key` (remembered: some TLS
    /// libraries, libcurl over rustls among them, take client certificates only as files).
    pub fn from_pem_files(
        chain: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Result<Self, crate::ConfigError> {
        let (chain, key) = (chain.into(), key.into());
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).map(zeroize::Zeroizing::new).map_err(|e| {
                crate::ConfigError::new(
                    crate::ConfigErrorKind::InvalidKey,
                    format!("cannot read {}: {e}", path.display()),
                )
            })
        };
        let mut certificate = Self::from_pem(&read(&chain)?, &read(&key)?)?;
        if let CertificateKind::Pem { files, .. } = &mut certificate.kind {
            *files = Some(std::sync::Arc::new((chain, key)));
        }
        Ok(certificate)
    }

    /// The files the PEM certificate chain and key were read from
    /// ([`from_pem_files`](Self::from_pem_files)), for an adapter whose TLS library reads files.
    pub fn files(&self) -> Option<(&std::path::Path, &std::path::Path)> {
        match &self.kind {
            CertificateKind::Pem { files: Some(files), .. } => Some((&files.0, &files.1)),
            _ => None,
        }
    }

    /// A PKCS#12 archive (`.p12`, `.pfx`) holding the certificate chain and its key, and the
    /// archive's password (empty for none). Read by the isahc adapter, and by the reqwest
    /// adapter with its `native-tls` feature.
    pub fn from_pkcs12(der: impl Into<Vec<u8>>, password: &str) -> Self {
        Self {
            kind: CertificateKind::Pkcs12 {
                der: std::sync::Arc::new(zeroize::Zeroizing::new(der.into())),
                password: password.into(),
            },
        }
    }

    /// The PEM certificate chain and key, for an adapter (`None` for a PKCS#12 archive).
    pub fn pem(&self) -> Option<(&str, &str)> {
        use secrecy::ExposeSecret as _;
        match &self.kind {
            CertificateKind::Pem { chain, key, .. } => Some((chain, key.expose_secret())),
            CertificateKind::Pkcs12 { .. } => None,
        }
    }

    /// The PKCS#12 archive and its password, for an adapter (`None` for PEM).
    pub fn pkcs12(&self) -> Option<(&[u8], &str)> {
        use secrecy::ExposeSecret as _;
        match &self.kind {
            CertificateKind::Pkcs12 { der, password } => Some((der.as_slice(), password.expose_secret())),
            CertificateKind::Pem { .. } => None,
        }
    }

    /// The certificate's SHA-256 thumbprint as RFC 8705 §3.1 writes it (`x5t#S256`: base64url of
    /// the SHA-256 digest of the leaf certificate's DER): what a certificate-bound token's
    /// `cnf` names. `None` for a PKCS#12 archive, or a chain whose first block does not decode.
    pub fn thumbprint(&self) -> Option<String> {
        use base64::Engine as _;
        use sha2::Digest as _;
        const END: &str = "-----END CERTIFICATE-----";
        let CertificateKind::Pem { chain, .. } = &self.kind else { return None };
        let begin = chain.find("-----BEGIN CERTIFICATE-----")?;
        let end = chain.get(begin..)?.find(END)? + begin + END.len();
        let (label, der) = pem_rfc7468::decode_vec(chain.get(begin..end)?.as_bytes()).ok()?;
        (label == "CERTIFICATE")
            .then(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der)))
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.kind {
            CertificateKind::Pem { .. } => "PEM",
            CertificateKind::Pkcs12 { .. } => "PKCS#12",
        };
        f.debug_struct("ClientCertificate")
            .field("format", &format)
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

/// Whether a request URI's host is on this machine (`localhost`, `127.0.0.0/8`, `::1`): such
/// requests must not go through a proxy (rule 5 of the [contract](self)).
///
/// ```
/// use oauth2_kit::http::is_loopback_uri;
///
/// assert!(is_loopback_uri(&"http://127.0.0.1:8080/token".parse().unwrap()));
/// assert!(is_loopback_uri(&"http://[::1]/token".parse().unwrap()));
/// assert!(!is_loopback_uri(&"https://auth.example.com/token".parse().unwrap()));
/// ```
pub fn is_loopback_uri(uri: &http::Uri) -> bool {
    uri.host().is_some_and(crate::endpoint::is_loopback_host)
}

/// The largest response body an [`HttpClient`] may read for a request, carried in the request's
/// extensions. Absent means [`BodyLimit::DEFAULT`] (1 MiB).
///
/// ```
/// use oauth2_kit::http::BodyLimit;
///
/// let mut request = http::Request::new(bytes::Bytes::new());
/// assert_eq!(BodyLimit::of(&request), 1024 * 1024);
/// request.extensions_mut().insert(BodyLimit(4096));
/// assert_eq!(BodyLimit::of(&request), 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    /// 1 MiB: far above any token response, far below memory trouble.
    pub const DEFAULT: BodyLimit = BodyLimit(1024 * 1024);

    /// The limit that applies to `request`.
    pub fn of<B>(request: &http::Request<B>) -> usize {
        request.extensions().get::<BodyLimit>().copied().unwrap_or(Self::DEFAULT).0
    }
}

impl Default for BodyLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What went wrong while moving a request or response over the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, unreachable, DNS failure).
    Connect,
    /// The connect or overall timeout elapsed.
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The response body is larger than the request's [`BodyLimit`].
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request could not be built or sent in the form given (an adapter refused it).
    InvalidRequest,
    /// The answer is not valid HTTP: not HTTP at all, a garbage status line, an invalid header
    /// (`Content-Length: -1`), a header block larger than the client accepts. Not retryable:
    /// the same server will answer the same way.
    Protocol,
    /// Anything else: the connection was reset or closed mid-response, ...
    Other,
    /// Nothing was sent: a bearer client used as an [`HttpClient`] had no access token to attach
    /// (the token request failed, or the destination is not trusted with the token). The error
    /// says why, in words; [`BearerClient::execute`](crate::bearer::BearerClient::execute)
    /// returns the reason typed ([`Error::NoToken`](crate::Error::NoToken) or
    /// [`Error::Bearer`](crate::Error::Bearer)). Retryable when the reason is.
    NoToken,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connection failed"),
            Self::Timeout => f.write_str("timed out"),
            Self::Tls => f.write_str("TLS failure"),
            Self::BodyTooLarge { limit } => {
                write!(f, "response body larger than the limit of {limit} bytes")
            }
            Self::InvalidRequest => f.write_str("request refused by the HTTP client"),
            Self::Protocol => f.write_str("the answer is not valid HTTP"),
            Self::Other => f.write_str("transport failure"),
            Self::NoToken => f.write_str("no access token attached, request not sent"),
        }
    }
}

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure of the HTTP client: what failed, whether a retry could help, and the underlying
/// error as [`source`](StdError::source). Cheap to clone (the source is shared), so one failure
/// can be handed to many waiters.
#[derive(Debug, Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    retryable: bool,
    status: Option<http::StatusCode>,
    /// What the adapter knows of the failure that its cause does not say.
    context: Option<std::borrow::Cow<'static, str>>,
    source: Option<std::sync::Arc<dyn StdError + Send + Sync + 'static>>,
}

impl TransportError {
    /// An error of `kind`, retryable by the kind's default: connect failures, timeouts and
    /// [`Other`](TransportErrorKind::Other) failures (resets, closed connections) may succeed on a
    /// new attempt; TLS failures, oversized bodies and invalid requests will not.
    pub fn new(kind: TransportErrorKind) -> Self {
        let retryable = matches!(
            kind,
            TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Other
        );
        Self { kind, retryable, status: None, context: None, source: None }
    }

    /// Says in the message what the cause does not (an HTTP library's "unknown error", or a
    /// "message head is too large" that should say *header block*).
    #[must_use]
    pub fn with_context(mut self, context: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// Keeps the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(std::sync::Arc::from(source.into()));
        self
    }

    /// Overrides whether a retry could help.
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Records the status of a response that arrived but whose body could not be read.
    #[must_use]
    pub fn with_status(mut self, status: http::StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// The status of the response, if the failure came after its status line.
    pub fn status(&self) -> Option<http::StatusCode> {
        self.status
    }

    /// A [`TransportErrorKind::BodyTooLarge`] error.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(TransportErrorKind::BodyTooLarge { limit })
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether sending the same request again could succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(context) = &self.context {
            write!(f, ": {context}")?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// Reads a body that arrives in chunks while enforcing a [`BodyLimit`]: a helper for adapters.
///
/// ```
/// use oauth2_kit::http::{BodyCollector, TransportErrorKind};
///
/// let mut body = BodyCollector::new(8, None)?;
/// body.push(b"abcd")?;
/// let err = body.push(b"efghi").unwrap_err();
/// assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge { limit: 8 });
/// # Ok::<(), oauth2_kit::http::TransportError>(())
/// ```
#[derive(Debug)]
pub struct BodyCollector {
    limit: usize,
    buf: Vec<u8>,
}

impl BodyCollector {
    /// Starts a body of at most `limit` bytes. A declared `content_length` over the limit fails
    /// at once, before any byte is read.
    pub fn new(limit: usize, content_length: Option<u64>) -> Result<Self, TransportError> {
        let declared = content_length.unwrap_or(0);
        if declared > limit as u64 {
            return Err(TransportError::body_too_large(limit));
        }
        // Trust the declared length for the first allocation only as far as the limit allows.
        let capacity = usize::try_from(declared).unwrap_or(limit).min(limit);
        Ok(Self { limit, buf: Vec::with_capacity(capacity) })
    }

    /// Appends a chunk, failing as soon as the total passes the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        if self.buf.len().saturating_add(chunk.len()) > self.limit {
            return Err(TransportError::body_too_large(self.limit));
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body.
    pub fn finish(self) -> Bytes {
        Bytes::from(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_certificates_keep_their_key_out_of_sight() {
        const KEY: &str =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
        // A certificate's DER is whatever its base64 says: the thumbprint hashes those bytes.
        let chain = "junk\n-----BEGIN CERTIFICATE-----\nAAECAw==\n-----END CERTIFICATE-----\n";
        let certificate = ClientCertificate::from_pem(chain, KEY).unwrap();
        // base64url(SHA-256(00 01 02 03))
        assert_eq!(certificate.thumbprint().as_deref(), Some("BU7ewdAhH2JP7Qy8qdT5QAsOSRxDdCryxbCr6_DJkNg"));
        assert_eq!(certificate.pem().map(|(_, key)| key), Some(KEY));
        assert!(certificate.files().is_none() && certificate.pkcs12().is_none());
        let shown = format!("{certificate:?}");
        assert!(!shown.contains("c2VjcmV0") && shown.contains("PEM"), "{shown}");
        assert!(ClientCertificate::from_pem("no certificate", KEY).is_err());
        assert!(ClientCertificate::from_pem(chain, "no key").is_err());
        let archive = ClientCertificate::from_pkcs12(vec![1, 2, 3], "p12-password");
        assert_eq!(archive.pkcs12(), Some((&[1u8, 2, 3][..], "p12-password")));
        assert_eq!(archive.thumbprint(), None);
        assert!(!format!("{archive:?}").contains("p12-password"));
        assert!(ClientCertificate::from_pem_files("/nonexistent/chain.pem", "/nonexistent/key.pem").is_err());
    }

    #[test]
    fn retryable_defaults_follow_the_kind() {
        assert!(TransportError::new(TransportErrorKind::Connect).is_retryable());
        assert!(TransportError::new(TransportErrorKind::Timeout).is_retryable());
        assert!(!TransportError::new(TransportErrorKind::Tls).is_retryable());
        assert!(!TransportError::body_too_large(1).is_retryable());
        assert!(!TransportError::new(TransportErrorKind::Other).with_retryable(false).is_retryable());
    }

    #[test]
    fn source_is_kept_and_shown() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = TransportError::new(TransportErrorKind::Connect).with_source(io);
        assert_eq!(err.to_string(), "connection failed: refused");
        assert!(err.source().is_some());
    }

    #[test]
    fn collector_rejects_declared_and_actual_overflow() {
        assert!(BodyCollector::new(10, Some(11)).is_err());
        let mut c = BodyCollector::new(10, Some(10)).unwrap();
        c.push(b"0123456789").unwrap();
        assert!(c.push(b"x").is_err());
        let mut c = BodyCollector::new(10, None).unwrap();
        c.push(b"01234").unwrap();
        assert_eq!(&c.finish()[..], b"01234");
    }
}
