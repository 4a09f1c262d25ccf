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

    /// On 64-bit Linux, the kernel's coarse clocks (`CLOCK_MONOTONIC_COARSE`, `CLOCK_REALTIME_COARSE`:
    /// about 5 ns each against 23 ns for a precise read, measured on the project's machines),
    /// the monotonic one as an `Instant` through a pairing of both monotonic clocks made once;
    /// elsewhere the precise clocks.
    #[inline]
    fn now_coarse(&self) -> (Instant, SystemTime) {
        coarse::now().unwrap_or_else(|| (self.now(), self.system_time()))
    }
}

/// The kernel's coarse clocks, read so that they are never behind the precise ones: each
/// reading is moved forward by the clocks' resolution (a tick), so a deadline checked against it
/// can only be found passed early, by a few milliseconds, never late.
///
/// 64-bit targets only: there, rustix reads the resolution without any failure path; on 32-bit
/// targets its y2038-safe `clock_getres` panics if the kernel refuses a clock, so those use the
/// precise clocks.
#[cfg(all(any(target_os = "linux", target_os = "android"), target_pointer_width = "64"))]
mod coarse {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use rustix::time::{ClockId, DynamicClockId, Timespec, clock_getres, clock_gettime_dynamic};

    /// A coarse clock ticking slower than this is not used.
    const MAX_TICK: Duration = Duration::from_millis(50);

    /// Both coarse clocks; `None` if they cannot be read or paired (then the precise clocks are).
    #[inline]
    pub(super) fn now() -> Option<(Instant, SystemTime)> {
        let pairing = BASE.get_or_init(pair).as_ref()?;
        let instant = pairing.instant_zero.checked_add(read(ClockId::MonotonicCoarse)?)?;
        let wall = pairing.wall_zero.checked_add(read(ClockId::RealtimeCoarse)?)?;
        Some((instant, wall))
    }

    /// Where coarse readings start from, a tick ahead: the `Instant` of a monotonic reading of
    /// zero (found from a precise `Instant` read just after a coarse one: the same clock at two
    /// resolutions), and the Unix epoch, each moved forward by the clocks' resolution.
    struct Pairing {
        instant_zero: Instant,
        wall_zero: SystemTime,
    }

    static BASE: OnceLock<Option<Pairing>> = OnceLock::new();

    #[allow(clippy::disallowed_methods)] // Pairs the coarse clock with the precise one, once.
    fn pair() -> Option<Pairing> {
        let tick = since_zero(clock_getres(ClockId::MonotonicCoarse))?
            .max(since_zero(clock_getres(ClockId::RealtimeCoarse))?);
        if tick > MAX_TICK {
            return None;
        }
        // The precise reading must follow the coarse one closely: a thread descheduled in
        // between would set the coarse clock ahead for good (safe, but early). A few tries.
        let mut best: Option<(Duration, Instant, Duration)> = None;
        for _ in 0..5 {
            let before = Instant::now();
            let coarse = read(ClockId::MonotonicCoarse)?;
            let instant = Instant::now();
            let gap = instant.saturating_duration_since(before);
            if best.as_ref().is_none_or(|(best_gap, ..)| gap < *best_gap) {
                best = Some((gap, instant, coarse));
            }
            if gap < Duration::from_micros(100) {
                break;
            }
        }
        let (_, instant, coarse) = best?;
        Some(Pairing {
            instant_zero: instant.checked_sub(coarse)?.checked_add(tick)?,
            wall_zero: UNIX_EPOCH.checked_add(tick)?,
        })
    }

    /// A reading, `None` if the clock cannot be read (rustix's plain `clock_gettime` would
    /// panic: the dynamic form returns the error).
    #[inline]
    fn read(id: ClockId) -> Option<Duration> {
        since_zero(clock_gettime_dynamic(DynamicClockId::Known(id)).ok()?)
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
#[cfg(not(all(any(target_os = "linux", target_os = "android"), target_pointer_width = "64")))]
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

    /// The coarse readings are never behind precise readings taken before them, and ahead of
    /// those taken after by a timer tick at most (allowed: 100 ms), however long the thread was
    /// descheduled in between.
    #[test]
    #[allow(clippy::disallowed_methods)]
    fn coarse_readings_agree_with_the_precise_clocks() {
        let tick = Duration::from_millis(100);
        for _ in 0..1_000 {
            let (mono_before, wall_before) = (Instant::now(), SystemTime::now());
            let (mono, wall) = SystemClock.now_coarse();
            let (mono_after, wall_after) = (Instant::now(), SystemTime::now());
            // Not behind (a kernel that updates its coarse clocks late, tickless, gets 10 ms),
            // ahead by a tick or so.
            let late = Duration::from_millis(10);
            assert!(mono + late >= mono_before && mono <= mono_after + tick);
            assert!(wall + late >= wall_before && wall <= wall_after + tick);
        }
    }
}
