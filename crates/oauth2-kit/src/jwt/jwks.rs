//! An issuer's key set, fetched from its `jwks_uri` and kept: one fetch shared by every
//! caller waiting for it, kept as long as the server's `Cache-Control` says (within bounds),
//! fetched again for an unknown `kid` at most once per cooldown, and the last good set kept
//! while the server fails.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::HeaderMap;
use http::header::{AGE, CACHE_CONTROL};
use serde::de::DeserializeOwned;

use super::JwtError;
use super::key_set::{KeySet, Lookup};
use crate::clock::Clock;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::exchange::{Operation, Transport, check_body_limit};
use crate::flight::Flight;
use crate::http::HttpClient;
use crate::jws::Compact;
use crate::signing::{JwsAlgorithm, PublicKey};
use crate::sync::lock;

/// How long a key set is kept and how often it may be fetched. Every field has a documented
/// default; the defaults suit most issuers.
///
/// ```
/// use std::time::Duration;
/// use oauth2_kit::jwt::JwksPolicy;
///
/// let policy = JwksPolicy::default().with_refetch_cooldown(Duration::from_secs(60));
/// assert_eq!(policy.default_ttl, Duration::from_secs(600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksPolicy {
    /// How long a set is fresh when the response has no `Cache-Control: max-age`. Default
    /// 10 min.
    pub default_ttl: Duration,
    /// The shortest freshness, whatever `Cache-Control` says (`no-store` included). Default
    /// 1 min.
    pub min_ttl: Duration,
    /// The longest freshness, whatever `Cache-Control` says. Default 24 h.
    pub max_ttl: Duration,
    /// At most one fetch per this long for tokens whose `kid` the set does not have, however
    /// many such tokens arrive. It starts at such a fetch, not at the first one, so a key
    /// published right after a service starts is found by the first token signed with it.
    /// Default 30 s.
    pub refetch_cooldown: Duration,
    /// How long past its freshness a set is still used while fetching it again fails (the
    /// server down, an error, a set without usable keys): stale-if-error, bounded. Default 24 h.
    pub max_stale: Duration,
    /// How long a failed fetch is remembered before the next attempt (with no set to fall
    /// back on, callers get the failure meanwhile). Default 5 s.
    pub error_ttl: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            refetch_cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 3600),
            error_ttl: Duration::from_secs(5),
        }
    }
}

impl JwksPolicy {
    /// This policy with another [`refetch_cooldown`](Self::refetch_cooldown).
    #[must_use]
    pub fn with_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.refetch_cooldown = cooldown;
        self
    }

    /// This policy with other freshness bounds ([`default_ttl`](Self::default_ttl),
    /// [`min_ttl`](Self::min_ttl), [`max_ttl`](Self::max_ttl)).
    #[must_use]
    pub fn with_ttl(mut self, default: Duration, min: Duration, max: Duration) -> Self {
        self.default_ttl = default;
        self.min_ttl = min;
        self.max_ttl = max.max(min);
        self
    }

    /// This policy with another [`max_stale`](Self::max_stale).
    #[must_use]
    pub fn with_max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// This policy with another [`error_ttl`](Self::error_ttl).
    #[must_use]
    pub fn with_error_ttl(mut self, error_ttl: Duration) -> Self {
        self.error_ttl = error_ttl;
        self
    }

    /// How long a set received with `headers` is fresh (within the bounds, read as
    /// `min_ttl <= max_ttl` whatever the fields say).
    fn ttl(&self, headers: &HeaderMap) -> Duration {
        let bounds = Self { max_ttl: self.max_ttl.max(self.min_ttl), ..*self };
        bounds.bounded_ttl(headers)
    }

    fn bounded_ttl(&self, headers: &HeaderMap) -> Duration {
        let mut max_age = None;
        for value in headers.get_all(CACHE_CONTROL).iter().filter_map(|value| value.to_str().ok()) {
            for directive in value.split(',').map(str::trim) {
                let (name, argument) = directive.split_once('=').unwrap_or((directive, ""));
                if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                    return self.min_ttl;
                }
                if name.eq_ignore_ascii_case("max-age") {
                    max_age = argument.trim_matches('"').parse::<u64>().ok().or(Some(0));
                }
            }
        }
        let Some(max_age) = max_age else { return self.default_ttl.clamp(self.min_ttl, self.max_ttl) };
        let age = headers.get(AGE).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        Duration::from_secs(max_age.saturating_sub(age.unwrap_or(0))).clamp(self.min_ttl, self.max_ttl)
    }
}

