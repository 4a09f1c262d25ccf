//! Unguessable values (PKCE verifiers, `state`, `nonce`) from the operating system's random
//! source.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroize as _;

use crate::error::{Error, Result};

/// `bytes` random bytes, base64url-encoded without padding (RFC 4648 §5): only unreserved URL
/// characters, so the value needs no escaping in a query or a form.
pub(crate) fn random_urlsafe(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|e| Error::config(format!("the operating system's random source failed: {e}")))?;
    let encoded = URL_SAFE_NO_PAD.encode(&buffer);
    buffer.zeroize();
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_url_safe_and_differ() {
        let a = random_urlsafe(32).unwrap();
        let b = random_urlsafe(32).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
    }
}
