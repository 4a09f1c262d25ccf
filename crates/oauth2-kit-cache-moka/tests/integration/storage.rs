//! The moka index itself: bounded, generation-checked removal.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use oauth2_kit::cache::{CachePolicy, CacheStorage, CachedToken};
use oauth2_kit::{AccessToken, Clock as _, Scope, SystemClock, TokenResponse, TokenType};
use oauth2_kit_cache_moka::MokaStorage;

fn token(value: &str, generation: u64) -> CachedToken {
    let now = SystemClock.now();
    CachedToken {
        token: TokenResponse::new(AccessToken::new(value), TokenType::Bearer, now),
        times: CachePolicy::default().times(now, Duration::from_secs(3600), 0.0),
        generation,
        wall_usable_until: None,
    }
}

#[test]
fn bounded_number_of_scopes() {
    let storage = MokaStorage::new(2, Duration::from_secs(3600));
    for (i, s) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        let scope: Scope = s.parse().unwrap();
        storage.put(Some(&scope), token(s, i as u64));
    }
    assert!(storage.len() <= 2, "len {}", storage.len());
    let readable =
        ["a", "b", "c", "d", "e"].iter().filter(|s| storage.get(Some(&s.parse().unwrap())).is_some()).count();
    assert!(readable <= 2, "evicted scopes leave the read path too: {readable} readable");
}

#[test]
fn a_full_index_admits_new_scopes_and_evicts_the_least_recently_used() {
    let storage = MokaStorage::new(2, Duration::from_secs(3600));
    let scope = |s: &str| -> Scope { s.parse().unwrap() };
    storage.put(Some(&scope("a")), token("a", 1));
    storage.put(Some(&scope("b")), token("b", 2));
    let _ = storage.len();
    storage.put(Some(&scope("c")), token("c", 3));
    let _ = storage.len();
    assert!(storage.get(Some(&scope("c"))).is_some(), "the newest scope is admitted");
    assert!(storage.get(Some(&scope("a"))).is_none(), "the least recently used leaves");
}

#[test]
fn a_replaced_entry_stays_readable() {
    let storage = MokaStorage::default();
    storage.put(None, token("t1", 1));
    storage.put(None, token("t2", 2));
    assert_eq!(storage.len(), 1);
    assert_eq!(storage.get(None).unwrap().token.access_token().expose_secret(), "t2");
}

#[test]
fn remove_checks_the_generation() {
    let storage = MokaStorage::default();
    storage.put(None, token("t1", 1));
    assert!(!storage.remove(None, 2));
    assert!(storage.get(None).is_some());
    assert!(storage.remove(None, 1));
    assert!(storage.get(None).is_none());
    assert!(storage.is_empty());
}
