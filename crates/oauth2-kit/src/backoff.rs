//! The delay between attempts, shared by the token requests' retries and the caches' background
//! refreshes.

use std::time::Duration;

/// `initial` doubled `doublings` times, capped at `max`, then scaled by `0.5 + jitter / 2`
/// ("equal jitter": between half and all of it, `jitter` in `[0, 1)`, clamped), and never
/// shorter than the server's `Retry-After`. Saturates instead of overflowing, and a NaN jitter
/// reads as none.
pub(crate) fn equal_jitter(
    initial: Duration,
    max: Duration,
    doublings: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let capped = initial.saturating_mul(2u32.saturating_pow(doublings.min(31))).min(max);
    let jitter = if jitter.is_nan() { 0.0 } else { jitter.clamp(0.0, 1.0) };
    // Not `mul_f64`, which panics on an overflow; the cap is the fallback.
    let jittered = Duration::try_from_secs_f64(capped.as_secs_f64() * (0.5 + jitter / 2.0))
        .unwrap_or(capped)
        .min(capped);
    jittered.max(retry_after.unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn doubles_up_to_the_cap_with_equal_jitter() {
        let max = Duration::from_secs(30);
        assert_eq!(equal_jitter(S, max, 0, 1.0, None), S);
        assert_eq!(equal_jitter(S, max, 0, 0.0, None), S / 2);
        assert_eq!(equal_jitter(S, max, 3, 1.0, None), 8 * S);
        assert_eq!(equal_jitter(S, max, 10, 1.0, None), max);
        assert_eq!(equal_jitter(S, max, u32::MAX, 0.0, None), max / 2);
        assert_eq!(equal_jitter(Duration::MAX, Duration::MAX, 40, 1.0, None), Duration::MAX);
    }

    #[test]
    fn never_shorter_than_retry_after_and_a_nan_jitter_is_none() {
        let max = Duration::from_secs(30);
        assert_eq!(equal_jitter(S, max, 0, 0.0, Some(7 * S)), 7 * S);
        assert_eq!(equal_jitter(S, max, 0, f64::NAN, None), S / 2);
        assert_eq!(equal_jitter(S, max, 0, 5.0, None), S);
    }
}
