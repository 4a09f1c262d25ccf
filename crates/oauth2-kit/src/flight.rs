//! One fetch shared by every caller waiting for it (single flight).

use std::sync::{Arc, OnceLock};

use event_listener::Event;

use crate::error::Result;

/// The result of one fetch, set once, and the callers waiting for it.
pub(crate) struct Flight<T> {
    pub(crate) result: OnceLock<Result<T>>,
    done: Event,
}

impl<T: Clone> Flight<T> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { result: OnceLock::new(), done: Event::new() })
    }

    /// Sets the result (the first one set wins) and wakes every waiter.
    pub(crate) fn finish(&self, result: Result<T>) {
        let _ = self.result.set(result);
        self.done.notify(usize::MAX);
    }

    /// Waits for the result.
    pub(crate) async fn wait(&self) -> Result<T> {
        loop {
            if let Some(result) = self.result.get() {
                return result.clone();
            }
            let listener = self.done.listen();
            if let Some(result) = self.result.get() {
                return result.clone();
            }
            listener.await;
        }
    }
}
