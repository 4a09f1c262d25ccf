//! The shared caching behaviour, proven for the moka storage (in virtual time).

use std::sync::Arc;

oauth2_kit_testkit::caching_provider_suite!(
    tokio::test(flavor = "multi_thread", worker_threads = 2),
    Arc::new(oauth2_kit_cache_moka::TokioRuntime::new()),
    |builder: oauth2_kit::cache::CachingProviderBuilder| builder
        .storage(Arc::new(oauth2_kit_cache_moka::MokaStorage::default()))
);

/// The same suite with the moka storage on async-std's executor: the storage needs no
/// particular runtime.
mod on_async_std {
    use std::sync::Arc;

    oauth2_kit_testkit::caching_provider_suite!(
        async_std::test,
        Arc::new(oauth2_kit_cache_async_std::AsyncStdRuntime),
        |builder: oauth2_kit::cache::CachingProviderBuilder| builder
            .storage(Arc::new(oauth2_kit_cache_moka::MokaStorage::default()))
    );
}
