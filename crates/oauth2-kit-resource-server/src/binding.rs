//! Sender-constrained tokens at the resource server: DPoP proofs (RFC 9449 §7) and
//! certificate-bound tokens (RFC 8705 §3) checked against the token's `cnf`.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_kit::dpop::{ProofError, VerifiedProof, verify_proof};
use oauth2_kit::{Clock, SystemClock};
use sha2::Digest as _;
use url::Url;

/// The most proofs remembered for replay detection (32 bytes each); past it, new proofs are
/// refused (`503`) until the oldest leave their window.
const MAX_REMEMBERED: usize = 1_000_000;

/// The thumbprint (`x5t#S256`, RFC 8705 §3.1) of the TLS client certificate the request came
/// with. Whatever terminates TLS puts it in the request's extensions (a hyper or tonic
/// acceptor with rustls, say): a token bound to a certificate is accepted only with it.
///
/// ```
/// use oauth2_kit_resource_server::PresentedCertificate;
///
/// let presented = PresentedCertificate::from_der(b"the certificate's DER bytes");
/// assert_eq!(presented.thumbprint().len(), 43);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCertificate(String);

impl PresentedCertificate {
    /// The certificate of these DER bytes.
    pub fn from_der(der: &[u8]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der)))
    }

    /// Its SHA-256 thumbprint, base64url.
    pub fn thumbprint(&self) -> &str {
        &self.0
    }
}

/// How DPoP proofs are checked (RFC 9449 §4.3, §7): against the URL clients use to reach the
/// service (its public origin, which the service cannot tell from its own address behind a
/// proxy), within a window of the service's clock, each proof accepted once.
#[derive(Clone)]
pub struct DpopSettings {
    origin: Url,
    window: Duration,
    clock: Arc<dyn Clock>,
    seen: Arc<Mutex<Seen>>,
}

/// The proofs accepted within the window: the SHA-256 of each one's key thumbprint and `jti`
/// (a fixed size, whatever a client sends), in the order they expire (which is the order they
/// came in: one window for all).
#[derive(Default)]
struct Seen {
    proofs: HashSet<[u8; 32]>,
    expiries: VecDeque<(Instant, [u8; 32])>,
}

impl DpopSettings {
    /// Proofs for requests to `origin`: the scheme, host and port clients use
    /// (`https://api.example.com`), and the path prefix the service's requests lost on the way
    /// to the layer, if any (`https://example.com/api` behind a proxy that strips `/api`, or
    /// for a layer inside an axum `nest("/api", ..)`).
    pub fn new(origin: Url) -> Self {
        Self { origin, window: Duration::from_secs(60), clock: Arc::new(SystemClock), seen: Arc::default() }
    }

    /// How far a proof's `iat` may be from the service's clock, either way. Default 60 s.
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The clock. Default: [`SystemClock`].
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the proof of a request (`method`, `path`) carrying `token`, and that it was not
    /// seen before.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &http::Method,
        path: &str,
        token: &str,
    ) -> Result<VerifiedProof, ProofRefused> {
        // The origin's own path (a prefix a proxy or a nested router strips), then the request's:
        // set, not joined, so that a path like `//evil.example/x` stays a path.
        let mut url = self.origin.clone();
        url.set_path(&format!("{}{path}", self.origin.path().trim_end_matches('/')));
        let proof = verify_proof(proof, method, &url, Some(token), self.clock.system_time(), self.window)
            .map_err(ProofRefused::Proof)?;
        let now = self.clock.now();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((until, key)) = seen.expiries.front().copied() {
            if until > now {
                break;
            }
            seen.expiries.pop_front();
            seen.proofs.remove(&key);
        }
        let mut hash = sha2::Sha256::new();
        hash.update(proof.thumbprint.as_bytes());
        hash.update([0]);
        hash.update(proof.jti.as_bytes());
        let key: [u8; 32] = hash.finalize().into();
        if seen.proofs.contains(&key) {
            return Err(ProofRefused::Replayed);
        }
        // Full of proofs still in their window: forgetting one would let it be replayed.
        if seen.proofs.len() >= MAX_REMEMBERED {
            return Err(ProofRefused::Full);
        }
        let forget = now.checked_add(self.window.saturating_mul(2)).unwrap_or(now);
        seen.proofs.insert(key);
        seen.expiries.push_back((forget, key));
        Ok(proof)
    }
}

impl fmt::Debug for DpopSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopSettings")
            .field("origin", &self.origin.as_str())
            .field("window", &self.window)
            .finish()
    }
}

/// Why a proof was refused.
#[derive(Debug)]
pub(crate) enum ProofRefused {
    Proof(ProofError),
    Replayed,
    /// Too many proofs in their window to remember another.
    Full,
}

impl fmt::Display for ProofRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Proof(error) => fmt::Display::fmt(error, f),
            Self::Replayed => f.write_str("the DPoP proof was used before"),
            Self::Full => f.write_str("too many DPoP proofs within the window to remember another"),
        }
    }
}
