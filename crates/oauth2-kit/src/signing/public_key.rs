//! Public keys: the other half of a [`PrivateKey`](super::PrivateKey), read from PEM or a JWK,
//! written as a JWK, and checking JWS signatures.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::JwsAlgorithm;
use crate::config_error::{ConfigError, ConfigErrorKind};

/// A public key that checks JWS signatures: RSA (`RS256` by default, or `PS256`), P-256
/// (`ES256`) or Ed25519 (`EdDSA`). Read from PEM or a JWK, taken from a
/// `PrivateKey` (feature `signing`), written as a JWK for a server's registration. Cheap to
/// clone.
///
/// ```
/// use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
///
/// let key = PrivateKey::generate(JwsAlgorithm::ES256)?.with_key_id("k1");
/// let public = key.public_key();
/// let jwk = public.to_jwk();
/// assert_eq!((jwk["kty"].as_str(), jwk["kid"].as_str()), (Some("EC"), Some("k1")));
/// assert!(jwk.get("d").is_none(), "no private member");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PublicKey {
    key: Arc<Verifying>,
    algorithm: JwsAlgorithm,
    key_id: Option<String>,
}

pub(super) enum Verifying {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &*self.key {
            Verifying::Rsa(_) => "RSA",
            Verifying::P256(_) => "P-256",
            Verifying::Ed25519(_) => "Ed25519",
        };
        describe(f, "PublicKey", kind, self.algorithm, self.key_id.as_deref())
    }
}

/// What `Debug` shows of a key, public or private: its type, algorithm and identifier.
pub(super) fn describe(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    kind: &str,
    algorithm: JwsAlgorithm,
    key_id: Option<&str>,
) -> fmt::Result {
    f.debug_struct(name)
        .field("kind", &kind)
        .field("algorithm", &algorithm)
        .field("key_id", &key_id)
        .finish_non_exhaustive()
}

/// A key that cannot be read or used.
pub(super) fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidKey, message)
}

/// RFC 7518 §3.3: RSA keys of at least 2048 bits (`size` in bytes).
pub(super) fn check_rsa_size(size: usize) -> Result<(), ConfigError> {
    if size < 256 {
        return Err(invalid("an RSA key must have at least 2048 bits (RFC 7518 §3.3)"));
    }
    Ok(())
}

/// The members of a public JWK this crate reads (any private member is ignored).
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// A JWK member's bytes (base64url).
pub(super) fn decode(value: &Option<String>, name: &str) -> Result<Vec<u8>, ConfigError> {
    let value = value.as_deref().ok_or_else(|| invalid(format!("the JWK has no `{name}`")))?;
    URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid(format!("the JWK's `{name}` is not base64url")))
}

impl PublicKey {
    pub(super) fn new(key: Verifying, algorithm: JwsAlgorithm, key_id: Option<String>) -> Self {
        Self { key: Arc::new(key), algorithm, key_id }
    }

    fn rsa(key: rsa::RsaPublicKey) -> Result<Self, ConfigError> {
        check_rsa_size(key.size())?;
        Ok(Self::new(Verifying::Rsa(key), JwsAlgorithm::RS256, None))
    }

