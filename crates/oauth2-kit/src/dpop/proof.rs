//! DPoP proofs received with a request, checked as RFC 9449 §4.3 says: what a resource server
//! does before it accepts a DPoP-bound token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Method;
use serde::Deserialize;
use sha2::Digest as _;
use url::Url;

use super::thumbprint::PublicJwk;
use crate::jws::{ASYMMETRIC, Compact};
use crate::signing::PublicKey;

/// The longest proof accepted, in bytes (an RSA key's JWK makes the largest ones).
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The longest `jti` accepted (clients send 16 to 36 characters), so that what a verifier
/// remembers per proof stays small.
const MAX_JTI_BYTES: usize = 256;

/// A DPoP proof that passed every check of RFC 9449 §4.3 but the ones that need state: the
/// caller checks that its [`jti`](Self::jti) was not seen before (within the proof lifetime)
/// and, if it gives nonces, the [`nonce`](Self::nonce).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedProof {
    /// The JWK SHA-256 thumbprint (RFC 7638) of the proof's key: what a bound token's
    /// `cnf.jkt` must equal.
    pub thumbprint: String,
    /// The proof's unique identifier (`jti`).
    pub jti: String,
    /// When the proof was made (`iat`), seconds since the Unix epoch.
    pub iat: i64,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
}

/// Why a DPoP proof was refused. Messages name the check, never a value from the proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Not one compact JWS with a JSON header and claims, or too long.
    #[error("the DPoP proof is not a signed JWT")]
    Malformed,
    /// The header's `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ is not dpop+jwt")]
    WrongType,
    /// The header's `alg` is not an asymmetric algorithm this library checks.
    #[error("the DPoP proof's algorithm is not accepted")]
    AlgorithmNotAllowed,
    /// The header's `jwk` is missing, private, or not a key of the proof's algorithm.
    #[error("the DPoP proof's jwk is not a public key of its algorithm")]
    BadKey,
    /// The signature does not verify with the header's key.
    #[error("the DPoP proof's signature does not verify")]
    BadSignature,
    /// A claim the proof must carry is missing or of the wrong type (or a `jti` over 256
    /// bytes).
    #[error("the DPoP proof has no valid `{0}` claim")]
    MissingClaim(&'static str),
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another HTTP method")]
    WrongMethod,
    /// `htu` is not the request's URI (query and fragment ignored).
    #[error("the DPoP proof is for another URI")]
    WrongUri,
    /// `iat` is too far from the verifier's clock.
    #[error("the DPoP proof was not made within the accepted window")]
    Stale,
    /// `ath` is not the hash of the access token the request carries.
    #[error("the DPoP proof's ath does not match the access token")]
    WrongTokenHash,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    htm: Option<String>,
    #[serde(default)]
    htu: Option<String>,
    #[serde(default, deserialize_with = "crate::claims::numeric_date")]
    iat: Option<i64>,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// Checks `proof`, received with a `method` request to `uri` (the URL the client used: the
/// service's public origin and the request's path) carrying `access_token` (a resource
/// request; `None` at a token endpoint), made within `window` of `now` either way.
///
/// ```
/// # #[cfg(feature = "signing")] {
/// # futures_lite::future::block_on(async {
/// use std::time::{Duration, SystemTime};
/// use oauth2_kit::dpop::{DpopKey, verify_proof};
///
/// let key = DpopKey::generate()?;
/// let uri: http::Uri = "https://api.example.com/orders?page=2".parse()?;
/// let token = oauth2_kit::AccessToken::new("token-1");
/// let proof = key.proof(&http::Method::GET, &uri, Some(&token)).await?;
///
/// let url = "https://api.example.com/orders".parse()?;
/// let checked = verify_proof(proof.to_str()?, &http::Method::GET, &url, Some("token-1"), SystemTime::now(), Duration::from_secs(60))?;
/// assert_eq!(checked.thumbprint, key.thumbprint());
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap(); }
/// ```
pub fn verify_proof(
    proof: &str,
    method: &Method,
    uri: &Url,
    access_token: Option<&str>,
    now: SystemTime,
    window: Duration,
) -> Result<VerifiedProof, ProofError> {
    let jws = Compact::parse(proof, MAX_PROOF_BYTES).map_err(|_| ProofError::Malformed)?;
    if !jws.header.typ.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case("dpop+jwt")) {
        return Err(ProofError::WrongType);
    }
    let algorithm = jws.algorithm(&ASYMMETRIC).map_err(|_| ProofError::AlgorithmNotAllowed)?;
    let jwk = jws.header.jwk.as_ref().ok_or(ProofError::BadKey)?;
    let public = PublicJwk::new(jwk, algorithm).map_err(|_| ProofError::BadKey)?;
    let key = PublicKey::from_jwk(&serde_json::Value::Object(public.members().clone()).to_string())
        .and_then(|key| key.with_algorithm(algorithm))
        .map_err(|_| ProofError::BadKey)?;
    let (input, signature) = jws.signed();
    if !key.verify(input, signature) {
        return Err(ProofError::BadSignature);
    }
    let claims: Claims = jws.claims().map_err(|_| ProofError::Malformed)?;
    let jti = claims
        .jti
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_BYTES)
        .ok_or(ProofError::MissingClaim("jti"))?;
    if claims.htm.ok_or(ProofError::MissingClaim("htm"))? != method.as_str() {
        return Err(ProofError::WrongMethod);
    }
    let htu = claims.htu.ok_or(ProofError::MissingClaim("htu"))?;
    let htu = Url::parse(&htu).map_err(|_| ProofError::WrongUri)?;
    let same = htu.scheme() == uri.scheme()
        && htu.host_str() == uri.host_str()
        && htu.port_or_known_default() == uri.port_or_known_default()
        && htu.path() == uri.path();
    if !same {
        return Err(ProofError::WrongUri);
    }
    let iat = claims.iat.ok_or(ProofError::MissingClaim("iat"))?;
    let now =
        now.duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0);
    if iat.abs_diff(now) > window.as_secs() {
        return Err(ProofError::Stale);
    }
    if let Some(token) = access_token {
        let expected = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
        if claims.ath.as_deref() != Some(expected.as_str()) {
            return Err(ProofError::WrongTokenHash);
        }
    }
    Ok(VerifiedProof { thumbprint: public.thumbprint(), jti, iat, nonce: claims.nonce })
}

