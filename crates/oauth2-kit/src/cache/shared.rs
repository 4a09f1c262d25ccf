//! A second-level token store shared by a fleet of processes, behind each one's in-process
//! cache: read-through, write-through, and a lease so that one process in the fleet fetches
//! while the others wait for its token.
//!
//! The store is a contract ([`SharedTokenStore`]); `oauth2-kit-cache-redis` implements it on
//! Redis. The protocol around it is here, once, in [`CachingProvider`](super::CachingProvider):
//!
//! 1. a fetch (no usable token, or a stale one) first **reads** the store: a token another
//!    process stored is used if usable (fresh, for a background refresh);
//! 2. otherwise it takes the **lease** (`try_lease`): the holder asks the identity provider,
//!    **writes** the token (kept until its hard margin) and releases the lease;
//! 3. a process that finds the lease taken **waits** for the token to appear, reading the store
//!    every `poll_interval`, at most `lease_ttl`; then it fetches itself (the holder died: that
//!    costs one lease time at most);
//! 4. a store that fails (`Lease::Unavailable`, a failed read) counts as a miss: the process
//!    fetches on its own, as without a store. So does a call that does not answer within the
//!    store's [`operation_timeout`](SharedTokenStore::operation_timeout): every call is bounded.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::decode::{DecodeError, JsonObject};
use crate::scope::Scope;
use crate::secret::AccessToken;
use crate::token::{TokenResponse, TokenType};

/// Where a token lives in a shared store: the SHA-256 (hex) of the provider's identity (grant,
/// token endpoint, client, extra parameters: see
/// [`AccessTokenProvider::cache_identity`](crate::AccessTokenProvider::cache_identity)) and the
/// normalised scope. Never holds a secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SharedKey(String);

impl SharedKey {
    /// The key of `scope`'s tokens for a provider of `identity`.
    pub fn new(identity: &str, scope: Option<&Scope>) -> Self {
        let mut hash = Sha256::new();
        hash.update(identity.as_bytes());
        hash.update(b"\nscope=");
        // `Scope::as_str` is normalised: sorted, without duplicates.
        hash.update(scope.map_or("", Scope::as_str).as_bytes());
        let digest = hash.finalize();
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The key, 64 hexadecimal characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedKey({})", self.0.get(..12).unwrap_or(&self.0))
    }
}

/// A token as a shared store keeps it: the token, when its request was sent (wall clock) and
/// its lifetime, so every process computes the same refresh point and hard margin.
#[derive(Clone)]
pub struct SharedToken {
    /// The token (access token, type, scope and extra members; no refresh or ID token).
    pub token: TokenResponse,
    /// When the token request was sent, by the wall clock.
    pub issued_at: SystemTime,
    /// The token's lifetime from `issued_at`.
    pub lifetime: Duration,
    /// How long the store still keeps it (its TTL), when the store knows: the token is never
    /// used past that, whatever the clocks say (a writer's clock may run ahead of the reader's).
    pub remaining: Option<Duration>,
}

