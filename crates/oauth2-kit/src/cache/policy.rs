//! When a cached token is fresh, stale or expired; how long to wait between failed refreshes;
//! how long to keep an error.

use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode};

/// The lifetime model of a cached token, with documented defaults.
///
/// Times count from when the token request was **sent** (conservative by one round trip). For a
/// token of lifetime `L`:
///
/// - **hard margin** `m = clamp(10% of L, 5 s, 60 s)`, capped at `L / 2` so that short-lived
///   tokens stay usable: the token is never handed out in its last `m`;
/// - **refresh lead** `r = min(5 min, 25% of L)` for `L < 2 h`, `L / 2` for longer lifetimes;
/// - **refresh point** `L - r`, moved earlier by a random jitter in `[0, 20% of r)` drawn once per
///   token (so a fleet does not refresh in step), and never later than `L - m`.
///
/// A 1 h token is fresh for 55 min (minus jitter), stale (served while one background refresh
/// runs) until 59 min, then expired (callers wait for one shared fetch). A 2 s token is usable
/// for 1 s.
///
/// ```
/// use std::time::{Duration, Instant};
/// use oauth2_kit::cache::CachePolicy;
///
/// let policy = CachePolicy::default();
/// let sent = Instant::now();
/// let times = policy.times(sent, Duration::from_secs(3600), 0.0);
/// assert_eq!(times.refresh_at - sent, Duration::from_secs(55 * 60));
/// assert_eq!(times.usable_until - sent, Duration::from_secs(59 * 60));
/// let short = policy.times(sent, Duration::from_secs(2), 0.0);
/// assert_eq!(short.usable_until - sent, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CachePolicy {
    /// Hard margin as a fraction of the lifetime. Default 0.10.
    pub hard_margin_ratio: f64,
    /// Smallest hard margin (before the half-lifetime cap). Default 5 s.
    pub hard_margin_min: Duration,
    /// Largest hard margin. Default 60 s.
    pub hard_margin_max: Duration,
    /// Refresh lead as a fraction of the lifetime, for lifetimes under
    /// [`half_life_from`](Self::half_life_from). Default 0.25.
    pub refresh_lead_ratio: f64,
    /// Largest refresh lead for lifetimes under `half_life_from`. Default 5 min.
    pub refresh_lead_max: Duration,
    /// From this lifetime on, refresh at half-life. Default 2 h.
    pub half_life_from: Duration,
    /// The largest jitter, as a fraction of the refresh lead. Default 0.2.
    pub jitter_ratio: f64,
    /// The lifetime assumed when the server gives none and the token is not a JWT with `exp`.
    /// Default 5 min.
    pub default_lifetime: Duration,
    /// First delay between background retries of a failed refresh. Default 500 ms.
    pub backoff_initial: Duration,
    /// Largest delay between background retries. Default 30 s.
    pub backoff_max: Duration,
    /// How long a transient error (transport, 5xx, ...) is handed to new callers before a new
    /// attempt. Default 5 s.
    pub transient_error_ttl: Duration,
    /// How long `invalid_client`, `invalid_grant`, `unauthorized_client` and `invalid_scope`
    /// are kept. Default 60 s.
    pub permanent_error_ttl: Duration,
    /// How long one token request may take before it counts as a (transient) failure, so that
    /// a token provider that never answers cannot hold waiters forever. Default 60 s (above the
    /// HTTP adapters' own 30 s timeout).
    pub fetch_timeout: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            hard_margin_ratio: 0.10,
            hard_margin_min: Duration::from_secs(5),
            hard_margin_max: Duration::from_secs(60),
            refresh_lead_ratio: 0.25,
            refresh_lead_max: Duration::from_secs(5 * 60),
            half_life_from: Duration::from_secs(2 * 3600),
            jitter_ratio: 0.2,
            default_lifetime: Duration::from_secs(5 * 60),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            transient_error_ttl: Duration::from_secs(5),
            permanent_error_ttl: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(60),
        }
    }
}

/// The three instants that decide a cached token's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTimes {
    /// Before this, the token is fresh.
    pub refresh_at: Instant,
    /// Before this (and from `refresh_at` on) the token is stale: served, while one background
    /// refresh runs. From this on it is expired and never handed out.
    pub usable_until: Instant,
    /// When the server said the token expires.
    pub expires_at: Instant,
}

fn scale(duration: Duration, ratio: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * ratio.clamp(0.0, 1.0)).unwrap_or(Duration::ZERO)
}