/// An issuer's JSON Web Key Set (RFC 7517), fetched from its `jwks_uri` and kept: what
/// checks the signatures of its ID tokens, JWT access tokens and signed introspection
/// responses. Cheap to clone; clones share the keys. Runtime-agnostic: the caller whose
/// request needs a fetch makes it, and the others wait for it (or take it over if that caller
/// goes away).
///
/// - **One fetch at a time**: every caller that needs the set while it is being fetched waits
///   for that one fetch.
/// - **Freshness** from the response's `Cache-Control: max-age` (less `Age`), between
///   [`min_ttl`](JwksPolicy::min_ttl) and [`max_ttl`](JwksPolicy::max_ttl); once it has passed,
///   one caller fetches the set again while the others keep using the old one.
/// - **Unknown `kid`**: a token signed with a key the set does not have makes one more fetch
///   (shared by every token waiting on it), at most one per
///   [`refetch_cooldown`](JwksPolicy::refetch_cooldown): a flood of made-up `kid`s cannot make
///   the service hammer its issuer.
/// - **Stale if error**: while fetching fails, the last good set is used up to
///   [`max_stale`](JwksPolicy::max_stale) past its freshness.
///
/// Obtain it with [`OAuth2Client::jwks`](crate::OAuth2Client::jwks) (the discovered
/// `jwks_uri`, shared by every operation of the client), or build one with
/// [`Jwks::builder`].
#[derive(Clone)]
pub struct Jwks {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Endpoint,
    transport: Transport,
    policy: JwksPolicy,
    state: Mutex<State>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct State {
    kept: Option<Kept>,
    flight: Option<Arc<Flight<Arc<Fetched>>>>,
    /// The sequence number of the next fetch.
    next_seq: u64,
    /// When the last fetch for an unknown `kid` started (the cooldown's start).
    refetched_at: Option<Instant>,
    /// The last failed fetch's error, handed out until the instant.
    failure: Option<(Instant, Error)>,
}

impl State {
    /// A new flight, this caller its leader, with the number of its fetch.
    fn lead(&mut self) -> (Arc<Flight<Arc<Fetched>>>, Option<u64>) {
        let flight = Flight::new();
        self.flight = Some(flight.clone());
        let seq = self.next_seq;
        self.next_seq += 1;
        (flight, Some(seq))
    }
}

/// A set as fetched, with the order of its fetch.
#[derive(Debug)]
struct Fetched {
    set: KeySet,
    seq: u64,
}

struct Kept {
    fetched: Arc<Fetched>,
    fresh_until: Instant,
    usable_until: Instant,
}

impl Jwks {
    /// A builder for the key set at `endpoint`, fetched over `http`.
    pub fn builder(endpoint: Endpoint, http: impl HttpClient + 'static) -> JwksBuilder {
        JwksBuilder { endpoint, transport: Transport::new(Arc::new(http)), policy: JwksPolicy::default() }
    }

    pub(crate) fn with_transport(endpoint: Endpoint, transport: Transport, policy: JwksPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                endpoint,
                transport,
                policy,
                state: Mutex::default(),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// How many times the set was fetched (successfully or not).
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The policy.
    pub fn policy(&self) -> &JwksPolicy {
        &self.inner.policy
    }

    /// The endpoint the set is fetched from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Checks `token`'s signature with the issuer's key its header names (`kid`, `alg` one of
    /// `algorithms`) and decodes its claims as `C`. **Only the signature is checked**: not
    /// `iss`, `aud`, `exp` or any other claim. For access tokens and ID tokens, use
    /// [`JwtAccessTokens`](super::JwtAccessTokens) and the authorization code flow, which check
    /// those too.
    ///
    /// Tokens longer than 16 KiB are refused. `none` and HMAC algorithms in `algorithms` are
    /// ignored.
    pub async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        algorithms: &[JwsAlgorithm],
    ) -> Result<C, JwtError> {
        let jws = Compact::parse(token, super::DEFAULT_MAX_TOKEN_BYTES)?;
        self.verify_compact(&jws, algorithms).await?;
        jws.claims()
    }

    /// Checks the signature of a parsed token.
    pub(crate) async fn verify_compact(
        &self,
        jws: &Compact<'_>,
        algorithms: &[JwsAlgorithm],
    ) -> Result<(), JwtError> {
        let algorithm = jws.algorithm(algorithms)?;
        if !crate::jws::ASYMMETRIC.contains(&algorithm) {
            return Err(JwtError::AlgorithmNotAllowed);
        }
        let keys = self.keys_for(jws.header.kid.as_deref(), algorithm).await?;
        jws.verify(&keys)
    }

