//! Where the library reads the time.
//!
//! Every time-dependent decision (when a token was requested, when it expires) reads a [`Clock`],
//! never `Instant::now()` directly, so tests can run expiry logic in virtual time.

use std::fmt;
use std::time::{Instant, SystemTime};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic time, for lifetimes and deadlines. A wall-clock jump does not move it.
    fn now(&self) -> Instant;

    /// Wall-clock time, for comparing with absolute timestamps sent by servers (`exp`, `iat`).
    fn system_time(&self) -> SystemTime;

    /// Both clocks, each possibly off by a timer tick (a few milliseconds) and cheaper to read
    /// than [`now`](Self::now) and [`system_time`](Self::system_time): for the checks made on
    /// every cached read, against deadlines that carry margins of seconds. Default: both
    /// precise clocks.
    fn now_coarse(&self) -> (Instant, SystemTime) {
        (self.now(), self.system_time())
    }
}

/// The operating system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place that reads the real clock.
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    /// On Linux, the kernel's coarse clocks (`CLOCK_MONOTONIC_COARSE`, `CLOCK_REALTIME_COARSE`:
    /// about 5 ns each against 23 ns for a precise read, measured on the project's machines),
    /// the monotonic one as an `Instant` through a pairing of both monotonic clocks made once;
    /// elsewhere the precise clocks.
    #[inline]
    fn now_coarse(&self) -> (Instant, SystemTime) {
        coarse::now().unwrap_or_else(|| (self.now(), self.system_time()))
    }
}

/// The kernel's coarse clocks.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod coarse {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use rustix::time::{ClockId, Timespec, clock_gettime};

    /// Both coarse clocks, `None` if a reading is out of range (never on a sane system).
    #[inline]
    pub(super) fn now() -> Option<(Instant, SystemTime)> {
        let (base, coarse_base) = *BASE.get_or_init(pair);
        let mono = since_zero(clock_gettime(ClockId::MonotonicCoarse))?;
        // Before the pairing by less than a tick at most: a saturating difference.
        let instant = base.checked_add(mono.saturating_sub(coarse_base))?;
        let wall = UNIX_EPOCH.checked_add(since_zero(clock_gettime(ClockId::RealtimeCoarse))?)?;
        Some((instant, wall))
    }

    /// One `Instant` and the coarse monotonic reading taken with it (the same clock, read at
    /// two resolutions): later coarse readings map onto `Instant`s from there.
    static BASE: OnceLock<(Instant, Duration)> = OnceLock::new();

    #[allow(clippy::disallowed_methods)] // Pairs the coarse clock with the precise one, once.
    fn pair() -> (Instant, Duration) {
        let coarse = since_zero(clock_gettime(ClockId::MonotonicCoarse)).unwrap_or_default();
        (Instant::now(), coarse)
    }

    /// A reading as a duration; the kernel keeps `tv_nsec` below a second.
    #[inline]
    fn since_zero(ts: Timespec) -> Option<Duration> {
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u32::try_from(ts.tv_nsec).ok().filter(|n| *n < 1_000_000_000)?;
        Some(Duration::new(secs, nanos))
    }
}

/// No coarse clocks here: the precise ones are read.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod coarse {
    use std::time::{Instant, SystemTime};

    #[inline]
    pub(super) fn now() -> Option<(Instant, SystemTime)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The coarse readings fall between precise readings taken around them, give or take a
    /// timer tick (allowed: 100 ms), however long the thread was descheduled in between.
    #[test]
    #[allow(clippy::disallowed_methods)]
    fn coarse_readings_agree_with_the_precise_clocks() {
        let tick = Duration::from_millis(100);
        for _ in 0..1_000 {
            let (mono_before, wall_before) = (Instant::now(), SystemTime::now());
            let (mono, wall) = SystemClock.now_coarse();
            let (mono_after, wall_after) = (Instant::now(), SystemTime::now());
            assert!(mono + tick >= mono_before && mono <= mono_after + tick);
            assert!(wall + tick >= wall_before && wall <= wall_after + tick);
        }
    }
}
