//! The bearer client: an `HttpClient` that attaches a token to every request.

use std::fmt;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::bearer::auth::{Authorization, BearerAuth};
use crate::bearer::replay::Replay;
use crate::bearer::target::RequestTarget;
use crate::client_auth::ClientAuth;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::exchange::Transport;
use crate::grant::client_credentials::ClientCredentials;
use crate::grant::token_endpoint::TokenEndpoint;
use crate::http::{HttpClient, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
use crate::provider::AccessTokenProvider;

/// A boxed, sendable future borrowing the client.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
use crate::scope::Scope;
use crate::secret::{ClientId, ClientSecret};

/// An [`HttpClient`] that sends every request with `Authorization: Bearer <token>`, over any
/// HTTP client and any token provider (what sttp-oauth2's `SttpOauth2ClientCredentialsBackend`
/// does for Scala).
///
/// - The token comes from the [`BearerAuth`]'s provider, for its scope; give it a caching
///   provider (`oauth2-kit-cache-*`) so that requests share tokens.
/// - A `401` that rejects the token drops it from the cache and sends the request once more
///   with a new one (request bodies here are `Bytes`, so they can always be replayed). A `403`,
///   `insufficient_scope` or a second `401` is returned as it is.
/// - The token goes only over `https`, or plain `http` to loopback, or where the
///   [`BearerAuth`] allows. This client follows no redirect; it relies on the wrapped client to
///   follow none either (the adapters' constructors don't; a `reqwest::Client` given to
///   `ReqwestClient::with_client` follows reqwest's policy, which drops `Authorization` when a
///   redirect changes host or port).
/// - If no token can be had, nothing is sent: the call fails with [`Error::NoToken`] (the
///   provider's error inside) through [`execute`](Self::execute), and with a transport error of
///   kind [`NoToken`](crate::http::TransportErrorKind::NoToken) through [`HttpClient`].
///
/// ```no_run
/// use oauth2_kit::bearer::BearerClient;
/// use oauth2_kit::http::HttpClient;
/// # async fn demo(http: impl HttpClient + Clone + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// // One call: token URL, client id, secret, scope, delegate.
/// let client = BearerClient::client_credentials(
///     "https://auth.example.com/oauth2/token".parse()?,
///     "my-service",
///     "my-secret",
///     Some("orders:read".parse()?),
///     http,
/// );
/// let request = http::Request::get("https://orders.example.com/v1/orders").body(bytes::Bytes::new())?;
/// let response = client.execute(request).await?; // sent with `Authorization: Bearer <token>`
/// # drop(response); Ok(()) }
/// ```
#[derive(Clone)]
pub struct BearerClient<C> {
    auth: BearerAuth,
    http: C,
}

impl<C: HttpClient> BearerClient<C> {
    /// Sends requests through `http` with the tokens of `auth`.
    pub fn new(http: C, auth: BearerAuth) -> Self {
        Self { auth, http }
    }

    /// A client in one call: tokens of the client credentials grant from
    /// `token_url` for `scope`, requests through `http` (which also carries the token requests).
    ///
    /// It asks the server for a token on **every** request. To reuse tokens,
    /// use [`client_credentials_cached`](Self::client_credentials_cached).
    pub fn client_credentials(
        token_url: Endpoint,
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
        scope: Option<Scope>,
        http: C,
    ) -> Self
    where
        C: Clone + 'static,
    {
        Self::client_credentials_cached(
            token_url,
            client_id,
            client_secret,
            scope,
            http,
            std::convert::identity,
        )
    }

    /// The one-call constructor with cached tokens: `cache` wraps the client-credentials
    /// provider, e.g. `oauth2_kit_cache_tokio::caching` (or the async-std or moka crate's).
    ///
    /// ```text
    /// let client = BearerClient::client_credentials_cached(token_url, "my-service", "my-secret", scope, http, oauth2_kit_cache_tokio::caching);
    /// ```
    pub fn client_credentials_cached<P: AccessTokenProvider + 'static>(
        token_url: Endpoint,
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
        scope: Option<Scope>,
        http: C,
        cache: impl FnOnce(ClientCredentials) -> P,
    ) -> Self
    where
        C: Clone + 'static,
    {
        let tokens = ClientCredentials::new(TokenEndpoint {
            endpoint: token_url,
            auth: ClientAuth::new(client_id, client_secret),
            transport: Transport::new(std::sync::Arc::new(http.clone())),
            extra_params: Vec::new(),
            retry: None,
            dpop: None,
        });
        Self::new(http, BearerAuth::new(cache(tokens), scope))
    }

    /// The bearer logic in use.
    pub fn auth(&self) -> &BearerAuth {
        &self.auth
    }

    /// The wrapped client.
    pub fn inner(&self) -> &C {
        &self.http
    }

    /// Sends `request` with a token, recovering once from a rejected one.
    ///
    /// The errors never mix: [`Error::Bearer`] when the destination or the token type is refused,
    /// [`Error::NoToken`] (the provider's error inside) when no token could be had — in both,
    /// nothing was sent — and [`Error::Transport`] only when the request itself failed on the
    /// way.
    ///
    /// With a token at hand (the usual case), the token is attached and the request handed to
    /// the wrapped client when this is called; the returned future then only waits for the
    /// response. Without one, the future waits for the token first.
    pub fn execute(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse>> {
        self.run(request, Failure::into_error)
    }

    /// Both entry points ([`execute`](Self::execute) and [`HttpClient::send`]), with their own
    /// error type: one boxed future per call, as small as the fresh path allows.
    fn run<E: Send + 'static>(
        &self,
        mut request: HttpRequest,
        map: fn(Failure) -> E,
    ) -> BoxFuture<'_, Result<HttpResponse, E>> {
        let authorization = match self.auth.ready(request.uri()) {
            Some(authorization) => authorization,
            None => match RequestTarget::from_uri(request.uri())
                .map_err(Error::from)
                .and_then(|target| self.auth.try_authorize(target))
            {
                Ok(Some(authorization)) => authorization,
                Ok(None) => return Box::pin(async move { self.execute_waiting(request).await.map_err(map) }),
                Err(error) => return Box::pin(std::future::ready(Err(map(Failure::Token(error))))),
            },
        };
        if authorization.needs_proof() {
            return Box::pin(async move { self.execute_proved(request, authorization).await.map_err(map) });
        }
        let replay = self.copy_for_retry(&request);
        authorization.apply(request.headers_mut());
        let sending = self.http.send(request);
        Box::pin(async move {
            let response = sending.await.map_err(|e| map(Failure::Send(e)))?;
            if response.status() != http::StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            Box::pin(self.unauthorized(authorization, replay, response)).await.map_err(map)
        })
    }

    /// The path that waits for a token before sending.
    async fn execute_waiting(&self, mut request: HttpRequest) -> Result<HttpResponse, Failure> {
        let target = RequestTarget::from_uri(request.uri()).map_err(|e| Failure::Token(e.into()))?;
        let authorization = self.auth.authorize(target).await.map_err(Failure::Token)?;
        if authorization.needs_proof() {
            return self.execute_proved(request, authorization).await;
        }
        let replay = self.copy_for_retry(&request);
        authorization.apply(request.headers_mut());
        let response = self.http.send(request).await.map_err(Failure::Send)?;
        if response.status() != http::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        self.unauthorized(authorization, replay, response).await
    }

    /// The path of a DPoP token: a proof for the request, a copy kept for the nonce retry, and
    /// every answer read (for its nonce).
    async fn execute_proved(
        &self,
        mut request: HttpRequest,
        mut authorization: Authorization,
    ) -> Result<HttpResponse, Failure> {
        self.auth.prove(&mut authorization, request.method(), request.uri()).await.map_err(Failure::Token)?;
        let replay = Some(Replay::of(&request, request.body().clone()));
        authorization.apply(request.headers_mut());
        let response = self.http.send(request).await.map_err(Failure::Send)?;
        self.unauthorized(authorization, replay, response).await
    }

    /// The copy kept to send again after a rejected token (bodies are `Bytes`: always possible).
    fn copy_for_retry(&self, request: &HttpRequest) -> Option<Replay<Bytes>> {
        self.auth.retries_unauthorized().then(|| Replay::of(request, request.body().clone()))
    }

    /// A 401 (or any answer to a DPoP request): a rejected token is dropped, and the copy sent
    /// once more with a new one (or a new proof) if the auth says so.
    async fn unauthorized(
        &self,
        authorization: Authorization,
        replay: Option<Replay<Bytes>>,
        response: HttpResponse,
    ) -> Result<HttpResponse, Failure> {
        let retry =
            self.auth.recover(&authorization, response.status(), response.headers(), replay.is_some()).await;
        match (retry, replay.and_then(Replay::into_request)) {
            (Some(fresh), Some(mut replay)) => {
                drop(response);
                fresh.apply(replay.headers_mut());
                let response = self.http.send(replay).await.map_err(Failure::Send)?;
                self.auth.record(&fresh, response.status(), response.headers());
                Ok(response)
            }
            _ => Ok(response),
        }
    }
}

