//! The tower layer: the token taken from the request, checked, bound to its sender, its claims
//! put in the request's extensions; or the RFC 6750 answer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{Request, Response};
use oauth2_kit::Scope;
use oauth2_kit::jwt::AccessTokenClaims;
use tower_layer::Layer;
use tower_service::Service;

use crate::binding::{DpopSettings, PresentedCertificate};
use crate::challenge::{Challenger, Refusal, Scheme};
use crate::validator::{Rejected, TokenValidator};

/// A [`tower`](https://docs.rs/tower) layer that lets through only requests with a valid access
/// token, for axum, tonic and hyper services alike.
///
/// For each request it takes the token from `Authorization: Bearer` (or `Authorization: DPoP`
/// with a `DPoP` proof, once [`dpop`](Self::dpop) is set; from the `access_token` query
/// parameter only after [`allow_query_token`](Self::allow_query_token)), checks it with the
/// [`TokenValidator`], checks that a sender-constrained token came with its key's proof or its
/// certificate, checks the [required scope](Self::require_scope), and passes the request on with
/// the token's [`AccessTokenClaims`] in its extensions. Otherwise it answers as RFC 6750 §3
/// says, without calling the service:
///
/// | case | answer |
/// |---|---|
/// | no token | `401`, `WWW-Authenticate: Bearer realm="..."` |
/// | an invalid, expired, revoked token, or one without its proof or certificate | `401`, `error="invalid_token"` |
/// | a DPoP proof refused (or replayed) | `401`, `DPoP error="invalid_dpop_proof"` |
/// | two tokens, or a token in the query string where none is taken | `400`, `error="invalid_request"` |
/// | a scope missing | `403`, `error="insufficient_scope", scope="..."` |
/// | the token cannot be checked now (keys or introspection unreachable) | `503` |
///
/// The answers say nothing else (why a token was refused goes to the `tracing` log, at
/// `debug`), and their bodies are empty.
///
/// ```no_run
/// use oauth2_kit::{ClientAuth, OAuth2Client};
/// use oauth2_kit_resource_server::TokenLayer;
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + Clone + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = "https://auth.example.com".parse()?;
/// let client = OAuth2Client::discover(&issuer, ClientAuth::public("orders-api"), http).await?;
/// let layer = TokenLayer::new(client.jwt_access_tokens("https://orders.example.com")?)
///     .realm("orders")
///     .require_scope("orders:read".parse()?);
/// // axum: Router::new().route(..).layer(layer)
/// # drop(layer); Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenLayer {
    settings: Arc<Settings>,
}

struct Settings {
    validator: Arc<dyn TokenValidator>,
    challenger: Challenger,
    required: Option<Scope>,
    query: bool,
    dpop: Option<DpopSettings>,
}

impl TokenLayer {
    /// A layer checking tokens with `validator`.
    pub fn new(validator: impl TokenValidator) -> Self {
        Self {
            settings: Arc::new(Settings {
                validator: Arc::new(validator),
                challenger: Challenger::default(),
                required: None,
                query: false,
                dpop: None,
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        if let Some(settings) = Arc::get_mut(&mut self.settings) {
            change(settings);
        } else {
            let old = &*self.settings;
            let mut settings = Settings {
                validator: old.validator.clone(),
                challenger: old.challenger.clone(),
                required: old.required.clone(),
                query: old.query,
                dpop: old.dpop.clone(),
            };
            change(&mut settings);
            self.settings = Arc::new(settings);
        }
        self
    }

    /// The `realm` named in challenges (printable ASCII; other characters are dropped).
    #[must_use]
    pub fn realm(self, realm: impl Into<String>) -> Self {
        let realm = realm.into();
        self.with(|s| s.challenger.realm = Some(realm))
    }

    /// The scope every request's token must hold (each of its tokens); for a scope per route,
    /// add a [`RequireScope`] to the route.
    #[must_use]
    pub fn require_scope(self, scope: Scope) -> Self {
        self.with(|s| s.required = Some(scope))
    }

    /// Also takes the token from the `access_token` query parameter (RFC 6750 §2.3), which
    /// ends up in logs and browser history: only for clients that cannot send a header.
    #[must_use]
    pub fn allow_query_token(self) -> Self {
        self.with(|s| s.query = true)
    }

    /// Takes DPoP-bound tokens (`Authorization: DPoP`, RFC 9449 §7) with their proofs, checked
    /// as `settings` say; challenges then name both schemes. Tokens bound to a key (`cnf.jkt`)
    /// are refused without a proof of that key whether or not this is set.
    #[must_use]
    pub fn dpop(self, settings: DpopSettings) -> Self {
        self.with(|s| {
            s.challenger.dpop = true;
            s.dpop = Some(settings);
        })
    }
}

impl fmt::Debug for TokenLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.settings;
        f.debug_struct("TokenLayer")
            .field("realm", &s.challenger.realm)
            .field("required", &s.required)
            .field("query", &s.query)
            .field("dpop", &s.dpop)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for TokenLayer {
    type Service = TokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenService { inner, settings: self.settings.clone() }
    }
}

/// The service [`TokenLayer`] wraps around yours.
#[derive(Clone)]
pub struct TokenService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> fmt::Debug for TokenService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService").finish_non_exhaustive()
    }
}

