//! The shared caching-introspection behaviour, proven for the moka storage (in virtual time).

use std::sync::Arc;

use oauth2_kit::cache::{CachingIntrospectionBuilder, IntrospectionCachePolicy};

oauth2_kit_testkit::caching_introspection_suite!(
    tokio::test(flavor = "multi_thread", worker_threads = 2),
    Arc::new(oauth2_kit_cache_moka::TokioRuntime::new()),
    |builder: CachingIntrospectionBuilder, policy: &IntrospectionCachePolicy| builder
        .storage(Arc::new(oauth2_kit_cache_moka::MokaIntrospectionStorage::new(policy.max_entries as u64)))
);
