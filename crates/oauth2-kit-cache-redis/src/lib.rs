//! # oauth2-kit-cache-redis
//!
//! Fleet-wide token sharing on Redis: a service running as 50 replicas asks the identity
//! provider for **one** token per expiry, not 50, and none on a deploy while a shared token is
//! usable.
//!
//! [`RedisTokenStore`] is a second-level store behind each instance's in-process cache (the
//! core's [`SharedTokenStore`] contract; the protocol is the core's, see
//! [`oauth2_kit::cache::shared`]): read-through on a miss or a stale token, write-through with the
//! token's absolute expiry (Redis TTL = time to the hard margin), and a lease (`SET key NX PX`)
//! so that one instance fetches while the others wait for its token.
//!
//! ```no_run
//! use std::sync::Arc;
//! use oauth2_kit::ClientCredentials;
//! use oauth2_kit::cache::SharedOptions;
//! use oauth2_kit_cache_redis::{EncryptionKey, RedisTokenStore};
//! # async fn demo(client: ClientCredentials) -> Result<(), Box<dyn std::error::Error>> {
//! let key = EncryptionKey::from_base64(&std::env::var("TOKEN_CACHE_KEY")?)?;
//! let store = RedisTokenStore::builder("redis://127.0.0.1:6379/", key).prefix("billing").build()?;
//! let provider = oauth2_kit_cache_tokio::builder(client)
//!     .shared_store(Arc::new(store), SharedOptions::default())
//!     .build();
//! # drop(provider); Ok(()) }
//! ```
//!
//! - **Keys**: `{prefix}:{sha256(grant, token endpoint, client id, extra parameters, scope)}`
//!   and `…:lease`; never a secret.
//! - **Confidentiality**: values are sealed with ChaCha20-Poly1305 under a key you supply, with
//!   the Redis key as associated data: a value copied under another key, tampered with, or
//!   sealed with another key does not open, and counts as a miss.
//! - **Redis trouble is never an outage**: every operation has a short timeout (250 ms by
//!   default); errors, timeouts and bad values count as misses and are logged once per burst;
//!   the in-process cache keeps working, each instance fetching for itself; sharing resumes
//!   when Redis answers again (one multiplexed connection that reconnects by itself).
//! - **Runtimes**: works with the tokio, async-std and moka caching providers. Features `tokio`
//!   and `async-std` (both default) choose what is compiled. With only one, all Redis I/O runs
//!   on it (with only `tokio`, use the store from tokio only). With both, the redis crate picks
//!   at each connect and reconnect: tokio if a tokio runtime is current, else async-io (the
//!   reactor of async-std and smol); an application on one runtime can fix the choice with
//!   [`RedisTokenStoreBuilder::runtime`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod crypto;
mod health;

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use async_io::Timer;
use oauth2_kit::async_trait;
use oauth2_kit::cache::{Lease, LeaseId, SharedKey, SharedToken, SharedTokenStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use crate::crypto::{EncryptionKey, KeyError};
use crate::health::{BadValues, Health};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "oauth2-kit:token";

/// The default timeout of one Redis operation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// Deletes a lease only if it is still the caller's.
const RELEASE: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Takes a lease (`SET NX PX`); a lease key without an expiry (left by another writer, or a
/// `PERSIST`) is abandoned, since every lease this crate writes expires: it is taken over, so
/// that it does not make every fetch wait a whole lease time until someone deletes it.
/// Returns 1 (taken), 2 (taken over from a lease without expiry) or 0 (busy).
const LEASE: &str = "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end \
if redis.call('pttl', KEYS[1]) == -1 then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end \
return 0";

/// Tokens in Redis, shared by a fleet: see the [crate documentation](crate).
pub struct RedisTokenStore {
    connection: ConnectionManager,
    key: EncryptionKey,
    prefix: String,
    timeout: Duration,
    health: Health,
    bad_values: BadValues,
    release: redis::Script,
    lease: redis::Script,
}

/// The runtime of the Redis I/O ([`RedisTokenStoreBuilder::runtime`]).
#[cfg(all(feature = "tokio", feature = "async-std"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisRuntime {
    /// tokio.
    Tokio,
    /// async-io: async-std and smol.
    AsyncIo,
}

/// Why a store could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The Redis URL is not one the client understands. The message never repeats a password
    /// the URL may hold.
    #[error("invalid Redis URL: {0}")]
    Url(String),
    /// The prefix is empty or holds whitespace.
    #[error("the key prefix must be non-empty and hold no whitespace")]
    Prefix,
}

/// Options of a [`RedisTokenStore`].
#[must_use]
pub struct RedisTokenStoreBuilder {
    url: String,
    key: EncryptionKey,
    prefix: String,
    timeout: Duration,
}

