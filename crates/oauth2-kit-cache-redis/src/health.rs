//! Redis trouble, logged once per burst: the first failure after a healthy spell is a warning,
//! later ones are counted (and summed up at most every 30 s) until Redis answers again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a continuing outage is mentioned again.
const REMIND_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub(crate) struct Health {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Since when Redis has been failing, if it is.
    down_since: Option<Instant>,
    last_warning: Option<Instant>,
    failures: u64,
}

impl Health {
    /// Records a failure of `operation`; logs it if it starts a burst (or a reminder is due).
    pub(crate) fn failed(&self, operation: &'static str, error: &dyn std::fmt::Display) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        #[allow(clippy::disallowed_methods)] // Log pacing, not token lifetimes: the system clock is right.
        let now = Instant::now();
        state.failures = state.failures.saturating_add(1);
        let due = state.last_warning.is_none_or(|last| now.saturating_duration_since(last) >= REMIND_EVERY);
        if state.down_since.is_none() {
            state.down_since = Some(now);
        }
        if due {
            state.last_warning = Some(now);
            tracing::warn!(
                operation,
                %error,
                failures = state.failures,
                "Redis is unavailable: tokens are not shared with the fleet until it answers again"
            );
        }
    }

    /// Records a success; logs the end of a burst.
    pub(crate) fn ok(&self) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(since) = state.down_since.take() {
            tracing::info!(
                failures = state.failures,
                down_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
                "Redis answers again: tokens are shared with the fleet"
            );
            state.failures = 0;
            state.last_warning = None;
        }
    }

    /// Whether the last operation failed.
    pub(crate) fn is_down(&self) -> bool {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).down_since.is_some()
    }
}

/// Bad values (that do not decrypt or decode), logged once per 30 s with their count: a
/// replica polling a bad value must not fill the log.
#[derive(Debug, Default)]
pub(crate) struct BadValues {
    state: Mutex<(Option<Instant>, u64)>,
}

impl BadValues {
    pub(crate) fn seen(&self, key: &str, what: &'static str) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        #[allow(clippy::disallowed_methods)] // Log pacing, not token lifetimes.
        let now = Instant::now();
        state.1 = state.1.saturating_add(1);
        if state.0.is_none_or(|last| now.saturating_duration_since(last) >= REMIND_EVERY) {
            tracing::warn!(
                key,
                what,
                count = state.1,
                "a shared token is unusable (tampered, copied from another key, sealed with another key, or not \
                 a token): ignored, and overwritten by the next fetch"
            );
            state.0 = Some(now);
            state.1 = 0;
        }
    }
}
