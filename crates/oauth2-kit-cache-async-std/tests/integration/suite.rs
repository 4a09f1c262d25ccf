//! The shared caching behaviour, proven for the async-std binding (in virtual time).

use std::sync::Arc;

use oauth2_kit::cache::InMemoryStorage;

oauth2_kit_testkit::caching_provider_suite!(
    async_std::test,
    Arc::new(oauth2_kit_cache_async_std::AsyncStdRuntime),
    |builder: oauth2_kit::cache::CachingProviderBuilder| builder.storage(Arc::new(InMemoryStorage::new()))
);
