//! The bearer logic every integration shares: which token, where it may go, what a 401 means.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};

use crate::bearer::target::{Destinations, Origin, RequestTarget};
use crate::challenge::{asks_for_dpop_nonce, invites_new_token};
use crate::clock::{Clock, SystemClock};
use crate::dpop::{DPOP, DpopKey};
use crate::error::BearerError;
use crate::error::{Error, Result};
use crate::provider::AccessTokenProvider;
use crate::scope::Scope;
use crate::token::{TokenResponse, TokenType};

/// How requests get their bearer token: the provider and scope, the origins trusted with the
/// token, and the recovery from `401 Unauthorized`. The logic behind every integration
/// ([`BearerClient`](crate::bearer::BearerClient), the `tower` layer, the `reqwest-middleware`
/// middleware), which drive it in two steps:
///
/// 1. [`authorize`](Self::authorize) checks the request's origin and returns the
///    [`Authorization`] to attach (a cached token costs no allocation: its header value is built
///    once per token).
/// 2. After the response, [`recover`](Self::recover) reads its status: if a `401` rejected the
///    token, it is dropped from the provider's cache and, when the request can be sent again, a
///    new `Authorization` for one retry comes back; the retry's response goes to
///    [`record`](Self::record).
///
/// Cloning is cheap (the state is shared).
///
/// ```
/// use std::sync::Arc;
/// use oauth2_kit::bearer::BearerAuth;
/// use oauth2_kit::AccessTokenProvider;
///
/// fn auth(tokens: Arc<dyn AccessTokenProvider>) -> Result<BearerAuth, oauth2_kit::Error> {
///     Ok(BearerAuth::builder(tokens)
///         .scope("orders:read".parse::<oauth2_kit::Scope>()?)
///         .allowed_origin("https://orders.example.com".parse()?)
///         .build())
/// }
/// ```
#[derive(Clone)]
pub struct BearerAuth {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    /// The storm guard's state.
    guard: Mutex<Guard>,
}

/// What a [`BearerAuthBuilder`] sets, kept as it was built.
struct Settings {
    provider: Arc<dyn AccessTokenProvider>,
    scope: Option<Scope>,
    destinations: Destinations,
    retry_unauthorized: bool,
    cooldown: Duration,
    clock: Arc<dyn Clock>,
    /// The key DPoP tokens are proven with.
    dpop: Option<DpopKey>,
}

/// When a 401 last dropped a token, and whether a retry has succeeded since.
#[derive(Default)]
struct Guard {
    last_drop: Option<Instant>,
    confirmed: bool,
}

/// The `Authorization` header for one request, and the token it carries; for a DPoP token,
/// also the request's proof ([`BearerAuth::prove`]).
#[derive(Clone)]
pub struct Authorization {
    /// A token whose header is built (kept in the token: the header is read from there, so
    /// attaching it costs one reference count, not two).
    token: TokenResponse,
    /// The DPoP proof of the request, for a token bound to a key.
    proof: Option<Box<Proof>>,
}

/// A DPoP proof made for one request, and where the request went (whose origin's nonce the
/// answer may renew).
#[derive(Clone)]
struct Proof {
    value: HeaderValue,
    method: Method,
    uri: Uri,
    /// The server's nonce it carries.
    nonce: Option<Arc<str>>,
}

impl Authorization {
    /// Sets `Authorization: Bearer <token>` in `headers`, replacing any value there; for a DPoP
    /// token, `Authorization: DPoP <token>` and the `DPoP` proof, which
    /// [`BearerAuth::prove`] must have made (without one, neither header is set: a bound token
    /// never travels without its proof). The values are marked sensitive (HTTP/2 never indexes
    /// them; `Debug` does not show them).
    #[inline]
    pub fn apply(&self, headers: &mut HeaderMap) {
        match &self.proof {
            None if self.needs_proof() => {
                tracing::warn!("a DPoP token without a proof (BearerAuth::prove) is not attached");
            }
            None => {
                headers.insert(AUTHORIZATION, self.header_value().clone());
            }
            Some(proof) => {
                headers.insert(AUTHORIZATION, self.header_value().clone());
                headers.insert(DPOP, proof.value.clone());
            }
        }
    }

    /// The `Authorization` header value, `Bearer <token>` (`DPoP <token>` for a DPoP token).
    pub fn header_value(&self) -> &HeaderValue {
        self.token.built_authorization_header()
    }

    /// Whether the token is bound to a DPoP key, so that each request needs a proof
    /// ([`BearerAuth::prove`]) and the integration keeps a copy of the request for the nonce
    /// retry (RFC 9449 §9).
    #[inline]
    pub fn needs_proof(&self) -> bool {
        self.token.token_type() == &TokenType::DPoP || self.token.dpop_jkt().is_some()
    }

