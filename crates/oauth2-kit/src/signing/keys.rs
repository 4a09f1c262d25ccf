//! Private keys in memory, over RustCrypto: RSA (`RS256`, `PS256`), P-256 (`ES256`) and Ed25519
//! (`EdDSA`), read from PEM (PKCS#8, or PKCS#1 for RSA) or from a JWK. Every key type zeroizes
//! its secret on drop.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use serde::Deserialize;
use zeroize::{Zeroize as _, Zeroizing};

use super::public_key::{PublicKey, Verifying, check_rsa_size, decode, describe, invalid};
use super::{JwsAlgorithm, JwtSigner, SigningError};
use crate::config_error::ConfigError;

/// A private key in memory, the built-in [`JwtSigner`]: RSA (`RS256` by default, or `PS256`),
/// P-256 (`ES256`) or Ed25519 (`EdDSA`). Read from PEM or from a JWK; never shown in `Debug`,
/// zeroized on drop. Cheap to clone (the key is shared).
///
/// ```
/// use oauth2_kit::signing::{JwsAlgorithm, JwtSigner, PrivateKey};
///
/// # let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
/// let key = PrivateKey::from_pem(pem)?.with_key_id("2026-12");
/// assert_eq!(key.algorithm(), JwsAlgorithm::EdDSA);
/// assert_eq!(key.key_id(), Some("2026-12"));
/// assert!(!format!("{key:?}").contains("MC4CAQ"));
/// # Ok::<(), oauth2_kit::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct PrivateKey {
    key: Arc<Key>,
    algorithm: JwsAlgorithm,
    key_id: Option<String>,
}

/// The key, prepared for its algorithm (an RSA key's signer is built once, not per signature).
enum Key {
    Rs256(rsa::pkcs1v15::SigningKey<sha2::Sha256>),
    Ps256(rsa::pss::BlindedSigningKey<sha2::Sha256>),
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &*self.key {
            Key::Rs256(_) | Key::Ps256(_) => "RSA",
            Key::P256(_) => "P-256",
            Key::Ed25519(_) => "Ed25519",
        };
        describe(f, "PrivateKey", kind, self.algorithm, self.key_id.as_deref())
    }
}

