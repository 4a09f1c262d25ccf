//! Transient retries of token requests: bounded, jittered, within a total deadline, and only
//! for failures a retry can mend.

use std::time::Duration;

use http::StatusCode;

use crate::error::Error;
use crate::http::TransportErrorKind;

/// When and how often a token request is sent again.
///
/// A request is retried only after a failure that says a retry can help and that is not an
/// OAuth 2.0 error response: a connection failure, a timeout, a reset, a `5xx`, `408` or `429`
/// without an OAuth 2.0 error body. An OAuth 2.0 error (even `temporarily_unavailable`) is the
/// server's answer, and is returned as is. A refresh is retried only after failures that say
/// the server did not act on it ([`retries_unprocessed`](Self::retries_unprocessed)).
///
/// Delays: `initial_backoff` doubling up to `max_backoff`, each drawn at random in
/// `[delay/2, delay]` ("equal jitter"), never shorter than the server's `Retry-After`. No
/// attempt starts once `deadline` has passed since the first, and no sleep runs past it.
///
/// ```
/// use std::time::Duration;
/// use oauth2_kit::RetryPolicy;
///
/// let policy = RetryPolicy::default().with_max_attempts(5).with_deadline(Duration::from_secs(20));
/// assert_eq!(policy.max_attempts, 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included. Default 3.
    pub max_attempts: u32,
    /// The first delay. Default 200 ms.
    pub initial_backoff: Duration,
    /// The longest delay. Default 5 s.
    pub max_backoff: Duration,
    /// The longest time from the first attempt to the start of the last. Default 15 s.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            deadline: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// This policy with another [`max_attempts`](Self::max_attempts).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// This policy with another [`initial_backoff`](Self::initial_backoff) and
    /// [`max_backoff`](Self::max_backoff).
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// This policy with another [`deadline`](Self::deadline).
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Whether `error` may be retried under this policy.
    pub fn retries(&self, error: &Error) -> bool {
        error.oauth2().is_none() && error.is_retryable()
    }

    /// Whether `error` may be retried for a request that must not reach the server twice (a
    /// refresh: a server that rotates refresh tokens has spent the old one once it answered, and
    /// one that detects reuse revokes every token of the grant). Only failures that say the
    /// server did not act on the request: no connection was made, or `429` (without an OAuth 2.0
    /// error body). A timeout, a reset or a `5xx` may come after the server acted (a proxy
    /// answers `503` when its upstream drops a request it may have processed), and is returned
    /// as is.
    pub fn retries_unprocessed(&self, error: &Error) -> bool {
        match error {
            Error::Transport(_) => error.transport_kind() == Some(TransportErrorKind::Connect),
            Error::UnexpectedStatus { status, .. } => *status == StatusCode::TOO_MANY_REQUESTS,
            _ => false,
        }
    }

    /// The delay before retry number `retry` (1 for the first retry), with `jitter` in
    /// `[0, 1)`, never shorter than the server's `Retry-After`.
    pub fn delay(&self, retry: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        crate::backoff::equal_jitter(
            self.initial_backoff,
            self.max_backoff,
            retry.saturating_sub(1),
            jitter,
            retry_after,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_up_to_the_cap_and_honour_retry_after() {
        let p = RetryPolicy::default();
        assert!(p.delay(1, 0.999_999_999, None) <= Duration::from_millis(200));
        assert!(p.delay(1, 0.999_999_999, None) > Duration::from_millis(199));
        assert_eq!(p.delay(1, 0.0, None), Duration::from_millis(100));
        assert_eq!(p.delay(2, 0.0, None), Duration::from_millis(200));
        assert_eq!(p.delay(40, 0.0, None), Duration::from_millis(2500));
        assert_eq!(p.delay(1, 0.0, Some(Duration::from_secs(7))), Duration::from_secs(7));
    }

    #[test]
    fn odd_jitter_and_huge_delays_do_not_panic() {
        let p = RetryPolicy::default();
        assert!(p.delay(1, f64::NAN, None) <= Duration::from_millis(200));
        let huge = p.with_backoff(Duration::MAX, Duration::MAX);
        assert!(huge.delay(1, 1.0, None) > Duration::from_secs(1));
        assert!(huge.delay(40, 0.999, None) > Duration::from_secs(1));
    }
}