    /// The authorization for `token`: fails if it cannot be sent (a token type other than
    /// `Bearer` or `DPoP`, bytes a header cannot carry).
    fn of(token: TokenResponse) -> Result<Self> {
        token.authorization_header_ref()?;
        Ok(Self { token, proof: None })
    }

    /// The token the header carries.
    pub fn token(&self) -> &TokenResponse {
        &self.token
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization").field("token", &self.token).finish()
    }
}

impl BearerAuth {
    /// Tokens from `provider` for `scope` (`None`: the provider's default), with the defaults of
    /// [`BearerAuthBuilder`].
    pub fn new(provider: impl AccessTokenProvider + 'static, scope: Option<Scope>) -> Self {
        Self::builder(provider).scope(scope).build()
    }

    /// A builder over `provider`.
    pub fn builder(provider: impl AccessTokenProvider + 'static) -> BearerAuthBuilder {
        BearerAuthBuilder {
            settings: Settings {
                provider: Arc::new(provider),
                scope: None,
                destinations: Destinations::default(),
                retry_unauthorized: true,
                cooldown: BearerAuthBuilder::DEFAULT_COOLDOWN,
                clock: Arc::new(SystemClock),
                dpop: None,
            },
        }
    }

    /// The scope asked for every request.
    pub fn scope(&self) -> Option<&Scope> {
        self.inner.settings.scope.as_ref()
    }

    /// Whether a request whose token is rejected is sent once more with a new token (so an
    /// integration should keep a copy of it, if it can).
    pub fn retries_unauthorized(&self) -> bool {
        self.inner.settings.retry_unauthorized
    }

    /// The `Authorization` for a request to `target`: refused (nothing to send, `Error::Bearer`)
    /// if the origin is not trusted with the token, else the provider's token for the scope, or
    /// its error as [`Error::NoToken`]. There is no unauthenticated fallback.
    pub async fn authorize(&self, target: RequestTarget<'_>) -> Result<Authorization> {
        match self.try_authorize(target)? {
            Some(authorization) => Ok(authorization),
            None => self.current().await,
        }
    }

    /// [`authorize`](Self::authorize) without waiting: `Ok(None)` when the provider has no token
    /// at hand (then await `authorize`). The hot path of every integration: no allocation, no
    /// future.
    #[inline]
    pub fn try_authorize(&self, target: RequestTarget<'_>) -> Result<Option<Authorization>> {
        self.inner.settings.destinations.check(&target)?;
        let Some(token) = self.inner.settings.provider.cached_token(self.inner.settings.scope.as_ref())
        else {
            return Ok(None);
        };
        Ok(Some(Authorization::of(token)?))
    }

    /// The hot path of [`try_authorize`](Self::try_authorize), for an `https` request without an
    /// allow-list: the cached token, if its header is built. `None` means: take
    /// `try_authorize` (which then has the origin rules, the errors and the header to build).
    /// Nothing here can fail, so nothing carries an error on the way.
    #[inline]
    pub(crate) fn ready(&self, uri: &http::Uri) -> Option<Authorization> {
        let settings = &self.inner.settings;
        if !(settings.destinations.trusts_any_https() && uri.scheme_str() == Some("https")) {
            return None;
        }
        let token = settings.provider.cached_token(settings.scope.as_ref())?;
        token.has_authorization_header().then_some(Authorization { token, proof: None })
    }

    /// The provider's current token: a cached one without a boxed future when it has one.
    async fn current(&self) -> Result<Authorization> {
        let inner = &*self.inner;
        let scope = inner.settings.scope.as_ref();
        let token = match inner.settings.provider.cached_token(scope) {
            Some(token) => token,
            None => inner
                .settings
                .provider
                .request_token(scope)
                .await
                .map_err(|error| Error::NoToken(Box::new(error)))?,
        };
        Authorization::of(token)
    }

    /// Makes the DPoP proof of the request `method` `uri` for `authorization`, when its token is
    /// bound to a key (nothing to do for a bearer token): every integration calls it between
    /// [`authorize`](Self::authorize) and [`Authorization::apply`]. Refused, and nothing to
    /// send: no key ([`BearerError::NoDpopKey`]), a token bound to another key
    /// ([`BearerError::DpopKeyMismatch`]), a signer that fails ([`Error::Signing`]).
    pub async fn prove(&self, authorization: &mut Authorization, method: &Method, uri: &Uri) -> Result<()> {
        if !authorization.needs_proof() {
            return Ok(());
        }
        let key = self.inner.settings.dpop.as_ref().ok_or(Error::Bearer(BearerError::NoDpopKey))?;
        if let Some(bound) = authorization.token.dpop_jkt().filter(|bound| *bound != key.thumbprint()) {
            return Err(Error::Bearer(BearerError::DpopKeyMismatch {
                token: bound.to_owned(),
                key: key.thumbprint().to_owned(),
            }));
        }
        let now = self.inner.settings.clock.system_time();
        let (value, nonce) = key
            .proof_with_nonce(method, uri, Some(authorization.token.access_token()), now)
            .await
            .map_err(Error::Signing)?;
        authorization.proof =
            Some(Box::new(Proof { value, method: method.clone(), uri: uri.clone(), nonce }));
        Ok(())
    }

