//! The store against a real `redis-server`: round trip, keys, leases, tampered and foreign
//! values, and an unreachable Redis.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use oauth2_kit::cache::{Lease, SharedKey, SharedToken, SharedTokenStore};
use oauth2_kit::{AccessToken, Clock as _, SystemClock, TokenResponse, TokenType};
use oauth2_kit_cache_redis::{EncryptionKey, RedisTokenStore};
use oauth2_kit_testkit::RedisServer;

fn token(value: &str) -> SharedToken {
    let clock = SystemClock;
    SharedToken {
        token: TokenResponse::new(AccessToken::new(value), TokenType::Bearer, clock.now()),
        issued_at: clock.system_time(),
        lifetime: Duration::from_secs(3600),
        remaining: None,
    }
}

async fn load(store: &RedisTokenStore, key: &SharedKey) -> Option<String> {
    let clock = SystemClock;
    store
        .load(key, clock.now(), clock.system_time())
        .await
        .map(|t| t.token.access_token().expose_secret().to_owned())
}

/// A raw connection, to look at and tamper with what the store wrote.
async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test]
async fn round_trip_sealed_with_a_ttl_and_no_secret_in_keys() {
    let redis = RedisServer::start().unwrap();
    let store = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap())
        .prefix("t1")
        .build()
        .unwrap();
    let key = SharedKey::new("grant=client_credentials\nclient_id=my-service\n", None);
    assert_eq!(load(&store, &key).await, None);
    store.store(&key, &token("AT-secret-1"), Duration::from_secs(60)).await;
    assert_eq!(load(&store, &key).await.as_deref(), Some("AT-secret-1"));

    let mut conn = raw(&redis).await;
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    assert_eq!(keys, [store.token_key(&key)]);
    assert!(keys[0].starts_with("t1:") && !keys[0].contains("my-service"), "{keys:?}");
    let value: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query_async(&mut conn).await.unwrap();
    assert!(!value.windows(9).any(|w| w == b"AT-secret"), "sealed at rest");
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query_async(&mut conn).await.unwrap();
    assert!((59_000..=60_000).contains(&ttl), "{ttl}");
    // A load says what Redis has left of the TTL (it caps the token's use against clock skew).
    let clock = SystemClock;
    let loaded = store.load(&key, clock.now(), clock.system_time()).await.unwrap();
    let left = loaded.remaining.unwrap();
    assert!(left <= Duration::from_secs(60) && left >= Duration::from_secs(58), "{left:?}");
    assert!(!format!("{store:?}").contains("AT-"));
}

#[tokio::test]
async fn tampered_foreign_and_other_key_values_are_misses() {
    let redis = RedisServer::start().unwrap();
    let secret = EncryptionKey::generate().unwrap();
    let store = RedisTokenStore::builder(redis.url(), secret.clone()).build().unwrap();
    let (a, b) = (SharedKey::new("id", Some(&"read".parse().unwrap())), SharedKey::new("id", None));
    store.store(&a, &token("AT-a"), Duration::from_secs(60)).await;
    let mut conn = raw(&redis).await;
    let value: Vec<u8> = redis::cmd("GET").arg(store.token_key(&a)).query_async(&mut conn).await.unwrap();

    // Copied under another key: does not open.
    let _: () = redis::cmd("SET").arg(store.token_key(&b)).arg(&value).query_async(&mut conn).await.unwrap();
    assert_eq!(load(&store, &b).await, None);
    // Another encryption key: does not open.
    let other = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap()).build().unwrap();
    assert_eq!(load(&other, &a).await, None);
    // Tampered: a flipped bit, a truncated value, garbage, an empty value.
    let mut flipped = value.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    for bad in [flipped, value[..10].to_vec(), b"{\"access_token\":\"x\"}".to_vec(), Vec::new()] {
        let _: () =
            redis::cmd("SET").arg(store.token_key(&a)).arg(&bad).query_async(&mut conn).await.unwrap();
        assert_eq!(load(&store, &a).await, None);
    }
    // A value sealed right but not a token: a miss too.
    let same_key = RedisTokenStore::builder(redis.url(), secret).build().unwrap();
    store.store(&a, &token("AT-a2"), Duration::from_secs(60)).await;
    assert_eq!(load(&same_key, &a).await.as_deref(), Some("AT-a2"), "the same key opens it");
}

