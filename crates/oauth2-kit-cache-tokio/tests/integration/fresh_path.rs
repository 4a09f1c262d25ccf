//! The fresh path allocates nothing and never waits (this test binary counts allocations).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use oauth2_kit::{Scope, SystemClock};
use oauth2_kit_testkit::ScriptedProvider;
use oauth2_kit_testkit::cache_suite::poll_once;

#[test]
fn a_fresh_get_allocates_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    let provider = oauth2_kit_cache_tokio::caching(ScriptedProvider::new(Arc::new(SystemClock)));
    let scope: Scope = "read write".parse().unwrap();
    runtime.block_on(provider.get(Some(&scope))).unwrap();
    // Warm up thread-locals (the hit counter's stripe) outside the measurement.
    poll_once(provider.get(Some(&scope))).unwrap().unwrap();

    let counts = allocation_counter::measure(|| {
        for _ in 0..1_000 {
            let token = poll_once(provider.get(Some(&scope))).expect("a fresh get never waits").unwrap();
            std::hint::black_box(token);
        }
    });
    assert_eq!(counts.count_total, 0, "{counts:?}");
    assert_eq!(provider.metrics().hits, 1_001);
}
