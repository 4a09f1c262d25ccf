//! An [`AccessTokenProvider`] whose answers a test controls: lifetimes, failures, and a gate
//! that holds requests until the test opens it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use oauth2_kit::{AccessToken, AccessTokenProvider, Clock, Error, Scope, TokenResponse, TokenType};

use crate::latch::Latch;

/// Hands out tokens `token-1`, `token-2`, ... stamped with a [`Clock`], counting requests.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use oauth2_kit::{AccessTokenProvider, SystemClock};
/// use oauth2_kit_testkit::ScriptedProvider;
///
/// # futures_lite::future::block_on(async {
/// let provider = ScriptedProvider::new(Arc::new(SystemClock));
/// provider.set_lifetime(Some(Duration::from_secs(60)));
/// let token = provider.request_token(None).await.unwrap();
/// assert_eq!(token.access_token().expose_secret(), "token-1");
/// assert_eq!(provider.requests(), 1);
/// # });
/// ```
pub struct ScriptedProvider {
    clock: Arc<dyn Clock>,
    requests: AtomicUsize,
    completed: AtomicUsize,
    script: Mutex<Script>,
    gate: Latch,
}

struct Script {
    lifetime: Option<Duration>,
    failure: Option<Error>,
    failures_left: Option<usize>,
    next_values: VecDeque<String>,
    scopes: Vec<Option<Scope>>,
    panic_next: bool,
}

fn lock(mutex: &Mutex<Script>) -> MutexGuard<'_, Script> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ScriptedProvider {
    /// A provider of one-hour tokens, gate open, no failures.
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self {
            clock,
            requests: AtomicUsize::new(0),
            completed: AtomicUsize::new(0),
            script: Mutex::new(Script {
                lifetime: Some(Duration::from_secs(3600)),
                failure: None,
                failures_left: None,
                next_values: VecDeque::new(),
                scopes: Vec::new(),
                panic_next: false,
            }),
            gate: Latch::new(true),
        })
    }

    /// The `expires_in` of the next tokens (`None`: the response has none).
    pub fn set_lifetime(&self, lifetime: Option<Duration>) {
        lock(&self.script).lifetime = lifetime;
    }

    /// Makes every request fail with `error` until [`succeed`](Self::succeed).
    pub fn fail_with(&self, error: Error) {
        let mut script = lock(&self.script);
        script.failure = Some(error);
        script.failures_left = None;
    }

    /// Makes the next `times` requests fail with `error`.
    pub fn fail_times(&self, error: Error, times: usize) {
        let mut script = lock(&self.script);
        script.failure = Some(error);
        script.failures_left = Some(times);
    }

    /// Requests succeed again.
    pub fn succeed(&self) {
        lock(&self.script).failure = None;
    }

    /// Makes the next request panic (a broken token provider).
    pub fn panic_next(&self) {
        lock(&self.script).panic_next = true;
    }

    /// The access token value of the next token (instead of `token-N`), e.g. a JWT.
    pub fn push_value(&self, value: impl Into<String>) {
        lock(&self.script).next_values.push_back(value.into());
    }

    /// Holds every request at its start until [`open`](Self::open).
    pub fn close(&self) {
        self.gate.close();
    }

    /// Lets held and future requests through.
    pub fn open(&self) {
        self.gate.open();
    }

    /// How many requests started.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// How many requests finished (with a token or an error).
    pub fn completed(&self) -> usize {
        self.completed.load(Ordering::SeqCst)
    }

    /// The scope of every request, in order.
    pub fn scopes(&self) -> Vec<Option<Scope>> {
        lock(&self.script).scopes.clone()
    }
}

impl std::fmt::Debug for ScriptedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedProvider").field("requests", &self.requests()).finish_non_exhaustive()
    }
}

#[oauth2_kit::async_trait]
impl AccessTokenProvider for ScriptedProvider {
    async fn request_token(&self, scope: Option<&Scope>) -> oauth2_kit::Result<TokenResponse> {
        let requested_at = self.clock.now();
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        lock(&self.script).scopes.push(scope.cloned());
        self.gate.wait().await;
        let outcome = {
            let mut script = lock(&self.script);
            if std::mem::take(&mut script.panic_next) {
                drop(script);
                #[allow(clippy::panic)] // The point: a token provider that panics.
                {
                    panic!("scripted panic in the token provider");
                }
            }
            let failure = script.failure.clone();
            if let (Some(_), Some(left)) = (&failure, script.failures_left.as_mut()) {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    script.failure = None;
                    script.failures_left = None;
                }
            }
            match failure {
                Some(error) => Err(error),
                None => {
                    let value = script.next_values.pop_front().unwrap_or_else(|| format!("token-{n}"));
                    Ok(TokenResponse::new(AccessToken::new(value), TokenType::Bearer, requested_at)
                        .with_expires_in(script.lifetime)
                        .with_scope(scope.cloned()))
                }
            }
        };
        self.completed.fetch_add(1, Ordering::SeqCst);
        outcome
    }
}