impl RedisTokenStore {
    /// A builder for a store on the Redis at `url` (`redis://[user:password@]host:port[/db]`),
    /// sealing tokens with `key`.
    pub fn builder(url: impl Into<String>, key: EncryptionKey) -> RedisTokenStoreBuilder {
        RedisTokenStoreBuilder {
            url: url.into(),
            key,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The Redis key of a token.
    pub fn token_key(&self, key: &SharedKey) -> String {
        format!("{}:{}", self.prefix, key.as_str())
    }

    /// The Redis key of a token's lease.
    pub fn lease_key(&self, key: &SharedKey) -> String {
        format!("{}:{}:lease", self.prefix, key.as_str())
    }

    /// Whether the last Redis operation failed.
    pub fn is_unavailable(&self) -> bool {
        self.health.is_down()
    }

    /// Runs one Redis operation under the timeout; failures are logged (once per burst) and
    /// become `None`.
    async fn run<T>(
        &self,
        operation: &'static str,
        future: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let timeout = self.timeout;
        let timed = futures_lite::future::or(async { Some(future.await) }, async {
            Timer::after(timeout).await;
            None
        });
        match timed.await {
            Some(Ok(value)) => {
                self.health.ok();
                Some(value)
            }
            Some(Err(error)) => {
                self.health.failed(operation, &error);
                None
            }
            None => {
                self.health.failed(operation, &format_args!("no answer within {timeout:?}"));
                None
            }
        }
    }
}

impl RedisTokenStoreBuilder {
    /// The prefix of every key. Default: [`DEFAULT_PREFIX`]. Give each service (or environment)
    /// sharing a Redis its own, or keep the default to share tokens between services that use
    /// the same client.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The timeout of one Redis operation (connecting included). Default: [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Which runtime runs the Redis I/O, for the whole process (`redis` keeps one choice). By
    /// default the redis crate decides at each connect and reconnect: tokio if a tokio runtime is
    /// current there, else async-io. Set it when the application runs on one runtime and may
    /// (re)connect from outside it. Only with both features `tokio` and `async-std`; a second,
    /// different choice in one process is refused with a warning.
    #[cfg(all(feature = "tokio", feature = "async-std"))]
    pub fn runtime(self, runtime: RedisRuntime) -> Self {
        let chosen = match runtime {
            RedisRuntime::Tokio => redis::aio::prefer_tokio(),
            RedisRuntime::AsyncIo => redis::aio::prefer_smol(),
        };
        if chosen.is_err() {
            tracing::warn!(?runtime, "the Redis runtime was already chosen for this process: unchanged");
        }
        self
    }

    /// Builds the store. Connects lazily: Redis need not be up yet (until it is, tokens are
    /// not shared). Build it inside the runtime it will run on (see the crate documentation).
    pub fn build(self) -> Result<RedisTokenStore, BuildError> {
        if self.prefix.is_empty() || self.prefix.chars().any(char::is_whitespace) {
            return Err(BuildError::Prefix);
        }
        // The client's messages may quote the URL (and its password): only the kind is kept.
        let client =
            redis::Client::open(self.url.as_str()).map_err(|e| BuildError::Url(format!("{:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(self.timeout);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| BuildError::Url(format!("{:?}", e.kind())))?;
        Ok(RedisTokenStore {
            connection,
            key: self.key,
            prefix: self.prefix,
            timeout: self.timeout,
            health: Health::default(),
            bad_values: BadValues::default(),
            release: redis::Script::new(RELEASE),
            lease: redis::Script::new(LEASE),
        })
    }
}

impl fmt::Debug for RedisTokenStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStoreBuilder")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("unavailable", &self.is_unavailable())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SharedTokenStore for RedisTokenStore {
    async fn load(&self, key: &SharedKey, now: Instant, wall_now: SystemTime) -> Option<SharedToken> {
        let redis_key = self.token_key(key);
        let mut connection = self.connection.clone();
        // The value and what Redis has left of its TTL (which caps its use: the clocks of the
        // replica that wrote it may be ahead of ours).
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&redis_key).cmd("PTTL").arg(&redis_key);
        let (value, pttl) =
            self.run("load", pipe.query_async::<(Option<Vec<u8>>, i64)>(&mut connection)).await?;
        let value = value?;
        let Some(plaintext) = self.key.open(&redis_key, &value) else {
            self.bad_values.seen(&redis_key, "does not decrypt");
            return None;
        };
        match SharedToken::from_json(&plaintext, now, wall_now) {
            Ok(mut token) => {
                token.remaining = u64::try_from(pttl).ok().map(Duration::from_millis);
                Some(token)
            }
            Err(_) => {
                self.bad_values.seen(&redis_key, "does not decode");
                None
            }
        }
    }

    async fn store(&self, key: &SharedKey, token: &SharedToken, ttl: Duration) {
        let redis_key = self.token_key(key);
        let Some(value) = self.key.seal(&redis_key, &token.to_json()) else {
            tracing::warn!("a token could not be sealed (no randomness): not shared");
            return;
        };
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let mut set = redis::cmd("SET");
        set.arg(&redis_key).arg(value).arg("PX").arg(millis);
        self.run("store", set.query_async::<()>(&mut connection)).await;
    }

    async fn try_lease(&self, key: &SharedKey, ttl: Duration) -> Lease {
        let mut id = [0u8; 16];
        if getrandom::fill(&mut id).is_err() {
            return Lease::Unavailable;
        }
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let mut invocation = self.lease.key(self.lease_key(key));
        invocation.arg(&id).arg(millis);
        match self.run("lease", invocation.invoke_async::<i64>(&mut connection)).await {
            Some(1) => Lease::Taken(LeaseId(id)),
            Some(2) => {
                tracing::warn!(key = ?key, "a lease without an expiry was found and taken over (another writer?)");
                Lease::Taken(LeaseId(id))
            }
            Some(_) => Lease::Busy,
            None => Lease::Unavailable,
        }
    }

    fn operation_timeout(&self) -> Duration {
        self.timeout
    }

    async fn release(&self, key: &SharedKey, lease: &LeaseId) {
        let mut connection = self.connection.clone();
        let mut invocation = self.release.key(self.lease_key(key));
        invocation.arg(&lease.0);
        self.run("release", invocation.invoke_async::<i64>(&mut connection)).await;
    }
}
