//! The public half of a DPoP key as a JWK: checked to be public, reduced to the members that
//! identify it, and hashed into its thumbprint (RFC 7638).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::Digest as _;

use crate::config_error::{ConfigError, ConfigErrorKind};
use crate::signing::JwsAlgorithm;

/// Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037).
const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/// A public JWK reduced to the members RFC 7638 §3.2 requires for its key type, in the
/// lexicographic order the thumbprint hashes them in (which `serde_json`'s sorted map keeps).
pub(super) struct PublicJwk {
    required: Map<String, Value>,
}

impl PublicJwk {
    /// The key of `jwk`, which must be public and of the type `algorithm` signs with.
    pub(super) fn new(jwk: &Value, algorithm: JwsAlgorithm) -> Result<Self, ConfigError> {
        let object = jwk.as_object().ok_or_else(|| invalid("the DPoP public key is not a JSON object"))?;
        if PRIVATE_MEMBERS.iter().any(|member| object.contains_key(*member)) {
            return Err(invalid("the DPoP public key has private members: give only the public JWK"));
        }
        let (kty, curve, members): (&str, Option<&str>, &[&str]) = match algorithm {
            JwsAlgorithm::RS256 | JwsAlgorithm::PS256 => ("RSA", None, &["e", "kty", "n"]),
            JwsAlgorithm::ES256 => ("EC", Some("P-256"), &["crv", "kty", "x", "y"]),
            JwsAlgorithm::EdDSA => ("OKP", Some("Ed25519"), &["crv", "kty", "x"]),
            JwsAlgorithm::HS256 => {
                return Err(invalid("a DPoP key is asymmetric: HS256 cannot prove possession"));
            }
        };
        let text = |name: &str| object.get(name).and_then(Value::as_str);
        if text("kty") != Some(kty) || curve.is_some_and(|curve| text("crv") != Some(curve)) {
            return Err(invalid(format!(
                "the DPoP public key is not a{} {kty} key, which {algorithm} needs",
                if kty == "EC" { "n" } else { "" }
            )));
        }
        let mut required = Map::new();
        for name in members {
            let value = text(name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| invalid(format!("the DPoP public key has no `{name}`")))?;
            required.insert((*name).to_owned(), Value::String(value.to_owned()));
        }
        Ok(Self { required })
    }

    /// The JWK as the proof's header carries it: the required members only.
    pub(super) fn members(&self) -> &Map<String, Value> {
        &self.required
    }

    /// The JWK SHA-256 thumbprint (RFC 7638 §3), base64url: the required members, sorted, as
    /// JSON without whitespace.
    pub(super) fn thumbprint(&self) -> String {
        let canonical = serde_json::to_vec(&self.required).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical))
    }
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidKey, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_thumbprint_of_rfc_7638_section_3_1() {
        // The RSA key of RFC 7638 §3.1, with members the thumbprint ignores.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let key = PublicJwk::new(&jwk, JwsAlgorithm::RS256).unwrap();
        assert_eq!(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(key.members().keys().collect::<Vec<_>>(), ["e", "kty", "n"]);
    }

    #[test]
    fn private_symmetric_and_mismatched_keys_are_refused() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"});
        assert!(PublicJwk::new(&ec, JwsAlgorithm::ES256).is_ok());
        let mut private = ec.clone();
        private["d"] = json!("secret");
        let error = PublicJwk::new(&private, JwsAlgorithm::ES256).err().unwrap();
        assert_eq!(error.kind(), ConfigErrorKind::InvalidKey);
        assert!(!error.to_string().contains("secret"));
        assert!(PublicJwk::new(&ec, JwsAlgorithm::RS256).is_err(), "an EC key for RS256");
        assert!(PublicJwk::new(&ec, JwsAlgorithm::HS256).is_err());
        assert!(
            PublicJwk::new(&json!({"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}), JwsAlgorithm::ES256)
                .is_err()
        );
        assert!(
            PublicJwk::new(&json!({"kty": "EC", "crv": "P-256", "x": "a"}), JwsAlgorithm::ES256).is_err()
        );
        assert!(PublicJwk::new(&json!("not an object"), JwsAlgorithm::ES256).is_err());
    }
}