    /// The keys to try for a token with `kid` signed with `algorithm`: from the kept set, or
    /// after one more fetch when the set lacks the `kid` (within the cooldown).
    pub(crate) async fn keys_for(
        &self,
        kid: Option<&str>,
        algorithm: JwsAlgorithm,
    ) -> Result<Vec<PublicKey>, JwtError> {
        // A set fetched from here on is as new as a refetch would give.
        let arrived = lock(&self.inner.state).next_seq;
        let fetched = self.current().await?;
        match fetched.set.lookup(kid, algorithm) {
            Lookup::Found(keys) => return Ok(keys),
            Lookup::WrongAlgorithm => return Err(JwtError::AlgorithmNotAllowed),
            Lookup::Unknown if fetched.seq >= arrived => return Err(JwtError::UnknownKey),
            Lookup::Unknown => {}
        }
        let fetched = self.refetch(fetched.seq).await?;
        match fetched.set.lookup(kid, algorithm) {
            Lookup::Found(keys) => Ok(keys),
            Lookup::WrongAlgorithm => Err(JwtError::AlgorithmNotAllowed),
            Lookup::Unknown => Err(JwtError::UnknownKey),
        }
    }

    /// The set to use now: the kept one while fresh; else a new one (fetched by this caller, or
    /// by another one this caller waits for), or the old one while another caller fetches, or
    /// while fetching fails (within [`JwksPolicy::max_stale`]).
    async fn current(&self) -> Result<Arc<Fetched>, JwtError> {
        let inner = &*self.inner;
        loop {
            let (flight, seq) = {
                let mut state = lock(&inner.state);
                let now = inner.transport.clock.now();
                let failing =
                    state.failure.as_ref().filter(|(until, _)| now < *until).map(|(_, e)| e.clone());
                match &state.kept {
                    Some(kept) if now < kept.fresh_until => return Ok(kept.fetched.clone()),
                    Some(kept)
                        if now < kept.usable_until && (state.flight.is_some() || failing.is_some()) =>
                    {
                        return Ok(kept.fetched.clone());
                    }
                    _ => {}
                }
                match (&state.flight, failing) {
                    (Some(flight), _) => (flight.clone(), None),
                    (None, Some(error)) => return Err(JwtError::KeysUnavailable(Box::new(error))),
                    (None, None) => state.lead(),
                }
            };
            match self.take_part(flight, seq, false).await {
                Ok(fetched) => return Ok(fetched),
                // The caller fetching went away: try again (one waiter takes the fetch over).
                Err(Error::FetchAborted { .. }) => continue,
                Err(error) => {
                    let state = lock(&inner.state);
                    let now = inner.transport.clock.now();
                    if let Some(kept) = state.kept.as_ref().filter(|kept| now < kept.usable_until) {
                        tracing::warn!(%error, "the key set could not be fetched again: using the last one");
                        return Ok(kept.fetched.clone());
                    }
                    return Err(JwtError::KeysUnavailable(Box::new(error)));
                }
            }
        }
    }

    /// A set newer than the one numbered `seen`, for a `kid` that one lacks: one a fetch
    /// already brought, the one being fetched, or a new fetch if the cooldown allows.
    async fn refetch(&self, seen: u64) -> Result<Arc<Fetched>, JwtError> {
        let inner = &*self.inner;
        loop {
            let (flight, seq) = {
                let mut state = lock(&inner.state);
                let now = inner.transport.clock.now();
                if let Some(kept) = state.kept.as_ref().filter(|kept| kept.fetched.seq > seen) {
                    return Ok(kept.fetched.clone());
                }
                if let Some(flight) = &state.flight {
                    (flight.clone(), None)
                } else {
                    let cooling = state
                        .refetched_at
                        .is_some_and(|at| now.saturating_duration_since(at) < inner.policy.refetch_cooldown);
                    if let Some((_, error)) = state.failure.as_ref().filter(|(until, _)| now < *until) {
                        return Err(JwtError::KeysUnavailable(Box::new(error.clone())));
                    }
                    if cooling {
                        return Err(JwtError::UnknownKey);
                    }
                    state.refetched_at = Some(now);
                    state.lead()
                }
            };
            match self.take_part(flight, seq, true).await {
                Ok(fetched) => return Ok(fetched),
                Err(Error::FetchAborted { .. }) => continue,
                Err(error) => return Err(JwtError::KeysUnavailable(Box::new(error))),
            }
        }
    }

    /// Leads the fetch (`seq` given: the flight was started for this caller) or waits for the
    /// one in flight.
    async fn take_part(
        &self,
        flight: Arc<Flight<Arc<Fetched>>>,
        seq: Option<u64>,
        refetch: bool,
    ) -> Result<Arc<Fetched>, Error> {
        match seq {
            Some(seq) => self.fetch(flight, seq, refetch).await,
            None => flight.wait().await,
        }
    }

