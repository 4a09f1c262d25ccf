//! A cache of exchanged tokens, one per subject: a [`CachingProvider`] for each distinct
//! exchange request, so that each subject's token has the single-flight and expiry rules of
//! every cached token, and no subject ever gets another's.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

use crate::cache::policy::CachePolicy;
use crate::cache::provider::CachingProvider;
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::grant::token_exchange::{TokenExchange, TokenExchangeRequest};
use crate::runtime::Runtime;
use crate::secret::AccessToken;
use crate::sync::lock;
use crate::token::TokenResponse;

/// How many subjects a [`CachingTokenExchange`] keeps unless configured.
pub const DEFAULT_MAX_SUBJECTS: usize = 10_000;

/// Access tokens obtained by token exchange (RFC 8693), cached per subject: a service that
/// receives many callers' tokens and exchanges each for a downstream token makes one exchange
/// per caller (however many of that caller's requests arrive together), reuses it until it is
/// due for refresh, and never hands one caller's token to another.
///
/// Requests are told apart by a SHA-256 digest of their subject token, their actor token,
/// requested type, audiences and resources (never the tokens themselves); the scope is the
/// cached provider's key within that. At most [`max_subjects`](CachingTokenExchangeBuilder::max_subjects)
/// are kept; beyond that the least recently used is forgotten, those whose last exchange failed
/// first (so a flood of invalid subject tokens does not push out the callers that work). Use it through a runtime crate
/// (`caching_exchange` of `oauth2-kit-cache-tokio`, `-async-std` or `-moka`).
#[derive(Clone)]
pub struct CachingTokenExchange {
    inner: Arc<Inner>,
}

struct Inner {
    exchange: TokenExchange,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    policy: CachePolicy,
    max_subjects: usize,
    subjects: Mutex<Subjects>,
}

/// The cached providers by request digest, each with when it was last used.
#[derive(Default)]
struct Subjects {
    providers: HashMap<[u8; 32], Slot>,
    /// Counts uses: a slot's `used` is the count at its last use.
    uses: u64,
}

struct Slot {
    provider: CachingProvider,
    used: u64,
    /// The last exchange failed (an invalid subject token, say): forgotten before any other.
    failed: bool,
}

impl CachingTokenExchange {
    /// A builder over `exchange`, running its fetches on `runtime`. Runtime crates call this;
    /// applications use theirs.
    pub fn builder(exchange: TokenExchange, runtime: Arc<dyn Runtime>) -> CachingTokenExchangeBuilder {
        CachingTokenExchangeBuilder {
            exchange,
            runtime,
            clock: Arc::new(SystemClock),
            policy: CachePolicy::default(),
            max_subjects: DEFAULT_MAX_SUBJECTS,
        }
    }

    /// An access token for `request` (for its scope): the cached one while it is usable, else
    /// the result of the one exchange running for this subject.
    pub async fn get(&self, request: &TokenExchangeRequest) -> Result<TokenResponse> {
        let (key, provider) = self.provider_for(request);
        let result = provider.get(request.requested_scope()).await;
        if result.is_err() {
            // Kept (its error is handed to the next callers for a while), but forgotten first.
            if let Some(slot) = lock(&self.inner.subjects).providers.get_mut(&key) {
                slot.failed = slot.failed || slot.provider.same(&provider);
            }
        }
        result
    }

    /// Reports that `token`, handed out for `request`, was rejected (a resource server answered
    /// `401 invalid_token`): the subject's cached token is dropped if it is still that one, so
    /// the next [`get`](Self::get) exchanges again. Returns whether a token was dropped.
    pub fn invalidate(&self, request: &TokenExchangeRequest, token: &AccessToken) -> bool {
        let key = digest(request);
        let provider = lock(&self.inner.subjects).providers.get(&key).map(|slot| slot.provider.clone());
        provider.is_some_and(|provider| provider.invalidate(request.requested_scope(), token))
    }

    /// How many subjects have a cached provider.
    pub fn subjects(&self) -> usize {
        lock(&self.inner.subjects).providers.len()
    }

    fn provider_for(&self, request: &TokenExchangeRequest) -> ([u8; 32], CachingProvider) {
        let inner = &*self.inner;
        let key = digest(request);
        let mut subjects = lock(&inner.subjects);
        subjects.uses += 1;
        let now = subjects.uses;
        if let Some(slot) = subjects.providers.get_mut(&key) {
            slot.used = now;
            return (key, slot.provider.clone());
        }
        if subjects.providers.len() >= inner.max_subjects {
            // The least recently used of the failed ones, else of all (a scan: only when a new
            // subject arrives at a full cache, and cheaper than the exchange that follows).
            let victim = subjects
                .providers
                .iter()
                .min_by_key(|(_, slot)| (!slot.failed, slot.used))
                .map(|(key, _)| *key);
            if let Some(victim) = victim {
                subjects.providers.remove(&victim);
            }
        }
        // The scope is the cached provider's key: the stored request carries none.
        let delegate = inner.exchange.provider(request.clone().without_scope());
        let provider = CachingProvider::builder(Arc::new(delegate), inner.runtime.clone())
            .clock(inner.clock.clone())
            .policy(inner.policy.clone())
            .build();
        subjects.providers.insert(key, Slot { provider: provider.clone(), used: now, failed: false });
        (key, provider)
    }
}

/// What tells subjects apart: a digest of the request's identity (given tokens by digest).
fn digest(request: &TokenExchangeRequest) -> [u8; 32] {
    sha2::Sha256::digest(request.identity().as_bytes()).into()
}

impl fmt::Debug for CachingTokenExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingTokenExchange")
            .field("exchange", &self.inner.exchange)
            .field("subjects", &self.subjects())
            .field("max_subjects", &self.inner.max_subjects)
            .finish_non_exhaustive()
    }
}

/// Options of a [`CachingTokenExchange`].
#[must_use]
pub struct CachingTokenExchangeBuilder {
    exchange: TokenExchange,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    policy: CachePolicy,
    max_subjects: usize,
}

impl CachingTokenExchangeBuilder {
    /// The lifetime model of every subject's token. Default: [`CachePolicy::default`].
    pub fn policy(mut self, policy: CachePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock. Default: [`SystemClock`]. Tests pass a virtual one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many subjects are kept (at least one). Default: [`DEFAULT_MAX_SUBJECTS`].
    pub fn max_subjects(mut self, max_subjects: usize) -> Self {
        self.max_subjects = max_subjects.max(1);
        self
    }

    /// Builds the cache. Spawns nothing.
    pub fn build(self) -> CachingTokenExchange {
        CachingTokenExchange {
            inner: Arc::new(Inner {
                exchange: self.exchange,
                runtime: self.runtime,
                clock: self.clock,
                policy: self.policy,
                max_subjects: self.max_subjects,
                subjects: Mutex::new(Subjects::default()),
            }),
        }
    }
}

impl fmt::Debug for CachingTokenExchangeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingTokenExchangeBuilder")
            .field("policy", &self.policy)
            .field("max_subjects", &self.max_subjects)
            .finish_non_exhaustive()
    }
}