#[tokio::test]
async fn one_lease_at_a_time_released_only_by_its_holder() {
    let redis = RedisServer::start().unwrap();
    let store = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap()).build().unwrap();
    let key = SharedKey::new("id", None);
    let Lease::Taken(first) = store.try_lease(&key, Duration::from_secs(5)).await else {
        panic!("free lease")
    };
    assert_eq!(store.try_lease(&key, Duration::from_secs(5)).await, Lease::Busy);
    // Releasing someone else's lease does nothing.
    store.release(&key, &oauth2_kit::cache::LeaseId("not-mine".into())).await;
    assert_eq!(store.try_lease(&key, Duration::from_secs(5)).await, Lease::Busy);
    store.release(&key, &first).await;
    assert!(matches!(store.try_lease(&key, Duration::from_millis(200)).await, Lease::Taken(_)));
    // A lease runs out by itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(store.try_lease(&key, Duration::from_secs(5)).await, Lease::Taken(_)));
}

/// A lease key left without an expiry (another writer, a `PERSIST`) is repaired at the next
/// try, not waited out on every cold start until someone deletes it.
#[tokio::test]
async fn a_lease_without_expiry_is_taken_over() {
    let redis = RedisServer::start().unwrap();
    let store = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap()).build().unwrap();
    let key = SharedKey::new("id", None);
    let mut raw = raw(&redis).await;
    let lease_key = store.lease_key(&key);
    let () = redis::cmd("SET").arg(&lease_key).arg("stuck").query_async(&mut raw).await.unwrap();
    let Lease::Taken(lease) = store.try_lease(&key, Duration::from_secs(5)).await else {
        panic!("a lease without expiry is taken over")
    };
    let ttl: i64 = redis::cmd("PTTL").arg(&lease_key).query_async(&mut raw).await.unwrap();
    assert!((1..=5000).contains(&ttl), "the lease expires again: {ttl}");
    // A live lease (with its expiry) is still respected.
    assert_eq!(store.try_lease(&key, Duration::from_secs(5)).await, Lease::Busy);
    store.release(&key, &lease).await;
    let left: Option<String> = redis::cmd("GET").arg(&lease_key).query_async(&mut raw).await.unwrap();
    assert_eq!(left, None, "released by its new holder");
}

#[tokio::test]
async fn an_unreachable_redis_is_a_miss_and_sharing_resumes_when_it_is_back() {
    let mut redis = RedisServer::start().unwrap();
    let store = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let key = SharedKey::new("id", None);
    store.store(&key, &token("AT-1"), Duration::from_secs(60)).await;
    assert!(load(&store, &key).await.is_some());

    redis.stop();
    assert_eq!(load(&store, &key).await, None);
    assert_eq!(store.try_lease(&key, Duration::from_secs(5)).await, Lease::Unavailable);
    store.store(&key, &token("AT-2"), Duration::from_secs(60)).await; // no panic, no error
    assert!(store.is_unavailable());

    redis.restart().unwrap();
    // The multiplexed connection reconnects by itself; the restarted Redis is empty.
    let mut back = false;
    for _ in 0..50 {
        if matches!(store.try_lease(&key, Duration::from_secs(5)).await, Lease::Taken(_)) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "sharing resumes without a restart");
    store.store(&key, &token("AT-3"), Duration::from_secs(60)).await;
    assert_eq!(load(&store, &key).await.as_deref(), Some("AT-3"));
    assert!(!store.is_unavailable());
}

#[test]
fn bad_settings_are_refused_without_echoing_the_url() {
    let key = EncryptionKey::generate().unwrap();
    let err = RedisTokenStore::builder("nope://user:hunter2@host", key.clone()).build().unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(RedisTokenStore::builder("redis://127.0.0.1/", key).prefix("a b").build().is_err());
}

