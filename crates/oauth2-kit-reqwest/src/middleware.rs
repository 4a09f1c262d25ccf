//! A `reqwest_middleware::Middleware` that attaches bearer tokens, for reqwest users who keep
//! their client API.

use http::Extensions;
use oauth2_kit::async_trait;
use oauth2_kit::bearer::{BearerAuth, RequestTarget};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

/// Sends every request of a `reqwest_middleware::ClientWithMiddleware` with
/// `Authorization: Bearer <token>`, driving the same [`BearerAuth`] as `oauth2_kit`'s
/// `BearerClient`: the origin check, no unauthenticated fallback, and after a `401` that rejects
/// the token, one retry with a new token if the request can be cloned
/// (`reqwest::Request::try_clone`: not for streaming bodies).
///
/// A DPoP-bound token goes as `Authorization: DPoP <token>` with a proof per request, and a
/// `use_dpop_nonce` challenge is answered with one retry, as the `BearerClient` does.
///
/// Redirects stay reqwest's business: it drops `Authorization` when a redirect leaves the
/// origin's host or port, but not the `DPoP` proof (which names the first URI and hashes the
/// token: useless elsewhere, but sent). With DPoP, build the `reqwest::Client` with
/// `redirect(reqwest::redirect::Policy::none())`; the nonce of an answer from another origin
/// than the request's is never kept for the request's origin. So do proxies: the middleware runs inside your `reqwest::Client`,
/// whose proxy settings it cannot change. A `reqwest::Client::new()` sends to the proxy of
/// `HTTP_PROXY` even a loopback `http` request, with its token in clear: if the client calls
/// an API on `localhost` over plain `http`, build it with `.no_proxy()` or put the loopback
/// names in `NO_PROXY` (`ReqwestClient`, the adapter, does this for you).
///
/// ```no_run
/// use oauth2_kit::bearer::BearerAuth;
/// use oauth2_kit_reqwest::BearerMiddleware;
///
/// # async fn demo(auth: BearerAuth) -> Result<(), Box<dyn std::error::Error>> {
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(BearerMiddleware::new(auth))
///     .build();
/// let orders = client.get("https://orders.example.com/v1/orders").send().await?;
/// # drop(orders); Ok(()) }
/// ```
///
/// A token failure comes back as `reqwest_middleware::Error::Middleware`, from which
/// `downcast_ref::<oauth2_kit::Error>()` recovers the typed error.
#[derive(Debug, Clone)]
pub struct BearerMiddleware {
    auth: BearerAuth,
}

impl BearerMiddleware {
    /// A middleware attaching the tokens of `auth`.
    pub fn new(auth: BearerAuth) -> Self {
        Self { auth }
    }
}

#[async_trait]
impl Middleware for BearerMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let target = RequestTarget::from_url(request.url()).map_err(|e| token_error(e.into()))?;
        let mut authorization = self.auth.authorize(target).await.map_err(token_error)?;
        if authorization.needs_proof() {
            // The proof names the request's URI: an `http::Uri` made from the `Url` (a `Url` is
            // always a valid URI).
            let uri =
                http::Uri::try_from(request.url().as_str()).map_err(reqwest_middleware::Error::middleware)?;
            self.auth.prove(&mut authorization, request.method(), &uri).await.map_err(token_error)?;
        }
        let keep = self.auth.retries_unauthorized() || authorization.needs_proof();
        let replay = if keep { request.try_clone() } else { None };
        authorization.apply(request.headers_mut());
        let origin = authorization.needs_proof().then(|| request.url().origin());
        let mut response = next.clone().run(request, extensions).await?;
        if origin.is_some_and(|origin| response.url().origin() != origin) {
            // Redirected elsewhere: that server's nonce is not the request's origin's.
            response.headers_mut().remove("dpop-nonce");
        }
        let retry =
            self.auth.recover(&authorization, response.status(), response.headers(), replay.is_some()).await;
        match (retry, replay) {
            (Some(fresh), Some(mut replay)) => {
                drop(response);
                fresh.apply(replay.headers_mut());
                let response = next.run(replay, extensions).await?;
                self.auth.record(&fresh, response.status(), response.headers());
                Ok(response)
            }
            _ => Ok(response),
        }
    }
}

fn token_error(error: oauth2_kit::Error) -> reqwest_middleware::Error {
    reqwest_middleware::Error::middleware(error)
}