impl PrivateKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`: RSA, P-256 or Ed25519) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`). The algorithm follows the key: `RS256` for RSA (see
    /// [`with_algorithm`](Self::with_algorithm) for `PS256`), `ES256`, `EdDSA`. Encrypted keys
    /// and other curves are refused; the error names no part of the key.
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        let pem = pem.trim();
        if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|_| invalid("not a valid PKCS#1 RSA private key"))?;
            return Self::rsa(key);
        }
        if !pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            return Err(invalid(
                "a PEM private key must be PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 RSA (BEGIN RSA PRIVATE KEY)",
            ));
        }
        if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            return Self::rsa(key);
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self::new(Key::P256(key), JwsAlgorithm::ES256));
        }
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self::new(Key::Ed25519(key), JwsAlgorithm::EdDSA));
        }
        Err(invalid("a PKCS#8 private key that is not RSA, P-256 or Ed25519 (or not a valid key)"))
    }

    /// Reads a private JWK (RFC 7517): `kty` `RSA` (`n`, `e`, `d`, `p`, `q`), `EC` with `crv`
    /// `P-256` (`d`), or `OKP` with `crv` `Ed25519` (`d`). Its `kid` becomes the key's
    /// identifier; its `alg`, if present, must suit the key (`RS256` or `PS256` for RSA).
    pub fn from_jwk(jwk: &str) -> Result<Self, ConfigError> {
        let jwk: Jwk = serde_json::from_str(jwk).map_err(|_| invalid("not a JSON Web Key"))?;
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => {
                let int = |value: &Option<String>, name: &str| -> Result<rsa::BigUint, ConfigError> {
                    let bytes = Zeroizing::new(decode(value, name)?);
                    Ok(rsa::BigUint::from_bytes_be(&bytes))
                };
                let key = rsa::RsaPrivateKey::from_components(
                    int(&jwk.n, "n")?,
                    int(&jwk.e, "e")?,
                    int(&jwk.d, "d")?,
                    vec![int(&jwk.p, "p")?, int(&jwk.q, "q")?],
                )
                .map_err(|_| invalid("an RSA JWK whose members do not form a key"))?;
                key.validate().map_err(|_| invalid("an RSA JWK whose members do not form a key"))?;
                Self::rsa(key)?
            }
            ("EC", Some("P-256")) => {
                let d = Zeroizing::new(decode(&jwk.d, "d")?);
                let key = p256::ecdsa::SigningKey::from_slice(&d)
                    .map_err(|_| invalid("a P-256 JWK whose `d` is not a private key"))?;
                Self::new(Key::P256(key), JwsAlgorithm::ES256)
            }
            ("OKP", Some("Ed25519")) => {
                let d = Zeroizing::new(decode(&jwk.d, "d")?);
                let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
                    d.as_slice().try_into().map_err(|_| invalid("an Ed25519 JWK's `d` is 32 bytes"))?,
                );
                Self::new(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&bytes)), JwsAlgorithm::EdDSA)
            }
            _ => return Err(invalid("a JWK that is not an RSA, P-256 or Ed25519 private key")),
        };
        let key = match jwk.alg.as_deref() {
            None => key,
            Some("RS256") => key.with_algorithm(JwsAlgorithm::RS256)?,
            Some("PS256") => key.with_algorithm(JwsAlgorithm::PS256)?,
            Some(alg) if alg == key.algorithm.as_str() => key,
            Some(_) => return Err(invalid("the JWK's `alg` does not suit its key, or is not supported")),
        };
        Ok(match &jwk.kid {
            Some(kid) => key.with_key_id(kid.clone()),
            None => key,
        })
    }

    /// A new random key for `algorithm`: 2048-bit RSA for `RS256` and `PS256`, P-256 for
    /// `ES256`, Ed25519 for `EdDSA`; `HS256` is refused (use a
    /// [`SharedSecretKey`](super::SharedSecretKey)). For keys a process makes for itself, and
    /// for tests; keys a server registers usually come from your key store.
    ///
    /// ```
    /// use oauth2_kit::signing::{JwsAlgorithm, JwtSigner, PrivateKey};
    ///
    /// let key = PrivateKey::generate(JwsAlgorithm::EdDSA)?;
    /// assert_eq!(key.algorithm(), JwsAlgorithm::EdDSA);
    /// # Ok::<(), oauth2_kit::signing::SigningError>(())
    /// ```
    pub fn generate(algorithm: JwsAlgorithm) -> Result<Self, SigningError> {
        let mut rng = rng()?;
        let failed = |_| SigningError::new(format!("cannot make a {algorithm} key"));
        let key = match algorithm {
            JwsAlgorithm::RS256 | JwsAlgorithm::PS256 => {
                let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(failed)?;
                Self::new(Key::Rs256(rsa::pkcs1v15::SigningKey::new(key)), JwsAlgorithm::RS256)
            }
            JwsAlgorithm::ES256 => Self::new(Key::P256(p256::ecdsa::SigningKey::random(&mut rng)), algorithm),
            JwsAlgorithm::EdDSA => {
                let mut seed = Zeroizing::new([0u8; 32]);
                rand_chacha::rand_core::RngCore::fill_bytes(&mut rng, seed.as_mut());
                Self::new(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)), algorithm)
            }
            JwsAlgorithm::HS256 => {
                return Err(SigningError::new("HS256 keys are shared secrets: use SharedSecretKey"));
            }
        };
        key.with_algorithm(algorithm).map_err(|_| SigningError::new(format!("cannot make a {algorithm} key")))
    }

    /// The public half, with this key's algorithm and identifier: what the server checks
    /// signatures with.
    pub fn public_key(&self) -> PublicKey {
        let key = match &*self.key {
            Key::Rs256(signer) => {
                Verifying::Rsa(rsa::RsaPublicKey::from(AsRef::<rsa::RsaPrivateKey>::as_ref(signer)))
            }
            Key::Ps256(signer) => {
                Verifying::Rsa(rsa::RsaPublicKey::from(AsRef::<rsa::RsaPrivateKey>::as_ref(signer)))
            }
            Key::P256(key) => Verifying::P256(*key.verifying_key()),
            Key::Ed25519(key) => Verifying::Ed25519(key.verifying_key()),
        };
        PublicKey::new(key, self.algorithm, self.key_id.clone())
    }

    fn rsa(key: rsa::RsaPrivateKey) -> Result<Self, ConfigError> {
        check_rsa_size(rsa::traits::PublicKeyParts::size(&key))?;
        Ok(Self::new(Key::Rs256(rsa::pkcs1v15::SigningKey::new(key)), JwsAlgorithm::RS256))
    }

    fn new(key: Key, algorithm: JwsAlgorithm) -> Self {
        Self { key: Arc::new(key), algorithm, key_id: None }
    }

    /// Signs with `algorithm` instead of the key's default: `PS256` (or `RS256`) for an RSA
    /// key. Any other choice is refused.
    pub fn with_algorithm(mut self, algorithm: JwsAlgorithm) -> Result<Self, ConfigError> {
        let rsa_key = match &*self.key {
            Key::Rs256(signer) => Some(AsRef::<rsa::RsaPrivateKey>::as_ref(signer)),
            Key::Ps256(signer) => Some(AsRef::<rsa::RsaPrivateKey>::as_ref(signer)),
            Key::P256(_) | Key::Ed25519(_) => None,
        };
        let key = match (rsa_key, algorithm) {
            (Some(key), JwsAlgorithm::RS256) => Key::Rs256(rsa::pkcs1v15::SigningKey::new(key.clone())),
            (Some(key), JwsAlgorithm::PS256) => Key::Ps256(rsa::pss::BlindedSigningKey::new(key.clone())),
            (None, _) if algorithm == self.algorithm => return Ok(self),
            _ => return Err(invalid(format!("{algorithm} cannot be used with this key"))),
        };
        self.key = Arc::new(key);
        self.algorithm = algorithm;
        Ok(self)
    }

    /// The identifier the server knows the key by (`kid` in every header).
    #[must_use]
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    fn sign_now(&self, input: &[u8]) -> Result<Vec<u8>, SigningError> {
        match &*self.key {
            // Blinded with a fresh random value per signature: RUSTSEC-2023-0071 is about the
            // timing of private-key operations, which blinding decorrelates from the key.
            Key::Rs256(signer) => signer
                .try_sign_with_rng(&mut rng()?, input)
                .map(|signature| signature.to_vec())
                .map_err(|_| SigningError::new("the RSA key could not sign")),
            Key::Ps256(signer) => signer
                .try_sign_with_rng(&mut rng()?, input)
                .map(|signature| signature.to_vec())
                .map_err(|_| SigningError::new("the RSA key could not sign")),
            Key::P256(key) => {
                let signature: p256::ecdsa::Signature =
                    key.try_sign(input).map_err(|_| SigningError::new("the P-256 key could not sign"))?;
                Ok(signature.to_bytes().to_vec())
            }
            Key::Ed25519(key) => Ok(key.sign(input).to_bytes().to_vec()),
        }
    }
}