/// Outside tokio (async-std, smol, or a plain executor), through a Redis restart.
#[test]
fn outside_tokio_through_a_restart() {
    let mut redis = RedisServer::start().unwrap();
    let store = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap()).build().unwrap();
    let key = SharedKey::new("id", None);
    futures_lite::future::block_on(async {
        store.store(&key, &token("AT-1"), Duration::from_secs(60)).await;
        assert_eq!(load(&store, &key).await.as_deref(), Some("AT-1"));
    });
    redis.stop();
    futures_lite::future::block_on(async { assert_eq!(load(&store, &key).await, None) });
    redis.restart().unwrap();
    let back = futures_lite::future::block_on(async {
        for _ in 0..50 {
            store.store(&key, &token("AT-2"), Duration::from_secs(60)).await;
            if load(&store, &key).await.is_some() {
                return true;
            }
            async_io::Timer::after(Duration::from_millis(100)).await;
        }
        false
    });
    assert!(back, "reconnected outside tokio");
}

/// DPoP-bound tokens go only to replicas that hold the key they are bound to: replicas with the
/// same key share one token; a replica with another key gets its own (its cache identity names
/// its key), and does so even when every replica is given the same explicit identity (it never
/// takes a token bound to another key from the store).
#[tokio::test]
async fn bound_tokens_are_shared_only_by_replicas_holding_their_key() {
    use std::sync::Arc;

    use oauth2_kit::cache::SharedOptions;
    use oauth2_kit::dpop::DpopKey;
    use oauth2_kit::{AccessTokenProvider as _, ClientAuth, OAuth2Client};
    use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

    let redis = RedisServer::start().unwrap();
    let sealing = EncryptionKey::generate().unwrap();
    let server = TestServer::start().unwrap();
    let replica = |key: &DpopKey, identity: Option<&str>| {
        let http = oauth2_kit_reqwest::ReqwestClient::new().unwrap();
        let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
        let client = OAuth2Client::builder(server.authorization_server(), auth, http)
            .dpop(key.clone())
            .build()
            .unwrap();
        let store = RedisTokenStore::builder(redis.url(), sealing.clone()).build().unwrap();
        let options =
            identity.map_or_else(SharedOptions::default, |id| SharedOptions::default().with_identity(id));
        oauth2_kit_cache_tokio::builder(client.client_credentials().unwrap())
            .shared_store(Arc::new(store), options)
            .build()
    };
    let (shared, other) = (DpopKey::generate().unwrap(), DpopKey::generate().unwrap());
    for identity in [None, Some("one identity for every replica")] {
        server.reset_counts();
        let first = replica(&shared, identity).request_token(None).await.unwrap();
        let second = replica(&shared, identity).request_token(None).await.unwrap();
        assert_eq!(second.access_token(), first.access_token(), "{identity:?}: the same key shares");
        assert_eq!(server.requests(Route::Token), 1, "{identity:?}");
        let third = replica(&other, identity).request_token(None).await.unwrap();
        assert_ne!(third.access_token(), first.access_token(), "{identity:?}: another key does not");
        assert_eq!(third.dpop_jkt(), Some(other.thumbprint()), "{identity:?}");
        assert_eq!(server.requests(Route::Token), 2, "{identity:?}");
        server.revoke_all_tokens();
        redis::cmd("FLUSHALL").query_async::<()>(&mut raw(&redis).await).await.unwrap();
    }
    // A bearer token in the store (its writer's server issued one) is taken by a replica with a
    // key too, under one identity: it is what that replica would have got.
    server.reset_counts();
    let identity = "one identity for every replica";
    let http = oauth2_kit_reqwest::ReqwestClient::new().unwrap();
    let keyless = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    );
    let store = RedisTokenStore::builder(redis.url(), sealing.clone()).build().unwrap();
    let options = SharedOptions::default().with_identity(identity);
    let writer = oauth2_kit_cache_tokio::builder(keyless.client_credentials().unwrap())
        .shared_store(Arc::new(store), options)
        .build();
    let bearer = writer.request_token(None).await.unwrap();
    assert_eq!(bearer.dpop_jkt(), None);
    let taken = replica(&shared, Some(identity)).request_token(None).await.unwrap();
    assert_eq!(taken.access_token(), bearer.access_token());
    assert_eq!(server.requests(Route::Token), 1);
}
