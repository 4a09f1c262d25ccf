//! The shared caching-introspection behaviour, proven for the tokio binding (in virtual time).

use std::sync::Arc;

oauth2_kit_testkit::caching_introspection_suite!(
    tokio::test(flavor = "multi_thread", worker_threads = 2),
    Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()),
    |builder: oauth2_kit::cache::CachingIntrospectionBuilder,
     _: &oauth2_kit::cache::IntrospectionCachePolicy| builder
);
