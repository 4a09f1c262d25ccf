//! The shared caching-introspection behaviour, proven for the async-std binding (in virtual time).

use std::sync::Arc;

oauth2_kit_testkit::caching_introspection_suite!(
    async_std::test,
    Arc::new(oauth2_kit_cache_async_std::AsyncStdRuntime),
    |builder: oauth2_kit::cache::CachingIntrospectionBuilder,
     _: &oauth2_kit::cache::IntrospectionCachePolicy| builder
);
