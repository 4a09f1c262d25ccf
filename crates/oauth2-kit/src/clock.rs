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
}
