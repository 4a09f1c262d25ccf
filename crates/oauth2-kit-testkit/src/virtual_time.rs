//! Virtual time: a [`Clock`] and the sleeping half of a [`Runtime`] that move only when a test
//! says so, so that token lifetimes, margins and backoffs are tested without waiting for them.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use oauth2_kit::Clock;
use oauth2_kit::runtime::{BoxFuture, Runtime, SpawnError};

use crate::latch::Latch;

/// A clock that stands still until [`advance`](VirtualTime::advance)d, and a runtime whose
/// `sleep` completes when virtual time reaches its deadline; `spawn` is delegated to a real
/// runtime binding.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use oauth2_kit::Clock;
/// use oauth2_kit_testkit::VirtualTime;
/// # #[derive(Debug)] struct NoSpawn;
/// # impl oauth2_kit::runtime::Runtime for NoSpawn {
/// #     fn spawn(&self, _: oauth2_kit::runtime::BoxFuture<()>) -> Result<(), oauth2_kit::runtime::SpawnError> { Ok(()) }
/// #     fn sleep(&self, _: Duration) -> oauth2_kit::runtime::BoxFuture<()> { Box::pin(async {}) }
/// # }
/// let time = VirtualTime::new(Arc::new(NoSpawn));
/// let start = time.now();
/// time.advance(Duration::from_secs(3600));
/// assert_eq!(time.now() - start, Duration::from_secs(3600));
/// ```
pub struct VirtualTime {
    me: Weak<VirtualTime>,
    base: Instant,
    base_system: SystemTime,
    spawner: Arc<dyn Runtime>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    elapsed: Duration,
    /// How far the wall clock has jumped ahead of the monotonic one (a suspend and resume).
    wall_ahead: Duration,
    /// How far it has been set back (an NTP step back, a hand-set clock).
    wall_behind: Duration,
    sleepers: Vec<(Duration, Arc<Latch>)>,
}

fn lock(mutex: &Mutex<State>) -> MutexGuard<'_, State> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl VirtualTime {
    /// Virtual time starting now, spawning tasks on `spawner`.
    pub fn new(spawner: Arc<dyn Runtime>) -> Arc<Self> {
        #[allow(clippy::disallowed_methods)] // The virtual clock's origin.
        let base = Instant::now();
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            base,
            base_system: SystemTime::now(),
            spawner,
            state: Mutex::new(State::default()),
        })
    }

    /// Moves time forward by `by`, completing every sleep whose deadline is reached.
    pub fn advance(&self, by: Duration) {
        let woken = {
            let mut state = lock(&self.state);
            state.elapsed = state.elapsed.saturating_add(by);
            let now = state.elapsed;
            let (due, pending): (Vec<_>, Vec<_>) = state.sleepers.drain(..).partition(|(at, _)| *at <= now);
            state.sleepers = pending;
            due
        };
        for (_, sleeper) in woken {
            sleeper.open();
        }
    }

    /// Moves the wall clock (only) forward by `by`, as a laptop or VM suspended for that long
    /// sees on resume: the monotonic clock (which on Linux does not count a suspend) stays.
    pub fn jump_wall_clock(&self, by: Duration) {
        let mut state = lock(&self.state);
        state.wall_ahead = state.wall_ahead.saturating_add(by);
    }

    /// Moves the wall clock (only) back by `by`, as an NTP step or a hand-set clock does: the
    /// monotonic clock stays.
    pub fn jump_wall_clock_back(&self, by: Duration) {
        let mut state = lock(&self.state);
        state.wall_behind = state.wall_behind.saturating_add(by);
    }

    /// How far time has moved.
    pub fn elapsed(&self) -> Duration {
        lock(&self.state).elapsed
    }

    /// How many sleeps are waiting for time to move (a sleep dropped before its deadline no
    /// longer counts).
    pub fn sleepers(&self) -> usize {
        lock(&self.state).sleepers.len()
    }
}

/// Unregisters a sleep that is dropped before its deadline.
struct Registration {
    time: Weak<VirtualTime>,
    sleeper: Arc<Latch>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(time) = self.time.upgrade() {
            lock(&time.state).sleepers.retain(|(_, s)| !Arc::ptr_eq(s, &self.sleeper));
        }
    }
}

impl fmt::Debug for VirtualTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualTime").field("elapsed", &self.elapsed()).finish_non_exhaustive()
    }
}

impl Clock for VirtualTime {
    fn now(&self) -> Instant {
        self.base + self.elapsed()
    }

    fn system_time(&self) -> SystemTime {
        let state = lock(&self.state);
        let ahead = self.base_system + state.elapsed + state.wall_ahead;
        ahead.checked_sub(state.wall_behind).unwrap_or(std::time::UNIX_EPOCH)
    }
}

impl Runtime for VirtualTime {
    fn spawn(&self, task: BoxFuture<()>) -> Result<(), SpawnError> {
        self.spawner.spawn(task)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        let sleeper = Arc::new(Latch::new(duration.is_zero()));
        if !duration.is_zero() {
            let mut state = lock(&self.state);
            let deadline = state.elapsed.saturating_add(duration);
            state.sleepers.push((deadline, sleeper.clone()));
        }
        let registration = Registration { time: self.me.clone(), sleeper: sleeper.clone() };
        Box::pin(async move {
            sleeper.wait().await;
            drop(registration);
        })
    }
}
