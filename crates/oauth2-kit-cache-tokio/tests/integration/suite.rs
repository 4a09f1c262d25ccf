//! The shared caching behaviour, proven for the tokio binding (in virtual time).

use std::sync::Arc;

use oauth2_kit::cache::InMemoryStorage;

oauth2_kit_testkit::caching_provider_suite!(
    tokio::test(flavor = "multi_thread", worker_threads = 2),
    Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()),
    |builder: oauth2_kit::cache::CachingProviderBuilder| builder.storage(Arc::new(InMemoryStorage::new()))
);
