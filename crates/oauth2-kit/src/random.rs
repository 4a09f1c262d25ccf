//! Unguessable values (PKCE verifiers, `state`, `nonce`) from the operating system's random
//! source.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroize as _;

use crate::config_error::{ConfigError, ConfigErrorKind};

/// `bytes` random bytes, base64url-encoded without padding (RFC 4648 §5): only unreserved URL
/// characters, so the value needs no escaping in a query or a form.
pub(crate) fn random_urlsafe(bytes: usize) -> Result<String, ConfigError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| {
        ConfigError::new(
            ConfigErrorKind::RandomnessUnavailable,
            format!("the operating system's random source failed: {e}"),
        )
    })?;
    let encoded = URL_SAFE_NO_PAD.encode(&buffer);
    buffer.zeroize();
    Ok(encoded)
}

/// A number in `[0, 1)` from the operating system's random source, for jitter (0.5 if the
/// source fails: spreading load is all it is for).
pub(crate) fn unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    unit_from(u64::from_le_bytes(bytes))
}

/// A cheap stream of numbers in `[0, 1)` (splitmix64) for jitter on hot paths, where a system
/// call per draw would cost more than the rest of the work. Not for anything unguessable.
#[derive(Debug)]
pub(crate) struct JitterSource(AtomicU64);

impl JitterSource {
    /// A stream starting from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    /// The next number.
    pub(crate) fn next(&self) -> f64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self.0.fetch_add(GAMMA, Ordering::Relaxed).wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        unit_from(z ^ (z >> 31))
    }
}

/// The top 53 bits of `bits` as a number in `[0, 1)`.
fn unit_from(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
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

    #[test]
    fn units_are_in_range_and_spread() {
        let source = JitterSource::new(42);
        let draws: Vec<f64> = (0..1000).map(|_| source.next()).chain((0..100).map(|_| unit())).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.5).count();
        assert!((400..700).contains(&low), "{low} of {} below one half", draws.len());
        assert!((unit_from(u64::MAX) - 1.0).abs() < 1e-15 && unit_from(u64::MAX) < 1.0);
    }
}