impl SharedToken {
    /// The serialised form (JSON) a store encrypts and keeps. Wiped when dropped.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let issued_at = millis(self.issued_at.duration_since(UNIX_EPOCH).unwrap_or_default());
        let value = json!({
            "access_token": self.token.access_token().expose_secret(),
            "token_type": self.token.token_type().as_str(),
            "scope": self.token.scope().map(Scope::as_str),
            "extra": self.token.extra(),
            "dpop_jkt": self.token.dpop_jkt(),
            "issued_at_ms": issued_at,
            "lifetime_ms": millis(self.lifetime),
        });
        Zeroizing::new(serde_json::to_vec(&value).unwrap_or_default())
    }

    /// Reads the serialised form back. `requested_at` is rebuilt from `issued_at` by the
    /// caller's clocks ([`TokenResponse::requested_at`] is a monotonic instant).
    pub fn from_json(
        bytes: &[u8],
        now: std::time::Instant,
        wall_now: SystemTime,
    ) -> Result<Self, DecodeError> {
        let mut object = JsonObject::parse(bytes)?;
        let access_token = object.required_string("access_token")?;
        let token_type = TokenType::from(object.required_string("token_type")?.as_str());
        let scope = object.scope("scope")?;
        let number = |object: &mut JsonObject<'_>, key: &'static str| -> Result<u64, DecodeError> {
            object
                .take_if(Value::is_u64, key)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| DecodeError::new(Some(key), format!("`{key}` must be a whole number")))
        };
        let issued_at =
            UNIX_EPOCH
                .checked_add(Duration::from_millis(number(&mut object, "issued_at_ms")?))
                .ok_or_else(|| DecodeError::new(Some("issued_at_ms"), "`issued_at_ms` is out of range"))?;
        let lifetime = Duration::from_millis(number(&mut object, "lifetime_ms")?);
        let dpop_jkt = object.optional_string("dpop_jkt")?.map(std::sync::Arc::<str>::from);
        let extra = match object.take_if(Value::is_object, "extra") {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        // The request was sent `age` ago; an `issued_at` in the future (clock skew) counts as now.
        let age = wall_now.duration_since(issued_at).unwrap_or_default();
        let requested_at = now.checked_sub(age).ok_or_else(|| {
            DecodeError::new(Some("issued_at_ms"), "the token is older than this clock can tell")
        })?;
        let token = TokenResponse::new(AccessToken::new(access_token), token_type, requested_at)
            .with_expires_in(Some(lifetime))
            .with_scope(scope)
            .with_extra(extra)
            .with_dpop_jkt(dpop_jkt);
        Ok(Self { token, issued_at, lifetime, remaining: None })
    }
}

impl fmt::Debug for SharedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedToken")
            .field("token", &self.token)
            .field("issued_at", &self.issued_at)
            .field("lifetime", &self.lifetime)
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// The outcome of [`SharedTokenStore::try_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lease {
    /// This process holds the lease (until released or its time runs out).
    Taken(LeaseId),
    /// Another process holds it: wait for its token.
    Busy,
    /// The store cannot be reached: go on without it.
    Unavailable,
}

impl SharedOptions {
    /// The options with their bounds applied.
    pub(crate) fn clamped(mut self) -> Self {
        self.lease_ttl = self.lease_ttl.max(Duration::from_millis(500));
        self.poll_interval = self.poll_interval.max(Duration::from_millis(10));
        self
    }
}

/// Who holds a lease: a random value, so that a process releases only its own.
#[derive(Clone, PartialEq, Eq)]
pub struct LeaseId(pub String);

impl fmt::Debug for LeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeaseId(..)")
    }
}

/// A store of tokens shared by many processes. Every failure is the store's to log and counts
/// as a miss: a store must never make a token request fail.
#[async_trait]
pub trait SharedTokenStore: Send + Sync + fmt::Debug + 'static {
    /// The token stored under `key`; `None` if there is none, or it cannot be read, decrypted
    /// or decoded. `now` and `wall_now` are the cache's clocks (for
    /// [`SharedToken::from_json`]).
    async fn load(
        &self,
        key: &SharedKey,
        now: std::time::Instant,
        wall_now: SystemTime,
    ) -> Option<SharedToken>;

    /// Stores `token` under `key`, to be dropped after `ttl` (its hard margin).
    async fn store(&self, key: &SharedKey, token: &SharedToken, ttl: Duration);

    /// Takes the fetch lease of `key` for `ttl`, unless another process holds it.
    async fn try_lease(&self, key: &SharedKey, ttl: Duration) -> Lease;

    /// Releases the lease `lease` of `key`, if it is still held by it.
    async fn release(&self, key: &SharedKey, lease: &LeaseId);

    /// The longest one operation may take. The caching provider bounds every call by it (and
    /// half as much again, so that the store's own timeout fires first): a call still
    /// unanswered then counts as failed (a miss, or `Lease::Unavailable`), so a store that hangs
    /// never holds a caller. It also leaves room in the lease for a holder's token
    /// request and the operations around it. Default: [`DEFAULT_OPERATION_TIMEOUT`]; zero means
    /// the default. A store with a timeout of its own returns it, so that its own fires first.
    fn operation_timeout(&self) -> Duration {
        DEFAULT_OPERATION_TIMEOUT
    }
}

/// The bound of one shared-store call when the store names none (1 s).
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(1);

/// The bound the caching provider puts on each call to `store`: its operation timeout and half
/// as much again (at least 50 ms more), so that a store's own timeout fires first and the
/// provider's only catches a store that has none.
pub(crate) fn operation_bound(store: &dyn SharedTokenStore) -> Duration {
    let timeout = match store.operation_timeout() {
        zero if zero.is_zero() => DEFAULT_OPERATION_TIMEOUT,
        timeout => timeout,
    };
    timeout.saturating_add((timeout / 2).max(Duration::from_millis(50)))
}

