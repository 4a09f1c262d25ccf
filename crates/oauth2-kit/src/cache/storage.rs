//! Where a caching provider keeps its tokens: a storage you can replace.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustc_hash::FxBuildHasher;

use crate::cache::metrics::{STRIPES, stripe};
use crate::cache::policy::TokenTimes;
use crate::scope::Scope;
use crate::token::TokenResponse;

/// A token in a cache, with the instants that decide its state and its generation (a number
/// that no other token of the same cache ever gets).
///
/// Cloning is cheap (the token is shared behind an `Arc`).
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The token.
    pub token: TokenResponse,
    /// When it turns stale, and when it stops being usable.
    pub times: TokenTimes,
    /// Which token this is: invalidation compares it, so that a late invalidation of an old
    /// token never drops a newer one.
    pub generation: u64,
    /// When it stops being usable by the wall clock: the monotonic clock does not count a
    /// suspend (Linux's `CLOCK_MONOTONIC`), so after a resume only the wall clock knows the
    /// token has expired. A token is usable while both clocks say so.
    pub wall_usable_until: Option<std::time::SystemTime>,
}

/// Keeps one token per scope (`None`: the client's default scope). The replaceable cache
/// storage: the caching providers use it for every read and write, each cache crate ships a
/// default, and any type implementing it can be plugged in.
///
/// `get` is on every cached call's path: keep it lock-light and allocation-free. A token's
/// expiry is `token.times.usable_until`; a storage may drop entries after it, or keep them (the
/// provider never hands out an expired token).
pub trait CacheStorage: Send + Sync + fmt::Debug + 'static {
    /// The token stored for `scope`.
    fn get(&self, scope: Option<&Scope>) -> Option<CachedToken>;

    /// Stores `token` for `scope`, replacing what was there.
    fn put(&self, scope: Option<&Scope>, token: CachedToken);

    /// Removes the token stored for `scope` if it is generation `generation`; returns whether it
    /// removed one.
    fn remove(&self, scope: Option<&Scope>, generation: u64) -> bool;
}

/// One token per scope, as [`STRIPES`] replicas: each thread reads the replica of its stripe,
/// so threads handing out the same token bump different reference counts instead of fighting
/// over one cache line.
type Replicas = Box<[CachedToken]>;

fn replicas(token: CachedToken) -> Replicas {
    (0..STRIPES)
        .map(|_| CachedToken {
            token: token.token.replicate(),
            times: token.times,
            generation: token.generation,
            wall_usable_until: token.wall_usable_until,
        })
        .collect()
}

#[inline]
fn mine(replicas: &Replicas) -> Option<CachedToken> {
    replicas.get(stripe()).or_else(|| replicas.first()).cloned()
}

#[derive(Debug, Default, Clone)]
struct Snapshot {
    default: Option<Replicas>,
    scoped: HashMap<Scope, Replicas, FxBuildHasher>,
}

/// The default storage: an immutable map behind an [`ArcSwap`]. Reads take no lock and touch no
/// shared counter (each thread reads its own replica of a token); writes (one per token
/// refresh) copy the map, which holds one entry per scope in use. Clones share the same map.
#[derive(Debug, Default, Clone)]
pub struct InMemoryStorage {
    map: Arc<ArcSwap<Snapshot>>,
}

impl InMemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }
}

impl InMemoryStorage {
    /// The token stored for `scope` (the same as [`CacheStorage::get`], statically dispatched).
    #[inline]
    pub fn read(&self, scope: Option<&Scope>) -> Option<CachedToken> {
        let snapshot = self.map.load();
        match scope {
            None => snapshot.default.as_ref().and_then(mine),
            Some(scope) => snapshot.scoped.get(scope).and_then(mine),
        }
    }
}

impl CacheStorage for InMemoryStorage {
    #[inline]
    fn get(&self, scope: Option<&Scope>) -> Option<CachedToken> {
        self.read(scope)
    }

    fn put(&self, scope: Option<&Scope>, token: CachedToken) {
        let replicas = replicas(token);
        self.map.rcu(|current| {
            let mut next = Snapshot::clone(current);
            match scope {
                None => next.default = Some(replicas.clone()),
                Some(scope) => {
                    next.scoped.insert(scope.clone(), replicas.clone());
                }
            }
            next
        });
    }

    fn remove(&self, scope: Option<&Scope>, generation: u64) -> bool {
        let mut removed = false;
        self.map.rcu(|current| {
            let mut next = Snapshot::clone(current);
            removed = match scope {
                None if next
                    .default
                    .as_ref()
                    .and_then(|r| r.first())
                    .is_some_and(|t| t.generation == generation) =>
                {
                    next.default = None;
                    true
                }
                Some(scope)
                    if next
                        .scoped
                        .get(scope)
                        .and_then(|r| r.first())
                        .is_some_and(|t| t.generation == generation) =>
                {
                    next.scoped.remove(scope);
                    true
                }
                _ => false,
            };
            next
        });
        removed
    }
}

impl<T: CacheStorage + ?Sized> CacheStorage for Arc<T> {
    fn get(&self, scope: Option<&Scope>) -> Option<CachedToken> {
        (**self).get(scope)
    }

    fn put(&self, scope: Option<&Scope>, token: CachedToken) {
        (**self).put(scope, token);
    }

    fn remove(&self, scope: Option<&Scope>, generation: u64) -> bool {
        (**self).remove(scope, generation)
    }
}
