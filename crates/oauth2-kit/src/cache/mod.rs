//! Token caching: the state machine every cache crate shares, its lifetime model, its storage
//! contract and its counters; the cache of exchanged tokens per subject; and the cache of
//! introspection results.
//!
//! The runtime crates (`oauth2-kit-cache-tokio`, `oauth2-kit-cache-async-std`,
//! `oauth2-kit-cache-moka`) supply only a [`Runtime`](crate::runtime::Runtime) binding and a
//! default [`CacheStorage`]; the behaviour is [`CachingProvider`]'s, written once.

mod exchange;
mod introspection;
mod jwt;
mod metrics;
mod policy;
mod provider;
pub mod shared;
mod storage;

pub use exchange::{CachingTokenExchange, CachingTokenExchangeBuilder, DEFAULT_MAX_SUBJECTS};
pub use introspection::{
    BoundedIntrospectionStorage, CachingIntrospection, CachingIntrospectionBuilder, IntrospectionCachePolicy,
    IntrospectionStorage, TokenKey,
};
pub use metrics::{CacheMetrics, RefreshReason};
pub use policy::{CachePolicy, TokenTimes};
pub use provider::{CachingProvider, CachingProviderBuilder, Get};
pub use shared::{Lease, LeaseId, SharedKey, SharedOptions, SharedToken, SharedTokenStore};
pub use storage::{CacheStorage, CachedToken, InMemoryStorage};
