//! Tokens at rest: ChaCha20-Poly1305 with the Redis key as associated data, so that a value
//! copied under another key does not decrypt.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use zeroize::Zeroizing;

/// The format of a stored value: this byte, a 12-byte nonce, the ciphertext and its tag.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// A 256-bit key that encrypts tokens in Redis. Every instance of a fleet needs the same one;
/// keep it in your secret store, not in code. `Debug` shows nothing of it; it is wiped on drop.
///
/// ```
/// use oauth2_kit_cache_redis::EncryptionKey;
///
/// // 32 random bytes, base64 (e.g. `openssl rand -base64 32`).
/// let key = EncryptionKey::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
/// assert_eq!(format!("{key:?}"), "EncryptionKey([redacted])");
/// assert!(EncryptionKey::from_base64("c2hvcnQ=").is_err());
/// # Ok::<(), oauth2_kit_cache_redis::KeyError>(())
/// ```
#[derive(Clone)]
pub struct EncryptionKey(Zeroizing<[u8; 32]>);

/// A key that is not 32 bytes of base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an encryption key is 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
pub struct KeyError;

impl EncryptionKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A key from its base64 form (standard alphabet, padded).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let decoded = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| KeyError)?);
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| KeyError)?;
        Ok(Self::from_bytes(bytes))
    }

    /// A new random key (for tests; a fleet needs one key shared by all its instances).
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|_| KeyError)?;
        Ok(Self(bytes))
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }

    /// Encrypts `plaintext` for the Redis key `key`.
    pub(crate) fn seal(&self, key: &str, plaintext: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).ok()?;
        let ciphertext = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: key.as_bytes() })
            .ok()?;
        let mut value = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        value.push(VERSION);
        value.extend_from_slice(&nonce);
        value.extend_from_slice(&ciphertext);
        Some(value)
    }

    /// Decrypts a value read under the Redis key `key`; `None` if it is not one this key sealed
    /// for that Redis key (tampered, foreign, another key's, another format).
    pub(crate) fn open(&self, key: &str, value: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (&version, rest) = value.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: key.as_bytes() })
            .ok()
            .map(Zeroizing::new)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_key_and_redis_key() {
        let key = EncryptionKey::generate().unwrap();
        let sealed = key.seal("p:a", b"secret token").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open("p:a", &sealed).unwrap().as_slice(), b"secret token");
        assert!(key.open("p:b", &sealed).is_none(), "copied under another Redis key");
        assert!(EncryptionKey::generate().unwrap().open("p:a", &sealed).is_none(), "another key");
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(key.open("p:a", &tampered).is_none());
        assert!(key.open("p:a", b"").is_none());
        assert!(key.open("p:a", &[1, 2, 3]).is_none());
        assert_ne!(key.seal("p:a", b"x").unwrap(), key.seal("p:a", b"x").unwrap(), "fresh nonces");
    }
}
