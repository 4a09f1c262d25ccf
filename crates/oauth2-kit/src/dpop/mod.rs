//! DPoP (RFC 9449): access tokens bound to a key the client holds, proven with a signed proof on
//! every request.
//!
//! A bearer token works for whoever holds it; a DPoP-bound token works only with proofs signed
//! by the key it was issued for, so a token copied from a log or a proxy is useless alone. Give
//! an [`OAuth2Client`](crate::OAuth2Client) a [`DpopKey`]
//! ([`OAuth2ClientBuilder::dpop`](crate::OAuth2ClientBuilder::dpop)) and every token request it
//! makes carries a proof: the server binds the tokens it issues to the key (`token_type`
//! `DPoP`), login links name the key (`dpop_jkt`), refresh tokens are used with the same key.
//!
//! Servers may ask for a nonce in proofs (RFC 9449 §8, §9): an answer `use_dpop_nonce` is retried
//! once with the nonce of its `DPoP-Nonce` header, and the nonces of every response are kept per
//! origin, so a steady stream of requests pays the extra round trip only when the server changes
//! its nonce. The guide's [sender-constrained tokens](crate::guide::sender_constrained_tokens)
//! page says when to use DPoP and how.

mod nonce;
#[cfg(feature = "jwt")]
mod proof;
mod thumbprint;

#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use self::proof::{ProofError, VerifiedProof, verify_proof};

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, Method, Uri};
use serde_json::Value;
use sha2::Digest as _;

use self::nonce::Nonces;
use self::thumbprint::PublicJwk;
use crate::config_error::ConfigError;
use crate::secret::AccessToken;
use crate::signing::{JwsAlgorithm, JwtSigner, SigningError};
use crate::token::{TokenResponse, TokenType};

/// The request header a proof travels in.
pub(crate) const DPOP: &str = "dpop";

/// The key a client proves possession of with DPoP proofs (RFC 9449 §4): a signer that never
/// leaves the client, its public half (sent in every proof), its thumbprint (what tokens are
/// bound to), and the nonces servers have given. Cheap to clone; clones share the nonces.
///
/// One key per client is the rule: tokens issued for it are used only with it. Make it with
/// `generate` (feature `signing`: a new `ES256` key each start; the server binds tokens to
/// whatever key the client shows), from a `PrivateKey` you keep (`new`, feature `signing`:
/// replicas sharing tokens through a fleet cache need the same key), or over a signer of your
/// own, an HSM say ([`from_signer`](Self::from_signer)).
///
/// ```
/// # #[cfg(feature = "signing")] {
/// use oauth2_kit::dpop::DpopKey;
///
/// let key = DpopKey::generate()?;
/// assert_eq!(key.algorithm(), oauth2_kit::signing::JwsAlgorithm::ES256);
/// assert_eq!(key.thumbprint().len(), 43, "base64url of a SHA-256 digest");
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DpopKey {
    inner: Arc<Inner>,
}

struct Inner {
    signer: Box<dyn JwtSigner>,
    /// `base64url(header) "."`: the header is the same for every proof of the key.
    header: String,
    thumbprint: String,
    nonces: Nonces,
}

/// A proof's header (RFC 9449 §4.2).
#[derive(serde::Serialize)]
struct Header<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: &'a serde_json::Map<String, Value>,
}

/// A proof's claims (RFC 9449 §4.2).
#[derive(serde::Serialize)]
struct Claims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<&'a str>,
}

impl DpopKey {
    /// A new P-256 key (`ES256`, the algorithm every DPoP server accepts), made from the
    /// operating system's random source.
    #[cfg(feature = "signing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "signing")))]
    pub fn generate() -> Result<Self, SigningError> {
        let key = crate::signing::PrivateKey::generate(JwsAlgorithm::ES256)?;
        Self::new(key).map_err(|e| SigningError::new("cannot make a DPoP key").with_source(e))
    }

    /// Proofs signed by `key` (`ES256`, `EdDSA`, `RS256` or `PS256`, as the key is set).
    ///
    /// ```
    /// use oauth2_kit::dpop::DpopKey;
    /// use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
    ///
    /// let key = DpopKey::new(PrivateKey::generate(JwsAlgorithm::EdDSA)?)?;
    /// assert_eq!(key.algorithm(), JwsAlgorithm::EdDSA);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "signing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "signing")))]
    pub fn new(key: crate::signing::PrivateKey) -> Result<Self, ConfigError> {
        let public = key.public_key().to_jwk();
        Self::from_signer(key, &public)
    }

