//! Redis trouble is logged once per burst (its own test binary: it installs a subscriber, which
//! other tests' threads must not race).

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

/// A writer that keeps every log line, to count them.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_outage_is_logged_once_per_burst() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Callsites seen by other tests' threads cached "no subscriber": ask again.
    tracing::callsite::rebuild_interest_cache();

    let mut redis = RedisServer::start().unwrap();
    let store = RedisTokenStore::builder(redis.url(), EncryptionKey::generate().unwrap())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let key = SharedKey::new("id", None);
    store.store(&key, &token("AT-logged"), Duration::from_secs(60)).await;
    redis.stop();
    for _ in 0..20 {
        let clock = SystemClock;
        assert!(store.load(&key, clock.now(), clock.system_time()).await.is_none());
    }
    redis.restart().unwrap();
    for _ in 0..50 {
        if matches!(store.try_lease(&key, Duration::from_secs(1)).await, Lease::Taken(_)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches("Redis is unavailable").count(), 1, "{text}");
    assert_eq!(text.matches("Redis answers again").count(), 1, "{text}");
    assert!(!text.contains("AT-logged"), "{text}");
}