#[cfg(test)]
#[cfg(feature = "signing")]
mod tests {
    use super::*;
    use crate::dpop::DpopKey;
    use crate::secret::AccessToken;

    fn proof(key: &DpopKey, method: &Method, uri: &str, token: Option<&str>) -> String {
        let uri: http::Uri = uri.parse().unwrap();
        let token = token.map(AccessToken::new);
        let value = futures_lite::future::block_on(key.proof(method, &uri, token.as_ref())).unwrap();
        value.to_str().unwrap().to_owned()
    }

    #[test]
    fn a_proof_verifies_for_its_request_and_no_other() {
        let key = DpopKey::generate().unwrap();
        let url: Url = "https://API.example.com:443/orders".parse().unwrap();
        let now = SystemTime::now();
        let window = Duration::from_secs(60);
        let good = proof(&key, &Method::GET, "https://api.example.com/orders?x=1", Some("t-1"));
        let checked = verify_proof(&good, &Method::GET, &url, Some("t-1"), now, window).unwrap();
        assert_eq!(checked.thumbprint, key.thumbprint());
        assert!(!checked.jti.is_empty());

        let check = |proof: &str, method: &Method, url: &str, token: Option<&str>, now: SystemTime| {
            verify_proof(proof, method, &url.parse().unwrap(), token, now, window).unwrap_err()
        };
        let url = "https://api.example.com/orders";
        assert_eq!(check(&good, &Method::POST, url, Some("t-1"), now), ProofError::WrongMethod);
        for other in [
            "https://api.example.com/other",
            "http://api.example.com/orders",
            "https://api.example.com:8443/orders",
            "https://evil.example/orders",
        ] {
            assert_eq!(check(&good, &Method::GET, other, Some("t-1"), now), ProofError::WrongUri, "{other}");
        }
        assert_eq!(check(&good, &Method::GET, url, Some("t-2"), now), ProofError::WrongTokenHash);
        assert_eq!(
            check(&good, &Method::GET, url, Some("t-1"), now + Duration::from_secs(61)),
            ProofError::Stale
        );
        assert_eq!(
            check(&good, &Method::GET, url, Some("t-1"), now - Duration::from_secs(61)),
            ProofError::Stale
        );
        let without_ath = proof(&key, &Method::GET, url, None);
        assert_eq!(check(&without_ath, &Method::GET, url, Some("t-1"), now), ProofError::WrongTokenHash);
        let (head, rest) = good.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let claims = URL_SAFE_NO_PAD
            .encode(r#"{"jti":"j","htm":"GET","htu":"https://api.example.com/orders","iat":1}"#);
        assert_eq!(
            check(&format!("{head}.{claims}.{signature}"), &Method::GET, url, None, now),
            ProofError::BadSignature
        );
        let header = |json: &str| format!("{}.{claims}.{signature}", URL_SAFE_NO_PAD.encode(json));
        assert_eq!(
            check(&header(r#"{"alg":"ES256","typ":"JWT"}"#), &Method::GET, url, None, now),
            ProofError::WrongType
        );
        let prefixed = header(r#"{"alg":"ES256","typ":"application/dpop+jwt"}"#);
        assert_eq!(check(&prefixed, &Method::GET, url, None, now), ProofError::WrongType);
        assert_eq!(
            check(&header(r#"{"alg":"HS256","typ":"dpop+jwt"}"#), &Method::GET, url, None, now),
            ProofError::AlgorithmNotAllowed
        );
        assert_eq!(
            check(&header(r#"{"alg":"ES256","typ":"dpop+jwt"}"#), &Method::GET, url, None, now),
            ProofError::BadKey
        );
        let private =
            r#"{"alg":"ES256","typ":"dpop+jwt","jwk":{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}}"#;
        assert_eq!(check(&header(private), &Method::GET, url, None, now), ProofError::BadKey);
        assert_eq!(check("not.a.proof", &Method::GET, url, None, now), ProofError::Malformed);
    }
}