    /// Reads a PEM public key: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`: RSA, P-256 or Ed25519)
    /// or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        let pem = pem.trim();
        if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            let key = rsa::RsaPublicKey::from_pkcs1_pem(pem)
                .map_err(|_| invalid("not a valid PKCS#1 RSA public key"))?;
            return Self::rsa(key);
        }
        if let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(pem) {
            return Self::rsa(key);
        }
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::new(Verifying::P256(key), JwsAlgorithm::ES256, None));
        }
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::new(Verifying::Ed25519(key), JwsAlgorithm::EdDSA, None));
        }
        Err(invalid("not a PEM public key of RSA, P-256 or Ed25519"))
    }

    /// Reads a public JWK (RFC 7517): `kty` `RSA` (`n`, `e`), `EC` with `crv` `P-256` (`x`, `y`)
    /// or `OKP` with `crv` `Ed25519` (`x`). Its `kid` becomes the key's identifier; its `alg`, if
    /// present, must suit the key.
    pub fn from_jwk(jwk: &str) -> Result<Self, ConfigError> {
        let jwk: Jwk = serde_json::from_str(jwk).map_err(|_| invalid("not a JSON Web Key"))?;
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => {
                let n = rsa::BigUint::from_bytes_be(&decode(&jwk.n, "n")?);
                let e = rsa::BigUint::from_bytes_be(&decode(&jwk.e, "e")?);
                let key =
                    rsa::RsaPublicKey::new(n, e).map_err(|_| invalid("an RSA JWK that is not a key"))?;
                Self::rsa(key)?
            }
            ("EC", Some("P-256")) => {
                let (x, y) = (decode(&jwk.x, "x")?, decode(&jwk.y, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(invalid("a P-256 JWK's `x` and `y` are 32 bytes each"));
                }
                let point = p256::EncodedPoint::from_affine_coordinates(
                    p256::FieldBytes::from_slice(&x),
                    p256::FieldBytes::from_slice(&y),
                    false,
                );
                let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .map_err(|_| invalid("a P-256 JWK whose point is not on the curve"))?;
                Self::new(Verifying::P256(key), JwsAlgorithm::ES256, None)
            }
            ("OKP", Some("Ed25519")) => {
                let x: [u8; 32] = decode(&jwk.x, "x")?
                    .try_into()
                    .map_err(|_| invalid("an Ed25519 JWK's `x` is 32 bytes"))?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| invalid("an Ed25519 JWK whose `x` is not a point"))?;
                Self::new(Verifying::Ed25519(key), JwsAlgorithm::EdDSA, None)
            }
            _ => return Err(invalid("a JWK that is not an RSA, P-256 or Ed25519 key")),
        };
        let key = match jwk.alg.as_deref() {
            None => key,
            Some(alg) => {
                let algorithm =
                    [JwsAlgorithm::RS256, JwsAlgorithm::PS256, JwsAlgorithm::ES256, JwsAlgorithm::EdDSA]
                        .into_iter()
                        .find(|a| a.as_str() == alg)
                        .ok_or_else(|| invalid("the JWK's `alg` is not supported"))?;
                key.with_algorithm(algorithm)?
            }
        };
        Ok(match jwk.kid {
            Some(kid) => key.with_key_id(kid),
            None => key,
        })
    }

    /// Checks signatures made with `algorithm` instead of the key's default: `PS256` (or
    /// `RS256`) for an RSA key. Any other choice is refused.
    pub fn with_algorithm(mut self, algorithm: JwsAlgorithm) -> Result<Self, ConfigError> {
        let suits = match &*self.key {
            Verifying::Rsa(_) => matches!(algorithm, JwsAlgorithm::RS256 | JwsAlgorithm::PS256),
            Verifying::P256(_) => algorithm == JwsAlgorithm::ES256,
            Verifying::Ed25519(_) => algorithm == JwsAlgorithm::EdDSA,
        };
        if !suits {
            return Err(invalid(format!("{algorithm} cannot be used with this key")));
        }
        self.algorithm = algorithm;
        Ok(self)
    }

    /// The key's identifier (`kid`).
    #[must_use]
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The one algorithm whose signatures this key checks.
    pub fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    /// The key's identifier, if it has one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The key as a public JWK (RFC 7517), with `alg`, `use` `sig` and its `kid`: what a
    /// server's client registration (`jwks`) or a JWKS document holds.
    pub fn to_jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &*self.key {
            Verifying::Rsa(key) => {
                json!({ "kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be()) })
            }
            Verifying::P256(key) => {
                let point = key.to_encoded_point(false);
                let (x, y) = (point.x().map(|x| b64(x)), point.y().map(|y| b64(y)));
                json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })
            }
            Verifying::Ed25519(key) => json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(key.as_bytes()) }),
        };
        if let Some(object) = jwk.as_object_mut() {
            object.insert("alg".into(), self.algorithm.as_str().into());
            object.insert("use".into(), "sig".into());
            if let Some(kid) = &self.key_id {
                object.insert("kid".into(), kid.as_str().into());
            }
        }
        jwk
    }

    /// Whether `signature` is this key's signature of `signing_input` with the key's
    /// [algorithm](Self::algorithm). Compare a JWS header's `alg` with that algorithm first:
    /// this checks only the signature.
    #[must_use]
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match (&*self.key, self.algorithm) {
            (Verifying::Rsa(key), JwsAlgorithm::RS256) => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|s| {
                    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
                        .verify(signing_input, &s)
                        .is_ok()
                }),
            (Verifying::Rsa(key), JwsAlgorithm::PS256) => {
                rsa::pss::Signature::try_from(signature).is_ok_and(|s| {
                    rsa::pss::VerifyingKey::<sha2::Sha256>::new(key.clone()).verify(signing_input, &s).is_ok()
                })
            }
            (Verifying::P256(key), JwsAlgorithm::ES256) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(signing_input, &s).is_ok()),
            (Verifying::Ed25519(key), JwsAlgorithm::EdDSA) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify_strict(signing_input, &s).is_ok()),
            _ => false,
        }
    }
}

#[cfg(test)]
#[cfg(feature = "signing")]
mod tests {
    use super::*;
    use crate::signing::{JwtSigner as _, PrivateKey};

    fn sign(key: &PrivateKey, input: &[u8]) -> Vec<u8> {
        futures_lite::future::block_on(key.sign(input)).unwrap()
    }

    #[test]
    fn every_generated_key_verifies_its_own_signatures_through_its_jwk_and_no_other() {
        let algorithms = [JwsAlgorithm::RS256, JwsAlgorithm::PS256, JwsAlgorithm::ES256, JwsAlgorithm::EdDSA];
        let keys: Vec<PrivateKey> = algorithms
            .into_iter()
            .map(|alg| PrivateKey::generate(alg).unwrap().with_key_id(alg.as_str()))
            .collect();
        for key in &keys {
            let signature = sign(key, b"header.claims");
            let public = PublicKey::from_jwk(&key.public_key().to_jwk().to_string()).unwrap();
            assert_eq!((public.algorithm(), public.key_id()), (key.algorithm(), key.key_id()));
            assert!(public.verify(b"header.claims", &signature), "{public:?}");
            assert!(!public.verify(b"header.claimz", &signature), "{public:?}");
            for other in keys.iter().filter(|other| other.key_id() != key.key_id()) {
                assert!(!other.public_key().verify(b"header.claims", &signature), "{other:?} took {key:?}'s");
            }
        }
    }

    #[test]
    fn public_keys_read_from_pem_and_rfc_8037_jwk() {
        let ed = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let public = PublicKey::from_jwk(ed).unwrap();
        let signature = URL_SAFE_NO_PAD
            .decode("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
            .unwrap();
        assert!(public.verify(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc", &signature));
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----";
        assert_eq!(PublicKey::from_pem(pem).unwrap().to_jwk()["x"], public.to_jwk()["x"]);
        for bad in [
            r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#,
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
            r#"{"kty":"oct","k":"AAAA"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"ES256"}"#,
        ] {
            assert_eq!(PublicKey::from_jwk(bad).unwrap_err().kind(), ConfigErrorKind::InvalidKey, "{bad}");
        }
    }
}