    /// Keeps the DPoP nonce of the answer to a request proven with `used`; returns whether the
    /// server asks for another nonce than the proof carried.
    fn remember_nonce(&self, used: &Authorization, headers: &HeaderMap) -> bool {
        match (&used.proof, &self.inner.settings.dpop) {
            (Some(proof), Some(key)) => key.renews_nonce(&proof.uri, headers, proof.nonce.as_deref()),
            _ => false,
        }
    }

    /// `used`'s token with a new proof for the same request (after a nonce, or for a new token).
    async fn reproved(&self, used: &Authorization, token: TokenResponse) -> Option<Authorization> {
        let proof = used.proof.as_ref()?;
        let mut again = Authorization::of(token).ok()?;
        match self.prove(&mut again, &proof.method, &proof.uri).await {
            Ok(()) => Some(again),
            Err(error) => {
                tracing::warn!(%error, "no DPoP proof for the retry; the 401 is returned");
                None
            }
        }
    }

    /// Reads the response to a request sent with `used`. For a `401` whose challenge says the
    /// token was rejected (`Bearer` with `error="invalid_token"` or no error, or no challenge at
    /// all), the token is dropped from the provider's cache; then, if `replayable` (the caller
    /// kept a copy of the request) and retries are on, returns the new `Authorization` to send
    /// the copy with, once, and the caller reports that second response with
    /// [`record`](Self::record). `None` means: return the response as it is (any other status, a
    /// `403`, `insufficient_scope`, the provider handing back the rejected token, or no new token
    /// to be had, which is logged and left for the next request to report).
    ///
    /// **Storm guard.** After a `401` drops a token, further `401`s within the
    /// [cooldown](BearerAuthBuilder::unauthorized_cooldown) drop nothing, unless a retried
    /// request has succeeded since (which shows the drop was right): a resource server that
    /// rejects every token gets its 401s back, not a storm of token requests.
    ///
    /// **DPoP.** For a request proven with a DPoP key, the answer's nonce is kept for the next
    /// proofs to its origin; a `401` asking for a new nonce (`DPoP error="use_dpop_nonce"`,
    /// RFC 9449 §9) comes back as the same token with a new proof, for one retry, and drops
    /// nothing.
    #[inline]
    pub async fn recover(
        &self,
        used: &Authorization,
        status: StatusCode,
        headers: &HeaderMap,
        replayable: bool,
    ) -> Option<Authorization> {
        let renewed = used.proof.is_some() && self.remember_nonce(used, headers);
        if status != StatusCode::UNAUTHORIZED {
            return None;
        }
        if renewed && asks_for_dpop_nonce(headers) {
            return if replayable { Box::pin(self.reproved(used, used.token.clone())).await } else { None };
        }
        // Boxed: the rare path must not make every caller's future larger.
        Box::pin(self.rejected(used, headers, replayable)).await
    }

    /// Reports the response to a retried request (sent with the `Authorization` that
    /// [`recover`](Self::recover) returned): a success (`2xx`, `3xx`) confirms that dropping
    /// the old token was right and ends the storm guard's cooldown; a `401` that rejects this
    /// token too drops it only if the cooldown allows.
    pub fn record(&self, used: &Authorization, status: StatusCode, headers: &HeaderMap) {
        self.remember_nonce(used, headers);
        if status.is_success() || status.is_redirection() {
            self.guard().confirmed = true;
        } else if status == StatusCode::UNAUTHORIZED && invites_new_token(headers, used.proof.is_some()) {
            self.invalidate(used);
        }
    }