impl CachePolicy {
    /// The instants of a token sent for at `requested_at` with `lifetime`. `jitter` in `[0, 1)`
    /// picks the jitter within its range (drawn at random once per token by the caches).
    pub fn times(&self, requested_at: Instant, lifetime: Duration, jitter: f64) -> TokenTimes {
        // A lifetime from a custom provider may be anything: past MAX_LIFETIME it is read as
        // MAX_LIFETIME (as decoded ones are), so that its instants can be computed.
        let lifetime = lifetime.min(crate::MAX_LIFETIME);
        // Not `clamp`, which panics when a user sets the minimum above the maximum: then the
        // maximum wins.
        let margin = scale(lifetime, self.hard_margin_ratio)
            .max(self.hard_margin_min)
            .min(self.hard_margin_max)
            .min(lifetime / 2);
        let lead = if lifetime < self.half_life_from {
            scale(lifetime, self.refresh_lead_ratio).min(self.refresh_lead_max)
        } else {
            lifetime / 2
        };
        let jitter = scale(scale(lead, self.jitter_ratio), jitter);
        let at = |offset: Duration| requested_at.checked_add(offset).unwrap_or(requested_at);
        let usable_until = at(lifetime.saturating_sub(margin));
        let refresh_at = at(lifetime.saturating_sub(lead).saturating_sub(jitter)).min(usable_until);
        TokenTimes { refresh_at, usable_until, expires_at: at(lifetime) }
    }

    /// The delay before background retry number `attempt` (0-based): `backoff_initial` doubling
    /// up to `backoff_max`, scaled by `0.5 + jitter / 2` ("equal jitter", `jitter` in `[0, 1)`),
    /// and never shorter than the server's `Retry-After`.
    pub fn backoff(&self, attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        crate::backoff::equal_jitter(self.backoff_initial, self.backoff_max, attempt, jitter, retry_after)
    }

    /// How long an error is handed to new callers before the next attempt: long for errors a
    /// retry cannot fix soon, short for the rest, never shorter than the server's `Retry-After`
    /// (up to `backoff_max`).
    pub fn error_ttl(&self, error: &Error) -> Duration {
        let permanent = error.oauth2().is_some_and(|e| {
            matches!(
                e.response.error,
                ErrorCode::InvalidClient
                    | ErrorCode::InvalidGrant
                    | ErrorCode::UnauthorizedClient
                    | ErrorCode::InvalidScope
            )
        });
        let base = if permanent { self.permanent_error_ttl } else { self.transient_error_ttl };
        base.max(error.retry_after().unwrap_or(Duration::ZERO).min(self.backoff_max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SystemClock};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn margins_and_refresh_points() {
        let p = CachePolicy::default();
        let t0 = SystemClock.now();
        // (lifetime, refresh lead from the end, usable margin from the end)
        let cases: &[(Duration, Duration, Duration)] = &[
            (secs(3600), secs(300), secs(60)), // 1 h: fresh 55 min, usable 59 min
            (secs(600), secs(150), secs(60)),  // 10 min: lead 25% = 150 s, margin 60 s
            (secs(60), secs(15), secs(6)),     // 1 min: lead 15 s, margin 10% = 6 s
            (secs(20), secs(5), secs(5)),      // margin floor 5 s
            (secs(4), secs(2), secs(2)),       // 4 s: margin capped at half; refresh at margin
            (secs(2), secs(1), secs(1)),       // 2 s: usable for 1 s
            (secs(4 * 3600), secs(2 * 3600), secs(60)), // long: half-life
        ];
        for &(lifetime, lead, margin) in cases {
            let t = p.times(t0, lifetime, 0.0);
            assert_eq!(t.usable_until - t0, lifetime - margin, "{lifetime:?}");
            assert_eq!(t.refresh_at - t0, (lifetime - lead).min(lifetime - margin), "{lifetime:?}");
            assert_eq!(t.expires_at - t0, lifetime);
            assert!(t.refresh_at <= t.usable_until && t.usable_until <= t.expires_at);
        }
    }

    #[test]
    fn jitter_moves_the_refresh_point_earlier_within_its_range() {
        let p = CachePolicy::default();
        let t0 = SystemClock.now();
        let none = p.times(t0, secs(3600), 0.0);
        let most = p.times(t0, secs(3600), 0.999_999);
        assert!(most.refresh_at < none.refresh_at);
        assert!(none.refresh_at - most.refresh_at <= secs(60), "20% of the 5 min lead");
        assert_eq!(most.usable_until, none.usable_until);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let p = CachePolicy::default();
        assert_eq!(p.backoff(0, 1.0, None), Duration::from_millis(500));
        assert_eq!(p.backoff(0, 0.0, None), Duration::from_millis(250));
        assert_eq!(p.backoff(1, 1.0, None), Duration::from_secs(1));
        assert_eq!(p.backoff(6, 1.0, None), secs(30));
        assert_eq!(p.backoff(60, 1.0, None), secs(30));
        assert_eq!(p.backoff(0, 0.0, Some(secs(7))), secs(7));
    }

    #[test]
    fn huge_lifetimes_do_not_overflow() {
        let p = CachePolicy::default();
        let now = SystemClock.now();
        let t = p.times(now, Duration::MAX, 0.5);
        assert!(t.refresh_at <= t.usable_until);
        // Read as the longest lifetime, not as none (which would refetch on every call).
        assert!(t.refresh_at > now + secs(3600), "{t:?}");
    }

    #[test]
    fn a_minimum_margin_above_the_maximum_does_not_panic() {
        let p =
            CachePolicy { hard_margin_min: secs(120), hard_margin_max: secs(60), ..CachePolicy::default() };
        let now = SystemClock.now();
        let t = p.times(now, secs(3600), 0.5);
        assert_eq!(t.expires_at - t.usable_until, secs(60));
    }
}
