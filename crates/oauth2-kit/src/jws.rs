//! The JWS compact serialization (RFC 7515 §7.1), read: three base64url parts, the header
//! decoded, the signature checked with a key, then the claims decoded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::JwtError;
use crate::signing::{JwsAlgorithm, PublicKey};

/// The algorithms a public key can check. `none` and the HMAC algorithms are never among them.
pub(crate) const ASYMMETRIC: [JwsAlgorithm; 4] =
    [JwsAlgorithm::RS256, JwsAlgorithm::PS256, JwsAlgorithm::ES256, JwsAlgorithm::EdDSA];

/// The asymmetric algorithms a server's metadata lists (`*_signing_alg_values_supported`), or
/// all of them when it lists none (the keys of its key set then decide).
pub(crate) fn advertised(names: Option<&[String]>) -> Vec<JwsAlgorithm> {
    match names {
        Some(names) => {
            ASYMMETRIC.into_iter().filter(|alg| names.iter().any(|name| name == alg.as_str())).collect()
        }
        None => ASYMMETRIC.to_vec(),
    }
}

/// The JOSE header members this library reads; others are ignored, a repeated one refused.
#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    #[serde(default)]
    pub(crate) typ: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
    /// The signer's public key, in a DPoP proof.
    #[serde(default)]
    pub(crate) jwk: Option<serde_json::Value>,
}

/// A compact JWS, split and its header read; nothing checked yet. `Debug` shows the header's
/// `alg`, `kid` and `typ`, never the token.
pub(crate) struct Compact<'a> {
    pub(crate) header: Header,
    /// `base64url(header) "." base64url(payload)`: what was signed.
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

impl std::fmt::Debug for Compact<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compact")
            .field("alg", &self.header.alg)
            .field("kid", &self.header.kid)
            .field("typ", &self.header.typ)
            .finish_non_exhaustive()
    }
}

impl<'a> Compact<'a> {
    /// Splits `token` (at most `limit` bytes) and reads its header.
    pub(crate) fn parse(token: &'a str, limit: usize) -> Result<Self, JwtError> {
        if token.len() > limit {
            return Err(JwtError::TooLarge { limit });
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(JwtError::Malformed)?;
        if payload.contains('.') {
            // Five parts: an encrypted JWT (JWE), or garbage.
            return Err(JwtError::Malformed);
        }
        let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
        if header.crit.is_some() {
            return Err(JwtError::UnsupportedCritical);
        }
        Ok(Self { header, signing_input, payload, signature: decode(signature)? })
    }

    /// The header's `alg`, if it is one of `allowed`.
    pub(crate) fn algorithm(&self, allowed: &[JwsAlgorithm]) -> Result<JwsAlgorithm, JwtError> {
        allowed
            .iter()
            .copied()
            .find(|alg| alg.as_str() == self.header.alg)
            .ok_or(JwtError::AlgorithmNotAllowed)
    }

    /// Whether the header's `typ` is `expected` (a media type, compared without case and with
    /// or without its `application/` prefix, RFC 7515 §4.1.9).
    pub(crate) fn has_type(&self, expected: &str) -> bool {
        self.header.typ.as_deref().is_some_and(|typ| {
            let typ = match typ.get(..12) {
                Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..).unwrap_or(""),
                _ => typ,
            };
            typ.eq_ignore_ascii_case(expected)
        })
    }

    /// Whether one of `keys` (already chosen for the header's algorithm) signed the token.
    pub(crate) fn verify(&self, keys: &[PublicKey]) -> Result<(), JwtError> {
        if keys.iter().any(|key| key.verify(self.signing_input.as_bytes(), &self.signature)) {
            Ok(())
        } else {
            Err(JwtError::BadSignature)
        }
    }

    /// The signing input and the signature, to check with a key the caller picked.
    pub(crate) fn signed(&self) -> (&[u8], &[u8]) {
        (self.signing_input.as_bytes(), &self.signature)
    }

    /// The claims, decoded as `T` (call after [`verify`](Self::verify)).
    pub(crate) fn claims<T: DeserializeOwned>(&self) -> Result<T, JwtError> {
        serde_json::from_slice(&decode(self.payload)?).map_err(|_| JwtError::Malformed)
    }
}

/// One base64url part, unpadded as JWS writes it.
fn decode(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn splits_and_refuses_what_is_not_a_compact_jws() {
        let token =
            format!("{}.{}.{}", b64(r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#), b64("{}"), b64("sig"));
        let jws = Compact::parse(&token, 1000).unwrap();
        assert_eq!((jws.header.alg.as_str(), jws.header.kid.as_deref()), ("ES256", Some("k1")));
        assert!(jws.has_type("at+jwt") && jws.has_type("AT+JWT"));
        assert!(!jws.has_type("jwt"));
        assert_eq!(jws.algorithm(&ASYMMETRIC).unwrap(), JwsAlgorithm::ES256);
        assert!(matches!(jws.algorithm(&[JwsAlgorithm::RS256]), Err(JwtError::AlgorithmNotAllowed)));
        assert!(matches!(Compact::parse(&token, 10), Err(JwtError::TooLarge { limit: 10 })));

        let typed = format!("{}.{}.", b64(r#"{"alg":"RS256","typ":"application/at+JWT"}"#), b64("{}"));
        assert!(Compact::parse(&typed, 1000).unwrap().has_type("at+jwt"));

        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert!(matches!(
            Compact::parse(&none, 1000).unwrap().algorithm(&ASYMMETRIC),
            Err(JwtError::AlgorithmNotAllowed)
        ));
        let hs = format!("{}.{}.", b64(r#"{"alg":"HS256"}"#), b64("{}"));
        assert!(matches!(
            Compact::parse(&hs, 1000).unwrap().algorithm(&ASYMMETRIC),
            Err(JwtError::AlgorithmNotAllowed)
        ));

        let crit = format!("{}.{}.", b64(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#), b64("{}"));
        assert!(matches!(Compact::parse(&crit, 1000), Err(JwtError::UnsupportedCritical)));
        let twice = format!("{}.{}.", b64(r#"{"alg":"none","alg":"ES256"}"#), b64("{}"));
        for bad in [
            "a.b".to_owned(),
            "a.b.c.d.e".to_owned(),
            "a.b.c.d".to_owned(),
            format!("{}.{}.!!", b64(r#"{"alg":"ES256"}"#), b64("{}")),
            format!("{}=.{}.", b64(r#"{"alg":"ES256"}"#), b64("{}")),
            format!("{}.{}.", b64("[]"), b64("{}")),
            format!("{}.{}.", b64(r#"{"kid":"k"}"#), b64("{}")),
            twice,
        ] {
            assert!(matches!(Compact::parse(&bad, 1000), Err(JwtError::Malformed)), "{bad}");
        }
    }
}
