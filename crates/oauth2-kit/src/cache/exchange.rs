//! A cache of exchanged tokens, one per subject: a [`CachingProvider`] for each distinct
//! exchange request, so that each subject's token has the single-flight and expiry rules of
//! every cached token, and no subject ever gets another's.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

use crate::cache::policy::CachePolicy;
use crate::cache::provider::CachingProvider;
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::grant::token_exchange::{TokenExchange, TokenExchangeRequest};
use crate::runtime::Runtime;
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
/// are kept; beyond that the subject cached first is forgotten. Use it through a runtime crate
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

/// The cached providers by request digest, and the digests in the order they came.
#[derive(Default)]
struct Subjects {
    providers: HashMap<[u8; 32], CachingProvider>,
    order: VecDeque<[u8; 32]>,
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
        let provider = self.provider_for(request);
        provider.get(request.requested_scope()).await
    }

    /// How many subjects have a cached provider.
    pub fn subjects(&self) -> usize {
        lock(&self.inner.subjects).providers.len()
    }

    fn provider_for(&self, request: &TokenExchangeRequest) -> CachingProvider {
        let inner = &*self.inner;
        let key: [u8; 32] = sha2::Sha256::digest(request.identity().as_bytes()).into();
        let mut subjects = lock(&inner.subjects);
        if let Some(provider) = subjects.providers.get(&key) {
            return provider.clone();
        }
        while subjects.providers.len() >= inner.max_subjects {
            let Some(oldest) = subjects.order.pop_front() else { break };
            subjects.providers.remove(&oldest);
        }
        let provider = CachingProvider::builder(
            Arc::new(inner.exchange.provider(request.clone())),
            inner.runtime.clone(),
        )
        .clock(inner.clock.clone())
        .policy(inner.policy.clone())
        .build();
        subjects.providers.insert(key, provider.clone());
        subjects.order.push_back(key);
        provider
    }
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