    /// Fetches the set as the flight's leader: keeps it (or the failure), then settles the
    /// flight. If this future is dropped first, its guard settles the flight as aborted, and a
    /// waiter starts again; an aborted fetch for an unknown `kid` counts as a failure (the
    /// next one may start after `error_ttl`), so a client that hangs up cannot hold the
    /// cooldown.
    async fn fetch(
        &self,
        flight: Arc<Flight<Arc<Fetched>>>,
        seq: u64,
        refetch: bool,
    ) -> Result<Arc<Fetched>, Error> {
        let mut guard = Leader { inner: &self.inner, flight, settled: false, refetch };
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.inner.download().await.map(|(set, ttl)| (Arc::new(Fetched { set, seq }), ttl));
        let inner = &*self.inner;
        let mut state = lock(&inner.state);
        let now = inner.transport.clock.now();
        let result = match result {
            Ok((fetched, ttl)) => {
                // A slower, older fetch never replaces a newer set.
                if state.kept.as_ref().is_none_or(|kept| kept.fetched.seq < seq) {
                    let fresh_until = now.checked_add(ttl).unwrap_or(now);
                    let usable_until = fresh_until.checked_add(inner.policy.max_stale).unwrap_or(fresh_until);
                    state.kept = Some(Kept { fetched: fetched.clone(), fresh_until, usable_until });
                }
                state.failure = None;
                Ok(fetched)
            }
            Err(error) => {
                state.failure = Some((now.checked_add(inner.policy.error_ttl).unwrap_or(now), error.clone()));
                Err(error)
            }
        };
        state.flight = None;
        drop(state);
        guard.flight.finish(result.clone());
        guard.settled = true;
        result
    }
}

impl Inner {
    /// GETs the set: the set and how long it is fresh.
    async fn download(&self) -> Result<(KeySet, Duration), Error> {
        let answer = self.transport.get_json(Operation::Jwks, &self.endpoint).await?;
        let ttl = self.policy.ttl(&answer.headers);
        let set = answer.body_with(KeySet::from_json)?;
        Ok((set, ttl))
    }
}

/// Settles the flight as aborted if the fetching caller goes away before it finishes.
struct Leader<'a> {
    inner: &'a Inner,
    flight: Arc<Flight<Arc<Fetched>>>,
    settled: bool,
    /// Whether this fetch is for an unknown `kid` (and started the cooldown).
    refetch: bool,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = lock(&self.inner.state);
            if state.flight.as_ref().is_some_and(|flight| Arc::ptr_eq(flight, &self.flight)) {
                state.flight = None;
            }
            if self.refetch {
                let policy = &self.inner.policy;
                let now = self.inner.transport.clock.now();
                let shortened = policy.refetch_cooldown.saturating_sub(policy.error_ttl);
                state.refetched_at = now.checked_sub(shortened);
            }
            drop(state);
            self.flight.finish(Err(Error::FetchAborted { panicked: std::thread::panicking() }));
        }
    }
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = lock(&self.inner.state).kept.as_ref().map(|kept| kept.fetched.set.len());
        f.debug_struct("Jwks")
            .field("endpoint", &self.inner.endpoint)
            .field("keys", &keys)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

/// Options of a [`Jwks`].
#[must_use]
pub struct JwksBuilder {
    endpoint: Endpoint,
    transport: Transport,
    policy: JwksPolicy,
}

impl JwksBuilder {
    /// The policy. Default: [`JwksPolicy::default`].
    pub fn policy(mut self, policy: JwksPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock (freshness, cooldown). Default: [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.transport.clock = clock;
        self
    }

    /// The largest key set accepted, in bytes. Default 1 MiB.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.transport.body_limit = bytes;
        self
    }

    /// The key set cache; refuses a zero body limit.
    pub fn build(self) -> Result<Jwks, crate::ConfigError> {
        check_body_limit(self.transport.body_limit)?;
        Ok(Jwks::with_transport(self.endpoint, self.transport, self.policy))
    }
}

impl fmt::Debug for JwksBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksBuilder").field("endpoint", &self.endpoint).field("policy", &self.policy).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_cache_control_within_bounds() {
        let policy = JwksPolicy::default();
        let ttl = |pairs: &[(&str, &str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers
                    .append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
            }
            policy.ttl(&headers).as_secs()
        };
        assert_eq!(ttl(&[]), 600);
        assert_eq!(ttl(&[("cache-control", "public, max-age=3600")]), 3600);
        assert_eq!(ttl(&[("cache-control", "max-age=3600"), ("age", "600")]), 3000);
        assert_eq!(ttl(&[("cache-control", "max-age=5")]), 60, "the floor");
        assert_eq!(ttl(&[("cache-control", "max-age=99999999999")]), 86_400, "the ceiling");
        assert_eq!(ttl(&[("cache-control", "no-store")]), 60);
        assert_eq!(ttl(&[("cache-control", "max-age=3600, no-cache")]), 60);
        assert_eq!(ttl(&[("cache-control", "max-age=soon")]), 60, "unreadable: as zero, the floor");
    }
}
