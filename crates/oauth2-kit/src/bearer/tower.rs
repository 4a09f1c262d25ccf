//! `tower` integration: a layer that attaches bearer tokens to `http::Request`s.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::auth::BearerAuth;
use crate::bearer::replay::Replay;
use crate::bearer::target::RequestTarget;
use crate::error::Error;

/// Makes a copy of a request body, so that a request whose token was rejected can be sent
/// again. Bodies that cannot be copied are not retried (the `401` is returned).
pub trait ReplayBody<B>: Clone + Send + Sync + 'static {
    /// A copy of `body`, or `None` if it cannot be replayed.
    fn replay(&self, body: &B) -> Option<B>;
}

/// Replays bodies by cloning them (`Full<Bytes>`, `String`, `Bytes`, ...): the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloneBody;

impl<B: Clone> ReplayBody<B> for CloneBody {
    fn replay(&self, body: &B) -> Option<B> {
        Some(body.clone())
    }
}

/// Never replays: for streaming bodies. A rejected token is still dropped from the cache, so
/// the next request gets a new one.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReplay;

impl<B> ReplayBody<B> for NoReplay {
    fn replay(&self, _body: &B) -> Option<B> {
        None
    }
}

impl<B, F> ReplayBody<B> for F
where
    F: Fn(&B) -> Option<B> + Clone + Send + Sync + 'static,
{
    fn replay(&self, body: &B) -> Option<B> {
        self(body)
    }
}

/// A [`tower_layer::Layer`] that sends every request with `Authorization: Bearer <token>`,
/// with the logic of [`BearerClient`](crate::bearer::BearerClient) (same checks, same one retry
/// after a rejected token).
///
/// The service follows tower's usual pattern: `call` takes the readied inner service and leaves
/// a clone in its place. When no token is at hand, the readied service is held while the token
/// is fetched (a `Buffer` or `ConcurrencyLimit` below counts it as busy meanwhile).
///
/// ```
/// use oauth2_kit::bearer::{BearerAuth, BearerLayer, NoReplay};
/// use tower_layer::Layer;
///
/// # fn demo<S>(auth: BearerAuth, inner: S) {
/// let service = BearerLayer::new(auth.clone()).layer(inner);      // bodies replayed by cloning
/// let streaming = BearerLayer::new(auth).without_replay();          // bodies never replayed
/// # let _ = (service, streaming); }
/// ```
#[derive(Clone, Debug)]
pub struct BearerLayer<R = CloneBody> {
    auth: BearerAuth,
    replay: R,
}

impl BearerLayer {
    /// A layer attaching the tokens of `auth`, replaying bodies by cloning them.
    pub fn new(auth: BearerAuth) -> Self {
        Self { auth, replay: CloneBody }
    }
}

impl<R> BearerLayer<R> {
    /// Replays bodies with `replay` (a [`ReplayBody`], or a closure `Fn(&B) -> Option<B>`).
    pub fn replay_with<R2>(self, replay: R2) -> BearerLayer<R2> {
        BearerLayer { auth: self.auth, replay }
    }

    /// Never replays bodies (for body types that cannot be cloned).
    pub fn without_replay(self) -> BearerLayer<NoReplay> {
        self.replay_with(NoReplay)
    }
}

impl<S, R: Clone> Layer<S> for BearerLayer<R> {
    type Service = BearerService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerService { inner, auth: self.auth.clone(), replay: self.replay.clone() }
    }
}

/// The service of a [`BearerLayer`].
#[derive(Clone, Debug)]
pub struct BearerService<S, R = CloneBody> {
    inner: S,
    auth: BearerAuth,
    replay: R,
}

/// The error of a [`BearerService`]: no token could be attached (nothing was sent), or the
/// inner service failed. `source()` is the token error for `Auth`; for `Inner` it is `None`
/// (the inner error may not implement `Error`, as tower's `BoxError` does not): match on the
/// variant to reach it.
#[derive(Debug)]
pub enum BearerServiceError<E> {
    /// Nothing sent: [`Error::NoToken`] (the provider's error inside) or [`Error::Bearer`] (the
    /// destination or the token type refused), as [`BearerClient::execute`] reports them.
    ///
    /// [`BearerClient::execute`]: crate::bearer::BearerClient::execute
    Auth(Error),
    /// The inner service's error.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for BearerServiceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auth(e) => e.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for BearerServiceError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Auth(e) => Some(e),
            Self::Inner(_) => None,
        }
    }
}

type ServiceFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'static>>;

impl<S, R, B, RB> Service<http::Request<B>> for BearerService<S, R>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: ReplayBody<B>,
    B: Send + 'static,
    RB: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = BearerServiceError<S::Error>;
    type Future = ServiceFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(BearerServiceError::Inner)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The readied service goes into the future; a clone takes its place.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let auth = self.auth.clone();
        let replay = self.replay.clone();
        Box::pin(async move {
            let target =
                RequestTarget::from_uri(request.uri()).map_err(|e| BearerServiceError::Auth(e.into()))?;
            let mut authorization = auth.authorize(target).await.map_err(BearerServiceError::Auth)?;
            auth.prove(&mut authorization, request.method(), request.uri())
                .await
                .map_err(BearerServiceError::Auth)?;
            let copy = if auth.retries_unauthorized() || authorization.needs_proof() {
                replay.replay(request.body()).map(|body| Replay::of(&request, body))
            } else {
                None
            };
            authorization.apply(request.headers_mut());
            let response = inner.call(request).await.map_err(BearerServiceError::Inner)?;
            let retry =
                auth.recover(&authorization, response.status(), response.headers(), copy.is_some()).await;
            match (retry, copy.and_then(Replay::into_request)) {
                (Some(fresh), Some(mut copy)) => {
                    drop(response);
                    fresh.apply(copy.headers_mut());
                    poll_fn(|cx| inner.poll_ready(cx)).await.map_err(BearerServiceError::Inner)?;
                    let response = inner.call(copy).await.map_err(BearerServiceError::Inner)?;
                    auth.record(&fresh, response.status(), response.headers());
                    Ok(response)
                }
                _ => Ok(response),
            }
        })
    }
}
