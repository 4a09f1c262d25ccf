//! Counters a caching provider keeps, readable at any time.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Why the cache asked the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshReason {
    /// No token was cached for the scope (first use, or after an invalidation).
    Absent,
    /// The cached token had passed its hard margin.
    Expired,
    /// The cached token had passed its refresh point: a background refresh.
    Stale,
    /// A background retry after a failed refresh, while the old token was still usable.
    Retry,
}

/// A snapshot of a caching provider's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheMetrics {
    /// Calls answered with a fresh cached token.
    pub hits: u64,
    /// Calls that found no usable token and waited for a fetch (or got a kept error).
    pub misses: u64,
    /// Calls answered with a stale token while a refresh ran.
    pub stale_served: u64,
    /// Token requests made because no token was cached.
    pub refreshes_absent: u64,
    /// Token requests made because the cached token had expired.
    pub refreshes_expired: u64,
    /// Background token requests made because the cached token was stale.
    pub refreshes_stale: u64,
    /// Background retries of a failed refresh.
    pub refreshes_retry: u64,
    /// Token requests that failed.
    pub failures: u64,
    /// Calls answered with a kept error, without a new token request.
    pub errors_served: u64,
    /// Fetches answered by the fleet's shared store (another process's token): no token
    /// request.
    pub shared_hits: u64,
    /// Fetches that went to the token endpoint without the fleet: the store was unreachable, or
    /// no token came within a lease time.
    pub shared_fallbacks: u64,
}

impl CacheMetrics {
    /// Every token request the provider made (fetches answered by a shared store excluded).
    pub fn token_requests(&self) -> u64 {
        (self.refreshes_absent + self.refreshes_expired + self.refreshes_stale + self.refreshes_retry)
            .saturating_sub(self.shared_hits)
    }
}

/// How many stripes per-thread state is spread over.
pub(crate) const STRIPES: usize = 8;

/// A counter incremented from many threads at once without a shared cache line: each thread
/// adds to one of several padded cells, reads add them up.
#[derive(Debug, Default)]
struct StripedCounter {
    cells: [Padded; STRIPES],
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

/// This thread's stripe, in `0..STRIPES`.
#[inline]
pub(crate) fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE.with(|cell| {
        if cell.get() == usize::MAX {
            cell.set(NEXT.fetch_add(1, Relaxed) % STRIPES);
        }
        cell.get()
    })
}

impl StripedCounter {
    #[inline]
    fn add(&self) {
        if let Some(cell) = self.cells.get(stripe()) {
            cell.0.fetch_add(1, Relaxed);
        }
    }

    fn sum(&self) -> u64 {
        self.cells.iter().map(|c| c.0.load(Relaxed)).sum()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    hits: StripedCounter,
    misses: AtomicU64,
    stale_served: StripedCounter,
    absent: AtomicU64,
    expired: AtomicU64,
    stale: AtomicU64,
    retry: AtomicU64,
    failures: AtomicU64,
    errors_served: AtomicU64,
    shared_hits: AtomicU64,
    shared_fallbacks: AtomicU64,
}

impl Metrics {
    pub(crate) fn shared_hit(&self) {
        self.shared_hits.fetch_add(1, Relaxed);
    }

    pub(crate) fn shared_fallback(&self) {
        self.shared_fallbacks.fetch_add(1, Relaxed);
    }

    #[inline]
    pub(crate) fn hit(&self) {
        self.hits.add();
    }

    pub(crate) fn stale_served(&self) {
        self.stale_served.add();
    }

    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }

    pub(crate) fn error_served(&self) {
        self.errors_served.fetch_add(1, Relaxed);
    }

    pub(crate) fn failure(&self) {
        self.failures.fetch_add(1, Relaxed);
    }

    pub(crate) fn refresh(&self, reason: RefreshReason) {
        let counter = match reason {
            RefreshReason::Absent => &self.absent,
            RefreshReason::Expired => &self.expired,
            RefreshReason::Stale => &self.stale,
            RefreshReason::Retry => &self.retry,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CacheMetrics {
        CacheMetrics {
            hits: self.hits.sum(),
            misses: self.misses.load(Relaxed),
            stale_served: self.stale_served.sum(),
            refreshes_absent: self.absent.load(Relaxed),
            refreshes_expired: self.expired.load(Relaxed),
            refreshes_stale: self.stale.load(Relaxed),
            refreshes_retry: self.retry.load(Relaxed),
            failures: self.failures.load(Relaxed),
            errors_served: self.errors_served.load(Relaxed),
            shared_hits: self.shared_hits.load(Relaxed),
            shared_fallbacks: self.shared_fallbacks.load(Relaxed),
        }
    }
}