/// How the request's token was presented, kept in its extensions for [`RequireScope`].
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    pub(crate) scheme: Scheme,
    pub(crate) challenger: Challenger,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TokenService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone goes in place of the service that was made ready, which serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let settings = self.settings.clone();
        Box::pin(async move {
            match settings.admit(&mut request).await {
                Ok(()) => inner.call(request).await,
                Err(refusal) => Ok(settings.challenger.answer(&refusal)),
            }
        })
    }
}

impl Settings {
    /// Checks the request's token; on success its claims go in the request's extensions.
    async fn admit<B>(&self, request: &mut Request<B>) -> Result<(), Refusal> {
        let (scheme, token) = self.credentials(request)?;
        let claims = match self.validator.validate(&token).await {
            Ok(claims) => claims,
            Err(Rejected::Invalid(why)) => {
                tracing::debug!(%why, "access token refused");
                return Err(Refusal::InvalidToken(scheme));
            }
            Err(Rejected::Unavailable(error)) => {
                tracing::warn!(%error, "access token not checked: the validator is unavailable");
                return Err(Refusal::Unavailable);
            }
        };
        self.check_binding(request, scheme, &token, &claims)?;
        if let Some(required) = &self.required {
            if !holds(&claims, required) {
                return Err(Refusal::InsufficientScope(scheme, required.clone()));
            }
        }
        if self.query {
            if let Some(uri) = without_query_token(request.uri()) {
                *request.uri_mut() = uri;
            }
        }
        let extensions = request.extensions_mut();
        extensions.insert(Presented { scheme, challenger: self.challenger.clone() });
        extensions.insert(claims);
        Ok(())
    }

    /// The scheme and the token of the request: one `Authorization` field, or the query
    /// parameter where allowed, never both.
    fn credentials<B>(&self, request: &Request<B>) -> Result<(Scheme, String), Refusal> {
        let mut fields = request.headers().get_all(AUTHORIZATION).iter();
        let header = fields.next();
        if fields.next().is_some() {
            return Err(Refusal::InvalidRequest);
        }
        let query = query_token(request.uri().query())?;
        if query.is_some() && (!self.query || header.is_some()) {
            return Err(Refusal::InvalidRequest);
        }
        if let Some(token) = query {
            return Ok((Scheme::Bearer, token));
        }
        let header = header.and_then(|value| value.to_str().ok()).ok_or(Refusal::NoToken)?;
        let (name, token) = header.split_once(' ').ok_or(Refusal::NoToken)?;
        let token = token.trim_start_matches(' ');
        if token.is_empty() || !token.bytes().all(is_token68) {
            return Err(Refusal::InvalidRequest);
        }
        let scheme = if name.eq_ignore_ascii_case("bearer") {
            Scheme::Bearer
        } else if name.eq_ignore_ascii_case("dpop") && self.dpop.is_some() {
            Scheme::DPoP
        } else {
            return Err(Refusal::NoToken);
        };
        Ok((scheme, token.to_owned()))
    }

