//! A latch: tasks wait until it is opened.

use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// Closed or open; [`wait`](Latch::wait) completes once it is open.
#[derive(Debug, Default)]
pub(crate) struct Latch {
    open: AtomicBool,
    event: Event,
}

impl Latch {
    /// A latch that starts open (`true`) or closed.
    pub(crate) fn new(open: bool) -> Self {
        Self { open: AtomicBool::new(open), event: Event::new() }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    pub(crate) fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    pub(crate) fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
    }

    pub(crate) async fn wait(&self) {
        loop {
            if self.is_open() {
                return;
            }
            let listener = self.event.listen();
            if self.is_open() {
                return;
            }
            listener.await;
        }
    }
}
