//! Cached-get, two-thread and herd-release benchmarks of the async-std binding, against the
//! baseline measured in the same run (see `oauth2_kit_test_support::cache_bench`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs, clippy::unwrap_used)]

use oauth2_kit_test_support::cache_bench as support;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let make = |delegate| oauth2_kit_cache_async_std::builder(delegate).build();
    support::run(c, &make, Arc::new(oauth2_kit_cache_async_std::AsyncStdRuntime));
}

criterion_group!(benches, bench);
criterion_main!(benches);