    async fn rejected(
        &self,
        used: &Authorization,
        headers: &HeaderMap,
        replayable: bool,
    ) -> Option<Authorization> {
        if !invites_new_token(headers, used.proof.is_some()) {
            return None;
        }
        self.invalidate(used);
        if !(replayable && self.inner.settings.retry_unauthorized) {
            return None;
        }
        let fresh = match self.current().await {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::warn!(%error, "no new token after a 401; the 401 is returned");
                return None;
            }
        };
        if fresh.token.access_token() == used.token.access_token() {
            return None;
        }
        if fresh.needs_proof() { self.reproved(used, fresh.token).await } else { Some(fresh) }
    }

    fn guard(&self) -> MutexGuard<'_, Guard> {
        crate::sync::lock(&self.inner.guard)
    }

    /// Drops `used` from the provider, unless the storm guard holds: a token was dropped within
    /// the cooldown and no retry has succeeded since.
    fn invalidate(&self, used: &Authorization) -> bool {
        let inner = &*self.inner;
        let now = inner.settings.clock.now();
        let mut guard = self.guard();
        let cooling =
            guard.last_drop.is_some_and(|at| now.saturating_duration_since(at) < inner.settings.cooldown);
        if cooling && !guard.confirmed {
            tracing::debug!(scope = ?inner.settings.scope.as_ref().map(Scope::as_str), "bearer token rejected with 401; not dropped (cooldown)");
            return false;
        }
        let dropped =
            inner.settings.provider.invalidate(inner.settings.scope.as_ref(), used.token.access_token());
        if dropped {
            *guard = Guard { last_drop: Some(now), confirmed: false };
        }
        tracing::debug!(scope = ?inner.settings.scope.as_ref().map(Scope::as_str), dropped, "bearer token rejected with 401");
        dropped
    }
}

impl fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("BearerAuth")
            .field("scope", &inner.settings.scope)
            .field("allowed_origins", &inner.settings.destinations.allowed)
            .field("allow_insecure_http", &inner.settings.destinations.allow_insecure_http)
            .field("retry_unauthorized", &inner.settings.retry_unauthorized)
            .field("unauthorized_cooldown", &inner.settings.cooldown)
            .finish_non_exhaustive()
    }
}

/// Options of a [`BearerAuth`].
#[must_use]
pub struct BearerAuthBuilder {
    settings: Settings,
}

impl BearerAuthBuilder {
    /// The default [`unauthorized_cooldown`](Self::unauthorized_cooldown): 5 seconds.
    pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);

    /// The scope asked for every request. Default: none (the provider's default).
    pub fn scope(mut self, scope: impl Into<Option<Scope>>) -> Self {
        self.settings.scope = scope.into();
        self
    }

    /// Sends tokens only to this origin (and the others given this way). Without any, every
    /// `https` origin and loopback `http` get the token. Listing an `http` origin allows plain
    /// `http` to it.
    pub fn allowed_origin(mut self, origin: Origin) -> Self {
        self.settings.destinations.allowed.push(origin);
        self
    }

    /// [`allowed_origin`](Self::allowed_origin) for each of `origins`.
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = Origin>) -> Self {
        self.settings.destinations.allowed.extend(origins);
        self
    }

    /// Sends tokens over plain `http` to any host (without an allow-list), where anyone on the
    /// path can read and reuse them. For tests and trusted networks only. Default: plain `http`
    /// only to loopback hosts.
    pub fn danger_allow_insecure_http(mut self) -> Self {
        self.settings.destinations.allow_insecure_http = true;
        self
    }

    /// Whether a request whose token is rejected with a `401` is sent once more with a new token,
    /// when its body can be replayed. Default: yes. Either way, the rejected token is dropped
    /// from the provider's cache.
    pub fn retry_unauthorized(mut self, retry: bool) -> Self {
        self.settings.retry_unauthorized = retry;
        self
    }

    /// After a `401` drops a token, further `401`s within this time drop none (they are returned
    /// as they are, or retried if the cache already holds a newer token) unless a retried request
    /// has succeeded since, so that a resource server rejecting every token costs one token
    /// request per cooldown, not one per request. Default:
    /// [`DEFAULT_COOLDOWN`](Self::DEFAULT_COOLDOWN).
    pub fn unauthorized_cooldown(mut self, cooldown: Duration) -> Self {
        self.settings.cooldown = cooldown;
        self
    }

    /// The clock of the cooldown. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
        self
    }

    /// Proves possession of `key` for DPoP tokens (RFC 9449 §7): each request gets a proof with
    /// the token's hash (`ath`) and the origin's nonce. Default: the provider's key
    /// ([`AccessTokenProvider::dpop_key`], set by
    /// [`OAuth2ClientBuilder::dpop`](crate::OAuth2ClientBuilder::dpop)); needed here only for a
    /// provider that does not say its key.
    pub fn dpop(mut self, key: DpopKey) -> Self {
        self.settings.dpop = Some(key);
        self
    }

    /// Builds it.
    pub fn build(mut self) -> BearerAuth {
        if self.settings.dpop.is_none() {
            self.settings.dpop = self.settings.provider.dpop_key();
        }
        BearerAuth { inner: Arc::new(Inner { settings: self.settings, guard: Mutex::new(Guard::default()) }) }
    }
}

impl fmt::Debug for BearerAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuthBuilder").field("scope", &self.settings.scope).finish_non_exhaustive()
    }
}
