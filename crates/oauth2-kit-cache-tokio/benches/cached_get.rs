//! Cached-get, two-thread and herd-release benchmarks of the tokio binding, against the
//! baseline measured in the same run (see `oauth2_kit_test_support::cache_bench`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs, clippy::unwrap_used)]

use oauth2_kit_test_support::cache_bench as support;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _entered = runtime.enter();
    let make = |delegate| oauth2_kit_cache_tokio::builder(delegate).build();
    support::run(c, &make, Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
