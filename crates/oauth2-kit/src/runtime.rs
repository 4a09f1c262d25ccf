//! What the library needs from an async runtime: spawning a task and sleeping.
//!
//! The core never names a runtime. Caching providers run their fetches and background refreshes
//! as spawned tasks (so that a caller dropping its future never cancels a fetch others wait for)
//! and sleep between retries; the `oauth2-kit-cache-*` crates bind these two operations to tokio
//! or async-std, and tests bind them to virtual time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Spawns tasks and sleeps. Implemented by the runtime bindings of the cache crates.
pub trait Runtime: Send + Sync + fmt::Debug + 'static {
    /// Runs `task` to completion in the background. Fails (rather than panicking) when there is
    /// no runtime to run it on.
    fn spawn(&self, task: BoxFuture<()>) -> Result<(), SpawnError>;

    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<()>;
}

/// A task could not be spawned, typically because no runtime is running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot spawn a task: {0}")]
pub struct SpawnError(pub String);