    /// Proofs signed by `signer` (a key in an HSM or a KMS), whose public key is `public_jwk`
    /// (a JWK; members other than the key's own are ignored). Refused: a symmetric signer, a
    /// JWK with private members, a JWK of another key type than the signer's algorithm.
    pub fn from_signer(signer: impl JwtSigner + 'static, public_jwk: &Value) -> Result<Self, ConfigError> {
        let algorithm = signer.algorithm();
        let jwk = PublicJwk::new(public_jwk, algorithm)?;
        let header = Header { typ: "dpop+jwt", alg: algorithm.as_str(), jwk: jwk.members() };
        let mut encoded = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
        encoded.push('.');
        Ok(Self {
            inner: Arc::new(Inner {
                signer: Box::new(signer),
                header: encoded,
                thumbprint: jwk.thumbprint(),
                nonces: Nonces::default(),
            }),
        })
    }

    /// The key's JWK SHA-256 thumbprint (RFC 7638), base64url: what a bound token's `cnf.jkt`
    /// and a login's `dpop_jkt` say.
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// The algorithm of every proof.
    pub fn algorithm(&self) -> JwsAlgorithm {
        self.inner.signer.algorithm()
    }

    /// A proof for one request (the `DPoP` header's value, marked sensitive): `method` and `uri`
    /// (sent as `htu`: scheme, host, port and path; no user info, query or fragment), a fresh
    /// `jti`, the current time, the nonce the URI's origin last gave this key's requests, and
    /// for a request carrying `access_token`, its hash (`ath`). For requests this crate does not
    /// send itself; an integration that should follow servers' nonces drives
    /// [`BearerAuth`](crate::bearer::BearerAuth) instead (`prove`, then `recover`).
    ///
    /// ```
    /// # #[cfg(feature = "signing")] {
    /// use oauth2_kit::dpop::DpopKey;
    ///
    /// let key = DpopKey::generate()?;
    /// let uri = "https://api.example.com/orders?page=2".parse()?;
    /// # futures_lite::future::block_on(async {
    /// let proof = key.proof(&http::Method::GET, &uri, None).await?;
    /// assert_eq!(proof.to_str()?.split('.').count(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) })?;
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn proof(
        &self,
        method: &Method,
        uri: &Uri,
        access_token: Option<&AccessToken>,
    ) -> Result<HeaderValue, SigningError> {
        self.proof_at(method, uri, access_token, SystemTime::now()).await
    }

    /// Keeps the nonce of a response from `uri`'s origin (its `DPoP-Nonce` header), for the
    /// next proofs to that origin. Returns whether it differs from the one kept before.
    #[cfg(test)]
    pub(crate) fn remember_nonce(&self, uri: &Uri, headers: &HeaderMap) -> bool {
        self.inner.nonces.observe(uri, headers).is_some_and(|(_, changed)| changed)
    }

    /// Keeps the nonce of a response from `uri`'s origin, and says whether the server asks for
    /// another than `used`, the one the request's proof carried: only then is a request refused
    /// with `use_dpop_nonce` worth sending again (the nonce kept may have changed already, by
    /// another request's answer).
    pub(crate) fn renews_nonce(&self, uri: &Uri, headers: &HeaderMap, used: Option<&str>) -> bool {
        self.inner.nonces.observe(uri, headers).is_some_and(|(nonce, _)| Some(&*nonce) != used)
    }

    /// [`proof`](Self::proof), at `now`.
    pub(crate) async fn proof_at(
        &self,
        method: &Method,
        uri: &Uri,
        access_token: Option<&AccessToken>,
        now: SystemTime,
    ) -> Result<HeaderValue, SigningError> {
        self.proof_with_nonce(method, uri, access_token, now).await.map(|(proof, _)| proof)
    }

    /// [`proof_at`](Self::proof_at), and the nonce the proof carries.
    pub(crate) async fn proof_with_nonce(
        &self,
        method: &Method,
        uri: &Uri,
        access_token: Option<&AccessToken>,
        now: SystemTime,
    ) -> Result<(HeaderValue, Option<Arc<str>>), SigningError> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(SigningError::new("a DPoP proof needs an absolute request URI"));
        };
        // Host and port only: a URI's user info is never signed (nor sent).
        let htu = match authority.port() {
            Some(port) => format!("{scheme}://{}:{port}{}", authority.host(), uri.path()),
            None => format!("{scheme}://{}{}", authority.host(), uri.path()),
        };
        let jti = crate::random::random_urlsafe(16)
            .map_err(|e| SigningError::new("no random identifier for a DPoP proof").with_source(e))?;
        let ath = access_token
            .map(|token| URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.expose_secret().as_bytes())));
        let nonce = self.inner.nonces.get(uri);
        let claims = Claims {
            jti: &jti,
            htm: method.as_str(),
            htu: &htu,
            iat: now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default(),
            nonce: nonce.as_deref(),
            ath: ath.as_deref(),
        };
        let claims = serde_json::to_vec(&claims)
            .map_err(|e| SigningError::new("cannot encode the DPoP proof").with_source(e))?;
        let mut proof = String::with_capacity(self.inner.header.len() + claims.len() * 4 / 3 + 100);
        proof.push_str(&self.inner.header);
        URL_SAFE_NO_PAD.encode_string(claims, &mut proof);
        let signature = self.inner.signer.sign(proof.as_bytes()).await?;
        proof.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut proof);
        let mut proof = HeaderValue::try_from(proof)
            .map_err(|_| SigningError::new("the DPoP proof is not a header value"))?;
        proof.set_sensitive(true);
        Ok((proof, nonce))
    }

    /// `token`, from a request this key proved: bound to the key when the server says it is a
    /// DPoP token.
    pub(crate) fn bind(&self, token: TokenResponse) -> TokenResponse {
        if token.token_type() == &TokenType::DPoP {
            return token.with_dpop_jkt(Some(self.thumbprint().into()));
        }
        tracing::warn!(
            token_type = %token.token_type(),
            "the token request carried a DPoP proof and the server issued a token not bound to it"
        );
        token
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("algorithm", &self.algorithm())
            .field("thumbprint", &self.inner.thumbprint)
            .field("signer", &self.inner.signer)
            .finish()
    }
}