/// How a caching provider uses a shared store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedOptions {
    /// How long a lease lasts, and the longest a process waits for another's token before it
    /// fetches on its own. The lease holder's token request is cut at four fifths of it, less
    /// three store operations, so a lease outlives the fetch. Default 30 s; at least 500 ms.
    pub lease_ttl: Duration,
    /// How often a waiting process reads the store (and tries the lease again). Default
    /// 100 ms; at least 10 ms.
    pub poll_interval: Duration,
    /// The identity tokens are shared under; overrides the delegate's
    /// [`cache_identity`](crate::AccessTokenProvider::cache_identity). Default: the delegate's.
    pub identity: Option<String>,
}

impl Default for SharedOptions {
    fn default() -> Self {
        Self { lease_ttl: Duration::from_secs(30), poll_interval: Duration::from_millis(100), identity: None }
    }
}

impl SharedOptions {
    /// These options with another [`lease_ttl`](Self::lease_ttl).
    #[must_use]
    pub fn with_lease_ttl(mut self, lease_ttl: Duration) -> Self {
        self.lease_ttl = lease_ttl;
        self
    }

    /// These options with another [`poll_interval`](Self::poll_interval).
    #[must_use]
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// These options with an explicit [`identity`](Self::identity).
    #[must_use]
    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }
}

/// A provider's shared store, as configured.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn SharedTokenStore>,
    pub(crate) identity: String,
    pub(crate) options: SharedOptions,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock as _;

    #[test]
    fn keys_depend_on_identity_and_scope_set_only() {
        let a: Scope = "read write".parse().unwrap();
        let b: Scope = "write read read".parse().unwrap();
        assert_eq!(SharedKey::new("id", Some(&a)), SharedKey::new("id", Some(&b)));
        assert_ne!(SharedKey::new("id", Some(&a)), SharedKey::new("id2", Some(&a)));
        assert_ne!(SharedKey::new("id", Some(&a)), SharedKey::new("id", None));
        assert_eq!(SharedKey::new("id", None).as_str().len(), 64);
    }

    #[test]
    fn tokens_round_trip_with_their_age() {
        let clock = crate::SystemClock;
        let (now, wall) = (clock.now(), clock.system_time());
        let token = TokenResponse::new(AccessToken::new("AT"), TokenType::Bearer, now)
            .with_scope(Some("a b".parse().unwrap()));
        let shared = SharedToken {
            token,
            issued_at: wall - Duration::from_secs(10),
            lifetime: Duration::from_secs(60),
            remaining: None,
        };
        let bytes = shared.to_json();
        let back = SharedToken::from_json(&bytes, now, wall).unwrap();
        assert_eq!(back.token.access_token().expose_secret(), "AT");
        assert_eq!(back.token.scope().unwrap().as_str(), "a b");
        // Stored in milliseconds: the rebuilt expiry is within a millisecond of the original.
        let expected = now.checked_sub(Duration::from_secs(10)).unwrap() + Duration::from_secs(60);
        let got = back.token.expires_at().unwrap();
        assert!(got.max(expected) - got.min(expected) <= Duration::from_millis(1), "{got:?} vs {expected:?}");
        assert!(!format!("{back:?}").contains("AT\""));
        assert!(SharedToken::from_json(br#"{"access_token":"a","token_type":"Bearer"}"#, now, wall).is_err());
        assert_eq!(back.token.dpop_jkt(), None);
    }

    #[test]
    fn a_bound_token_keeps_its_key_thumbprint() {
        let clock = crate::SystemClock;
        let (now, wall) = (clock.now(), clock.system_time());
        let token = TokenResponse::new(AccessToken::new("AT"), TokenType::DPoP, now)
            .with_dpop_jkt(Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()));
        let shared =
            SharedToken { token, issued_at: wall, lifetime: Duration::from_secs(60), remaining: None };
        let back = SharedToken::from_json(&shared.to_json(), now, wall).unwrap();
        assert_eq!(back.token.token_type(), &TokenType::DPoP);
        assert_eq!(back.token.dpop_jkt(), Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
    }
}
