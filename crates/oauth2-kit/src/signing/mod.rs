//! Signed JSON Web Tokens (RFC 7515, RFC 7519) for the client's own assertions: the signer a
//! client authenticates or proves possession with, and the compact serialization.
//!
//! A [`JwtSigner`] signs asynchronously, so a key can live in a KMS or an HSM: implement the
//! trait over its API. `PrivateKey` (feature `signing`) is the built-in signer over RustCrypto
//! for RSA (`RS256`, `PS256`), P-256 (`ES256`) and Ed25519 (`EdDSA`) keys read from PEM or JWK;
//! [`SharedSecretKey`] signs with a client secret (`HS256`, for `client_secret_jwt`).

#[cfg(feature = "signing")]
mod keys;
#[cfg(feature = "jwt")]
mod public_key;

use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac as _;
use secrecy::SecretString;

use crate::secret::ClientSecret;

#[cfg(feature = "signing")]
pub use self::keys::PrivateKey;
#[cfg(feature = "jwt")]
pub use self::public_key::PublicKey;

/// A JWS signature algorithm (RFC 7518 §3, RFC 8037).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256.
    PS256,
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
    /// HMAC with SHA-256: a shared secret, for `client_secret_jwt` only.
    HS256,
}

impl JwsAlgorithm {
    /// The name in a JWS header (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
            Self::HS256 => "HS256",
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signature could not be made: a KMS that refused or could not be reached, a key that
/// cannot sign, the random source failing. Its message must name no key material.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SigningError {
    message: String,
    #[source]
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl SigningError {
    /// An error with this message (which must not contain key material).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }

    /// The same error, with its cause (a KMS client's error, say).
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }
}

/// Signs JWS signing inputs with one key: a private key in memory (`PrivateKey`, feature
/// `signing`), a shared secret ([`SharedSecretKey`]), or a key held elsewhere (a KMS, an HSM)
/// behind your own implementation.
///
/// `sign` receives the JWS signing input (`base64url(header) "." base64url(claims)`) and returns
/// the raw signature as JWS wants it (for ECDSA, `r || s`, 64 bytes for P-256). It is called once
/// per assertion: never cache signatures.
///
/// ```
/// use oauth2_kit::signing::{JwsAlgorithm, JwtSigner, SigningError};
///
/// /// A signer whose key lives in a key management service.
/// #[derive(Debug)]
/// struct KmsSigner {
///     key_id: String,
/// }
///
/// #[oauth2_kit::async_trait]
/// impl JwtSigner for KmsSigner {
///     fn algorithm(&self) -> JwsAlgorithm {
///         JwsAlgorithm::ES256
///     }
///     fn key_id(&self) -> Option<&str> {
///         Some(&self.key_id)
///     }
///     async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SigningError> {
///         // let signature = kms.sign(&self.key_id, signing_input).await.map_err(..)?;
///         # let _ = signing_input;
///         Err(SigningError::new("not connected to a KMS in this example"))
///     }
/// }
/// ```
#[async_trait]
pub trait JwtSigner: fmt::Debug + Send + Sync {
    /// The algorithm of every signature (`alg` in the header).
    fn algorithm(&self) -> JwsAlgorithm;

    /// The key's identifier (`kid` in the header), if it has one the server knows it by.
    fn key_id(&self) -> Option<&str>;

    /// The signature of `signing_input`.
    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SigningError>;
}

/// A client secret as an `HS256` key, for `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect
/// Core §9). The secret is zeroized on drop and never shown.
///
/// ```
/// use oauth2_kit::signing::{JwsAlgorithm, JwtSigner, SharedSecretKey};
///
/// let key = SharedSecretKey::new("a-client-secret-of-at-least-32-bytes!");
/// assert_eq!(key.algorithm(), JwsAlgorithm::HS256);
/// assert!(!format!("{key:?}").contains("client-secret"));
/// ```
#[derive(Clone)]
pub struct SharedSecretKey {
    secret: ClientSecret,
}

impl SharedSecretKey {
    /// The key made of `secret`'s bytes.
    pub fn new(secret: impl Into<ClientSecret>) -> Self {
        Self { secret: secret.into() }
    }
}

impl fmt::Debug for SharedSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSecretKey").field("secret", &self.secret).finish()
    }
}

#[async_trait]
impl JwtSigner for SharedSecretKey {
    fn algorithm(&self) -> JwsAlgorithm {
        JwsAlgorithm::HS256
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SigningError> {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .map_err(|_| SigningError::new("an HMAC key of this length cannot be used"))?;
        mac.update(signing_input);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

/// A JWS header (RFC 7515 §4.1) as this crate writes it.
#[derive(serde::Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// A JWS in compact serialization (RFC 7515 §7.1): the header (`alg`, `typ` and the signer's
/// `kid`), `claims` as given, and `signer`'s signature. Kept as a secret: an assertion is a
/// credential until it expires.
pub(crate) async fn compact<C: serde::Serialize + ?Sized>(
    signer: &dyn JwtSigner,
    typ: &str,
    claims: &C,
) -> Result<SecretString, SigningError> {
    let header = Header { alg: signer.algorithm().as_str(), typ, kid: signer.key_id() };
    let header = serde_json::to_vec(&header)
        .map_err(|e| SigningError::new("cannot encode the header").with_source(e))?;
    let claims = serde_json::to_vec(claims)
        .map_err(|e| SigningError::new("cannot encode the claims").with_source(e))?;
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut token);
    let signature = signer.sign(token.as_bytes()).await?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(SecretString::from(token))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn hs256_matches_rfc_7515_appendix_a1() {
        // RFC 7515 A.1: the HMAC key and signing input given there, and the signature.
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(input.as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn a_compact_jws_has_the_header_claims_and_a_verifiable_signature() {
        let key = SharedSecretKey::new("0123456789abcdef0123456789abcdef");
        let claims = serde_json::json!({"iss": "client", "n": 1});
        let jws = futures_lite::future::block_on(compact(&key, "JWT", &claims)).unwrap();
        let parts: Vec<&str> = jws.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
        let decoded: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(decoded, claims);
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(b"0123456789abcdef0123456789abcdef").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    }
}