/// Why a call failed: no token could be attached (nothing sent), or the wrapped client failed.
enum Failure {
    Token(Error),
    Send(TransportError),
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Self::Token(error) => error,
            Self::Send(transport) => Error::Transport(transport),
        }
    }

    /// Through [`HttpClient`], whose error is a transport error: the reason in words (error
    /// messages never hold a secret), retryable when the reason is.
    fn into_transport(self) -> TransportError {
        match self {
            Self::Token(error) => {
                // The kind already says no token was attached: the context says why.
                let reason = match &error {
                    Error::NoToken(reason) => reason.to_string(),
                    other => other.to_string(),
                };
                TransportError::new(TransportErrorKind::NoToken)
                    .with_retryable(error.is_retryable())
                    .with_context(reason)
            }
            Self::Send(transport) => transport,
        }
    }
}

impl<C: HttpClient> HttpClient for BearerClient<C> {
    // Written out rather than through `async_trait`, so that the fresh path boxes one small
    // future instead of wrapping another.
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: HttpRequest,
    ) -> BoxFuture<'async_trait, Result<HttpResponse, TransportError>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.run(request, Failure::into_transport)
    }

    fn presents_certificate(&self) -> bool {
        self.http.presents_certificate()
    }
}

impl<C: fmt::Debug> fmt::Debug for BearerClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerClient").field("auth", &self.auth).field("http", &self.http).finish()
    }
}
