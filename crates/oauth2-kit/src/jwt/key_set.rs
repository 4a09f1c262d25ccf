//! A JSON Web Key Set (RFC 7517 §5) read for checking signatures: the usable keys kept, the
//! others skipped.

use serde_json::Value;

use crate::decode::DecodeError;
use crate::signing::{JwsAlgorithm, PublicKey};

/// The most keys read from one set; more are ignored (a set has a handful).
pub(crate) const MAX_KEYS: usize = 100;

/// The most keys tried for a token whose header names no `kid`.
const MAX_TRIED_WITHOUT_KID: usize = 4;

/// The signing keys of a key set.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    key: PublicKey,
    /// Whether the JWK named its algorithm (`alg`): then only that one is accepted.
    algorithm_fixed: bool,
}

/// What a key set has for a token's `kid` and algorithm.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The keys to try (one, when the token names a `kid`).
    Found(Vec<PublicKey>),
    /// The set has a key with this `kid`, for another algorithm.
    WrongAlgorithm,
    /// The set has no key with this `kid` (or, for a token without one, no key for its
    /// algorithm).
    Unknown,
}

impl KeySet {
    /// Reads a key set: `keys`, an array of JWKs. Keys meant for encryption (`use` other than
    /// `sig`, `key_ops` without `verify`), of a type or curve this library cannot check, with
    /// private members, or too short (RSA under 2048 bits) are skipped; a set left with no key
    /// is an error.
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        let document: Value = serde_json::from_slice(body)
            .map_err(|e| DecodeError::new(None, format!("the key set is not JSON: {e}")))?;
        let Some(keys) = document.get("keys").and_then(Value::as_array) else {
            return Err(DecodeError::new(Some("keys"), "a key set must have a `keys` array"));
        };
        let mut set = Self::default();
        let mut skipped = 0usize;
        for jwk in keys.iter().take(MAX_KEYS) {
            match Self::entry(jwk) {
                Some(entry) => set.keys.push(entry),
                None => skipped += 1,
            }
        }
        if skipped > 0 || keys.len() > MAX_KEYS {
            tracing::debug!(kept = set.keys.len(), skipped, listed = keys.len(), "key set read");
        }
        if set.keys.is_empty() {
            return Err(DecodeError::new(Some("keys"), "the key set holds no usable signing key"));
        }
        Ok(set)
    }

    fn entry(jwk: &Value) -> Option<Entry> {
        let object = jwk.as_object()?;
        if object.get("use").is_some_and(|value| value != "sig") {
            return None;
        }
        if let Some(ops) = object.get("key_ops") {
            if !ops.as_array().is_some_and(|ops| ops.iter().any(|op| op == "verify")) {
                return None;
            }
        }
        // A published private key is a server's mistake, not a key to trust.
        if ["d", "p", "q", "k"].iter().any(|member| object.contains_key(*member)) {
            return None;
        }
        let key = PublicKey::from_jwk(&jwk.to_string()).ok()?;
        Some(Entry { key, algorithm_fixed: object.contains_key("alg") })
    }

    /// The keys to try for a token with `kid` (if it names one) signed with `algorithm`.
    pub(crate) fn lookup(&self, kid: Option<&str>, algorithm: JwsAlgorithm) -> Lookup {
        let suited = |entry: &Entry| -> Option<PublicKey> {
            if entry.algorithm_fixed {
                (entry.key.algorithm() == algorithm).then(|| entry.key.clone())
            } else {
                entry.key.clone().with_algorithm(algorithm).ok()
            }
        };
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|entry| entry.key.key_id() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Lookup::Unknown;
                }
                match named.find_map(suited) {
                    Some(key) => Lookup::Found(vec![key]),
                    None => Lookup::WrongAlgorithm,
                }
            }
            None => {
                let keys: Vec<PublicKey> =
                    self.keys.iter().filter_map(suited).take(MAX_TRIED_WITHOUT_KID).collect();
                if keys.is_empty() { Lookup::Unknown } else { Lookup::Found(keys) }
            }
        }
    }

    /// How many keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
#[cfg(feature = "signing")]
mod tests {
    use super::*;
    use crate::signing::PrivateKey;

    fn jwk(alg: JwsAlgorithm, kid: &str) -> Value {
        PrivateKey::generate(alg).unwrap().with_key_id(kid).public_key().to_jwk()
    }

    #[test]
    fn keeps_signing_keys_and_finds_them_by_kid_and_algorithm() {
        let mut rsa_without_alg = jwk(JwsAlgorithm::RS256, "rsa");
        rsa_without_alg.as_object_mut().unwrap().remove("alg");
        let mut encryption = jwk(JwsAlgorithm::ES256, "enc");
        encryption["use"] = "enc".into();
        let mut private = jwk(JwsAlgorithm::ES256, "private");
        private["d"] = "AAAA".into();
        let set = serde_json::json!({ "keys": [
            rsa_without_alg, jwk(JwsAlgorithm::ES256, "ec"), encryption, private,
            { "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" },
            { "kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA", "kid": "p384" },
            "not an object",
        ]});
        let set = KeySet::from_json(set.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 2);
        assert!(
            matches!(set.lookup(Some("ec"), JwsAlgorithm::ES256), Lookup::Found(keys) if keys.len() == 1)
        );
        assert!(matches!(set.lookup(Some("ec"), JwsAlgorithm::RS256), Lookup::WrongAlgorithm));
        // An RSA JWK without `alg` serves RS256 and PS256 alike.
        for alg in [JwsAlgorithm::RS256, JwsAlgorithm::PS256] {
            assert!(
                matches!(set.lookup(Some("rsa"), alg), Lookup::Found(keys) if keys[0].algorithm() == alg)
            );
        }
        for unknown in ["enc", "private", "hmac", "p384", "other"] {
            assert!(matches!(set.lookup(Some(unknown), JwsAlgorithm::ES256), Lookup::Unknown), "{unknown}");
        }
        assert!(matches!(set.lookup(None, JwsAlgorithm::ES256), Lookup::Found(keys) if keys.len() == 1));
        assert!(matches!(set.lookup(None, JwsAlgorithm::EdDSA), Lookup::Unknown));
    }

    #[test]
    fn a_set_without_usable_keys_is_an_error() {
        for body in
            [r#"{"keys":[]}"#, r#"{"keys":[{"kty":"oct","k":"AAAA"}]}"#, r#"{"nokeys":1}"#, "[]", "<html>"]
        {
            assert!(KeySet::from_json(body.as_bytes()).is_err(), "{body}");
        }
    }
}