    /// A token bound to a key comes as a DPoP token with a proof of that key; one bound to a
    /// certificate comes over a connection that presented it (RFC 9449 §7, RFC 8705 §3).
    fn check_binding<B>(
        &self,
        request: &Request<B>,
        scheme: Scheme,
        token: &str,
        claims: &AccessTokenClaims,
    ) -> Result<(), Refusal> {
        let cnf = claims.cnf.as_ref();
        let jkt = cnf.and_then(|cnf| cnf.jkt.as_deref());
        match (scheme, jkt, &self.dpop) {
            (Scheme::DPoP, Some(jkt), Some(dpop)) => {
                let mut proofs = request.headers().get_all("dpop").iter();
                let proof =
                    proofs.next().and_then(|proof| proof.to_str().ok()).ok_or(Refusal::InvalidProof)?;
                if proofs.next().is_some() {
                    return Err(Refusal::InvalidProof);
                }
                let verified =
                    dpop.check(proof, request.method(), request.uri().path(), token).map_err(|why| {
                        tracing::debug!(%why, "DPoP proof refused");
                        match why {
                            crate::binding::ProofRefused::Full => Refusal::Unavailable,
                            _ => Refusal::InvalidProof,
                        }
                    })?;
                if verified.thumbprint != jkt {
                    tracing::debug!("DPoP proof of another key than the token's");
                    return Err(Refusal::InvalidToken(Scheme::DPoP));
                }
            }
            // A DPoP token that is not bound, or a bound token sent as a bearer token.
            (Scheme::DPoP, None, _) | (Scheme::Bearer, Some(_), _) => {
                tracing::debug!("a token used under the wrong scheme for its binding");
                return Err(Refusal::InvalidToken(scheme));
            }
            (Scheme::DPoP, Some(_), None) | (Scheme::Bearer, None, _) => {}
        }
        if let Some(x5t) = cnf.and_then(|cnf| cnf.x5t_s256.as_deref()) {
            let presented = request.extensions().get::<PresentedCertificate>();
            if presented.map(PresentedCertificate::thumbprint) != Some(x5t) {
                tracing::debug!("a certificate-bound token without its certificate");
                return Err(Refusal::InvalidToken(scheme));
            }
        }
        Ok(())
    }
}

/// Whether `claims` grant every token of `required`.
pub(crate) fn holds(claims: &AccessTokenClaims, required: &Scope) -> bool {
    required.iter().all(|token| claims.has_scope(token))
}

/// The `access_token` query parameter, if the query has one; two are `invalid_request`.
fn query_token(query: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(query) = query else { return Ok(None) };
    let mut tokens = url::form_urlencoded::parse(query.as_bytes()).filter(|(name, _)| name == "access_token");
    let first = tokens.next().map(|(_, value)| value.into_owned());
    if tokens.next().is_some() {
        return Err(Refusal::InvalidRequest);
    }
    Ok(first)
}

/// `uri` without its `access_token` query parameter: the service behind the layer (and its
/// logs) never sees the token.
fn without_query_token(uri: &http::Uri) -> Option<http::Uri> {
    let query = uri.query()?;
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name != "access_token")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut path_and_query = uri.path().to_owned();
    if !kept.is_empty() {
        path_and_query.push('?');
        path_and_query
            .push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish());
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

/// RFC 7235 §2.1's token68 characters.
fn is_token68(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// A per-route scope: in front of a route (axum's `route_layer`, after a [`TokenLayer`]), lets
/// through only requests whose token holds `scope`; others get `403 insufficient_scope` naming
/// it (a request that reached it without a checked token gets `401`).
///
/// ```
/// use oauth2_kit_resource_server::RequireScope;
///
/// let orders_write = RequireScope::new("orders:write".parse()?);
/// # drop(orders_write);
/// # Ok::<(), oauth2_kit::ScopeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequireScope {
    scope: Scope,
}

impl RequireScope {
    /// Requires every token of `scope`.
    pub fn new(scope: Scope) -> Self {
        Self { scope }
    }
}

impl<S> Layer<S> for RequireScope {
    type Service = RequireScopeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService { inner, scope: self.scope.clone() }
    }
}

/// The service [`RequireScope`] wraps around a route.
#[derive(Debug, Clone)]
pub struct RequireScopeService<S> {
    inner: S,
    scope: Scope,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScopeService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let extensions = request.extensions();
        let refusal = match (extensions.get::<AccessTokenClaims>(), extensions.get::<Presented>()) {
            (Some(claims), Some(_)) if holds(claims, &self.scope) => None,
            (Some(_), Some(presented)) => Some((
                presented.challenger.clone(),
                Refusal::InsufficientScope(presented.scheme, self.scope.clone()),
            )),
            _ => Some((Challenger::default(), Refusal::NoToken)),
        };
        match refusal {
            None => Box::pin(self.inner.call(request)),
            Some((challenger, refusal)) => {
                let answer = challenger.answer(&refusal);
                Box::pin(async move { Ok(answer) })
            }
        }
    }
}