/// A CSPRNG seeded from the operating system, for RSA blinding and PSS salts.
fn rng() -> Result<ChaCha20Rng, SigningError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| SigningError::new(format!("the operating system's random source failed: {e}")))?;
    let rng = ChaCha20Rng::from_seed(seed);
    seed.zeroize();
    Ok(rng)
}

#[async_trait]
impl JwtSigner for PrivateKey {
    fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.sign_now(signing_input)
    }
}

/// The members of a private JWK this crate reads; the private ones zeroized when dropped.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<String>,
    p: Option<String>,
    q: Option<String>,
}

impl Drop for Jwk {
    fn drop(&mut self) {
        self.d.zeroize();
        self.p.zeroize();
        self.q.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
    use rsa::signature::Verifier as _;

    use super::*;
    use crate::config_error::ConfigErrorKind;

    fn sign(key: &PrivateKey, input: &[u8]) -> Vec<u8> {
        futures_lite::future::block_on(key.sign(input)).unwrap()
    }

    fn test_rng() -> ChaCha20Rng {
        ChaCha20Rng::from_seed([7; 32])
    }

    #[test]
    fn ed25519_signs_as_rfc_8037_says() {
        // RFC 8037 A.1 (the key) and A.4 (the signature of this input).
        let jwk = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let key = PrivateKey::from_jwk(jwk).unwrap();
        assert_eq!(key.algorithm(), JwsAlgorithm::EdDSA);
        let signature = sign(&key, b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
        assert_eq!(
            URL_SAFE_NO_PAD.encode(signature),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    #[test]
    fn rsa_keys_from_pkcs8_pkcs1_and_jwk_sign_rs256_and_ps256() {
        let secret = rsa::RsaPrivateKey::new(&mut test_rng(), 2048).unwrap();
        let public = rsa::RsaPublicKey::from(&secret);
        let pkcs8 = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        let pkcs1 = secret.to_pkcs1_pem(LineEnding::LF).unwrap();
        let int = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        let primes = rsa::traits::PrivateKeyParts::primes(&secret);
        let jwk = serde_json::json!({
            "kty": "RSA", "kid": "rsa-1", "alg": "PS256",
            "n": int(rsa::traits::PublicKeyParts::n(&secret)),
            "e": int(rsa::traits::PublicKeyParts::e(&secret)),
            "d": int(rsa::traits::PrivateKeyParts::d(&secret)),
            "p": int(&primes[0]), "q": int(&primes[1]),
        })
        .to_string();
        let input = b"header.claims";
        for key in [PrivateKey::from_pem(&pkcs8).unwrap(), PrivateKey::from_pem(&pkcs1).unwrap()] {
            assert_eq!(key.algorithm(), JwsAlgorithm::RS256);
            let signature = rsa::pkcs1v15::Signature::try_from(sign(&key, input).as_slice()).unwrap();
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public.clone())
                .verify(input, &signature)
                .unwrap();
        }
        let key = PrivateKey::from_jwk(&jwk).unwrap();
        assert_eq!((key.algorithm(), key.key_id()), (JwsAlgorithm::PS256, Some("rsa-1")));
        let signature = rsa::pss::Signature::try_from(sign(&key, input).as_slice()).unwrap();
        rsa::pss::VerifyingKey::<sha2::Sha256>::new(public).verify(input, &signature).unwrap();
        // PSS is randomized: two signatures differ.
        assert_ne!(sign(&key, input), sign(&key, input));
        // Nothing of the key in Debug.
        let shown = format!("{key:?}");
        assert!(
            shown.contains("RSA") && !shown.contains(&int(rsa::traits::PrivateKeyParts::d(&secret))[..20])
        );
    }

    #[test]
    fn p256_keys_from_pkcs8_and_jwk_sign_es256() {
        let secret = p256::ecdsa::SigningKey::random(&mut test_rng());
        let verifying = *secret.verifying_key();
        let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "ec-1",
            "d": URL_SAFE_NO_PAD.encode(secret.to_bytes()),
        })
        .to_string();
        for key in [PrivateKey::from_pem(&pem).unwrap(), PrivateKey::from_jwk(&jwk).unwrap()] {
            assert_eq!(key.algorithm(), JwsAlgorithm::ES256);
            let raw = sign(&key, b"header.claims");
            assert_eq!(raw.len(), 64, "r || s, as JWS wants (RFC 7518 §3.4)");
            let signature = p256::ecdsa::Signature::from_slice(&raw).unwrap();
            verifying.verify(b"header.claims", &signature).unwrap();
        }
        assert_eq!(PrivateKey::from_jwk(&jwk).unwrap().key_id(), Some("ec-1"));
    }

    #[test]
    fn bad_keys_are_typed_errors_that_name_no_key_material() {
        let small = rsa::RsaPrivateKey::new(&mut test_rng(), 1024).unwrap();
        let small_pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
        let ed = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#;
        let cases = [
            PrivateKey::from_pem(&small_pem).map(drop),
            PrivateKey::from_pem(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            )
            .map(drop),
            PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----")
                .map(drop),
            PrivateKey::from_jwk(r#"{"kty":"EC","crv":"P-384","d":"AAAA"}"#).map(drop),
            PrivateKey::from_jwk(r#"{"kty":"RSA","n":"AQAB"}"#).map(drop),
            PrivateKey::from_jwk(r#"{"kty":"OKP","crv":"Ed25519","d":"c2hvcnQ"}"#).map(drop),
            PrivateKey::from_jwk(&ed.replace('}', r#","alg":"ES256"}"#)).map(drop),
            PrivateKey::from_jwk(ed).unwrap().with_algorithm(JwsAlgorithm::RS256).map(drop),
            PrivateKey::from_jwk("{").map(drop),
        ];
        for (index, case) in cases.into_iter().enumerate() {
            let error = case.unwrap_err();
            assert_eq!(error.kind(), ConfigErrorKind::InvalidKey, "{index}: {error}");
            let text = format!("{error} {error:?}");
            assert!(!text.contains("nWGxne") && !text.contains("MII"), "{index}: {text}");
        }
    }
}