#[cfg(all(test, feature = "signing"))]
mod tests {
    use std::time::Duration;

    use super::nonce::DPOP_NONCE;
    use super::*;
    use crate::signing::PrivateKey;

    fn decode(segment: &str) -> Value {
        // Null when it does not decode: the assertions on it then fail.
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn a_proof_has_rfc_9449_header_and_claims_and_verifies_with_the_embedded_key() {
        let private = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
        let key = DpopKey::new(private.clone()).unwrap();
        let uri: Uri = "https://Server.example.com:8443/token?x=1#frag".parse().unwrap();
        let token = AccessToken::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
        let now = UNIX_EPOCH + Duration::from_secs(1_562_262_616);
        let proof =
            futures_lite::future::block_on(key.proof_at(&Method::POST, &uri, Some(&token), now)).unwrap();
        let proof = proof.to_str().unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        let header = decode(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert!(header["jwk"].get("d").is_none());
        assert!(header.get("kid").is_none());
        let claims = decode(parts[1]);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://Server.example.com:8443/token", "no query, no fragment");
        assert_eq!(claims["iat"], 1_562_262_616);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
        // RFC 9449 §7.1's example: this access token's `ath`.
        assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert!(claims.get("nonce").is_none());
        let public = crate::signing::PublicKey::from_jwk(&header["jwk"].to_string()).unwrap();
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert!(public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature));
        assert_eq!(key.thumbprint(), {
            let jwk = PublicJwk::new(&private.public_key().to_jwk(), JwsAlgorithm::ES256).unwrap();
            jwk.thumbprint()
        });
    }

    #[test]
    fn proofs_carry_the_origins_nonce_and_a_new_jti_each() {
        let key = DpopKey::generate().unwrap();
        let uri: Uri = "https://server.example.com/token".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_NONCE, HeaderValue::from_static("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
        assert!(key.remember_nonce(&uri, &headers));
        let claims = |uri: &Uri| {
            let proof = futures_lite::future::block_on(key.proof(&Method::GET, uri, None)).unwrap();
            decode(proof.to_str().unwrap().split('.').nth(1).unwrap())
        };
        let (first, second) = (claims(&uri), claims(&uri));
        assert_eq!(first["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert_ne!(first["jti"], second["jti"]);
        assert!(claims(&"https://other.example.com/token".parse().unwrap()).get("nonce").is_none());
        let with_user: Uri = "https://user:pass@server.example.com:8443/token".parse().unwrap();
        let claims_of = claims(&with_user);
        assert_eq!(claims_of["htu"], "https://server.example.com:8443/token", "no user info");
        let relative: Uri = "/token".parse().unwrap();
        assert!(futures_lite::future::block_on(key.proof(&Method::GET, &relative, None)).is_err());
    }

    #[test]
    fn every_asymmetric_algorithm_makes_proofs_and_a_shared_secret_cannot() {
        for algorithm in [JwsAlgorithm::ES256, JwsAlgorithm::EdDSA, JwsAlgorithm::PS256] {
            let key =
                DpopKey::new(PrivateKey::generate(algorithm).unwrap().with_algorithm(algorithm).unwrap())
                    .unwrap();
            assert_eq!(key.algorithm(), algorithm);
            let proof =
                futures_lite::future::block_on(key.proof(&Method::GET, &"https://a/".parse().unwrap(), None))
                    .unwrap();
            assert_eq!(decode(proof.to_str().unwrap().split('.').next().unwrap())["alg"], algorithm.as_str());
        }
        let shared = crate::signing::SharedSecretKey::new("0123456789abcdef0123456789abcdef");
        let error = DpopKey::from_signer(shared, &serde_json::json!({"kty": "oct"})).err().unwrap();
        assert_eq!(error.kind(), crate::ConfigErrorKind::InvalidKey);
        let debug = format!("{:?}", DpopKey::generate().unwrap());
        assert!(debug.contains("thumbprint") && !debug.contains("\"d\""), "{debug}");
    }
}
