//! The embedded authorization server.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use oauth2_kit::{ClientSecret, Endpoint, Scope};
use serde_json::{Value, json};
use tokio::time::Instant;
use url::{Url, form_urlencoded};

use crate::background::Background;
use crate::fault::{Fault, FaultQueue, Route};

/// The id of the client every [`TestServer`] registers unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "testkit-client";
/// The secret of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "testkit-secret";
/// The token lifetime unless configured: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A client registered at the [`TestServer`].
///
/// ```
/// use std::time::Duration;
/// use oauth2_kit_testkit::TestClient;
///
/// let client = TestClient::new("reporting", "s3cret")
///     .scopes("read write".parse()?)
///     .token_lifetime(Duration::from_secs(4));
/// # drop(client);
/// # Ok::<(), oauth2_kit::ScopeError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TestClient {
    id: String,
    secret: ClientSecret,
    scopes: Option<Scope>,
    token_lifetime: Option<Duration>,
    client_credentials: bool,
}

impl TestClient {
    /// A client that may use the client credentials grant with any scope.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: ClientSecret::new(secret),
            scopes: None,
            token_lifetime: None,
            client_credentials: true,
        }
    }

    /// Restricts the scopes the client may request; requesting others gives `invalid_scope`.
    /// Requests without a scope get these.
    pub fn scopes(mut self, scopes: Scope) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// The lifetime of this client's tokens, instead of the server's.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = Some(lifetime);
        self
    }

    /// Forbids the client credentials grant (requests get `unauthorized_client`).
    pub fn without_client_credentials(mut self) -> Self {
        self.client_credentials = false;
        self
    }
}

#[derive(Debug, Clone)]
struct IssuedToken {
    client_id: String,
    scope: Option<Scope>,
    issued_at: SystemTime,
    expires_at: Instant,
    lifetime: Duration,
    revoked: bool,
}

impl IssuedToken {
    fn active(&self) -> bool {
        !self.revoked && Instant::now() < self.expires_at
    }
}

/// Holds every issued token and client secret: its `Debug` shows neither.
struct ServerState {
    issuer: Mutex<String>,
    clients: Mutex<HashMap<String, TestClient>>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    counts: Mutex<HashMap<Route, usize>>,
    faults: Mutex<FaultQueue>,
    token_lifetime: Mutex<Duration>,
    resource_scope: Option<Scope>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState")
            .field("issuer", &*lock(&self.issuer))
            .field("clients", &lock(&self.clients).keys().collect::<Vec<_>>())
            .field("tokens_issued", &lock(&self.tokens).len())
            .field("requests", &*lock(&self.counts))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Options of a [`TestServer`].
#[derive(Debug)]
#[must_use]
pub struct TestServerBuilder {
    clients: Vec<TestClient>,
    token_lifetime: Duration,
    resource_scope: Option<Scope>,
}

impl TestServerBuilder {
    /// Registers a client (in addition to the default one).
    pub fn client(mut self, client: TestClient) -> Self {
        self.clients.push(client);
        self
    }

    /// The lifetime of issued tokens. Default: [`DEFAULT_TOKEN_LIFETIME`].
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// A scope the protected resource requires; tokens without it get `403 insufficient_scope`.
    /// Default: none (any active token is accepted).
    pub fn resource_scope(mut self, scope: Scope) -> Self {
        self.resource_scope = Some(scope);
        self
    }

    /// Starts the server on `127.0.0.1` on an ephemeral port, on a thread of its own (so it works
    /// from any async runtime, or none). It stops when the [`TestServer`] is dropped.
    pub fn start(self) -> io::Result<TestServer> {
        let clients = self.clients.into_iter().map(|c| (c.id.clone(), c)).collect();
        let state = Arc::new(ServerState {
            issuer: Mutex::new(String::new()),
            clients: Mutex::new(clients),
            tokens: Mutex::new(HashMap::new()),
            counts: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultQueue::default()),
            token_lifetime: Mutex::new(self.token_lifetime),
            resource_scope: self.resource_scope,
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/introspect", post(introspect))
            .route("/revoke", post(revoke))
            .route("/resource", get(resource).post(resource))
            .with_state(state.clone());
        let server = Background::start("authorization-server", move |listener| async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "testkit server stopped");
            }
        })?;
        let url = Url::parse(&format!("http://{}/", server.addr()))
            .map_err(|e| io::Error::other(format!("server URL: {e}")))?;
        let endpoint = |path: &str| -> io::Result<Endpoint> {
            let joined = url.join(path).map_err(|e| io::Error::other(format!("server URL: {e}")))?;
            Endpoint::new(joined).map_err(|e| io::Error::other(e.to_string()))
        };
        let endpoints = Endpoints {
            token: endpoint("token")?,
            introspection: endpoint("introspect")?,
            revocation: endpoint("revoke")?,
            resource: endpoint("resource")?.url().clone(),
        };
        *lock(&state.issuer) = url.as_str().trim_end_matches('/').to_owned();
        Ok(TestServer { server, url, endpoints, state })
    }
}

/// An OAuth 2.0 authorization server and protected resource, in process, on loopback.
///
/// Endpoints: `POST /token` (client credentials grant), `POST /introspect` (RFC 7662),
/// `POST /revoke` (RFC 7009) and `GET`/`POST /resource` (a protected resource that checks bearer
/// tokens: `401` with an RFC 6750 challenge for a missing, unknown, expired or revoked token,
/// `403 insufficient_scope` when a [required scope](TestServerBuilder::resource_scope) is
/// missing, else `200` with the token's client and scope and the request body echoed). Clients authenticate with `client_secret_basic` or `client_secret_post`. The server
/// counts requests per endpoint and can inject faults into the next requests.
///
/// ```
/// use oauth2_kit_testkit::{Route, TestServer};
///
/// let server = TestServer::start()?;
/// assert!(server.token_endpoint().as_str().starts_with("http://127.0.0.1:"));
/// assert_eq!(server.requests(Route::Token), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TestServer {
    server: Background,
    url: Url,
    endpoints: Endpoints,
    state: Arc<ServerState>,
}

#[derive(Debug)]
struct Endpoints {
    token: Endpoint,
    introspection: Endpoint,
    revocation: Endpoint,
    resource: Url,
}

impl TestServer {
    /// Starts a server with the default client ([`DEFAULT_CLIENT_ID`] /
    /// [`DEFAULT_CLIENT_SECRET`], any scope) and one-hour tokens.
    pub fn start() -> io::Result<TestServer> {
        Self::builder().start()
    }

    /// A builder, with the default client registered.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            clients: vec![TestClient::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)],
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            resource_scope: None,
        }
    }

    /// The server's base URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `POST /token`.
    pub fn token_endpoint(&self) -> Endpoint {
        self.endpoints.token.clone()
    }

    /// `POST /introspect`.
    pub fn introspection_endpoint(&self) -> Endpoint {
        self.endpoints.introspection.clone()
    }

    /// `POST /revoke`.
    pub fn revocation_endpoint(&self) -> Endpoint {
        self.endpoints.revocation.clone()
    }

    /// `/resource`, the protected resource (`GET` or `POST`).
    pub fn resource_url(&self) -> Url {
        self.endpoints.resource.clone()
    }

    /// How many requests reached `route` (faulted ones included).
    pub fn requests(&self, route: Route) -> usize {
        lock(&self.state.counts).get(&route).copied().unwrap_or(0)
    }

    /// Sets every request count to zero.
    pub fn reset_counts(&self) {
        lock(&self.state.counts).clear();
    }

    /// Applies `fault` to the next `times` requests to `route`, after any faults already queued.
    pub fn inject(&self, route: Route, fault: Fault, times: usize) {
        lock(&self.state.faults).push(route, fault, times);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Registers another client while the server runs.
    pub fn register(&self, client: TestClient) {
        lock(&self.state.clients).insert(client.id.clone(), client);
    }

    /// Changes the lifetime of tokens issued from now on (clients with their own lifetime keep
    /// it).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        *lock(&self.state.token_lifetime) = lifetime;
    }

    /// Revokes every token issued so far, as an administrator would.
    pub fn revoke_all_tokens(&self) {
        lock(&self.state.tokens).values_mut().for_each(|t| t.revoked = true);
    }

    /// How many tokens the server has issued.
    pub fn tokens_issued(&self) -> usize {
        lock(&self.state.tokens).len()
    }
}

type Shared = State<Arc<ServerState>>;

impl ServerState {
    /// Counts the request and applies the next fault, if any: returns the answer that replaces
    /// the normal one.
    async fn enter(&self, route: Route) -> Option<Response> {
        *lock(&self.counts).entry(route).or_insert(0) += 1;
        let fault = lock(&self.faults).next(route)?;
        if let Some(delay) = fault.delay {
            tokio::time::sleep(delay).await;
        }
        if !fault.replaces_answer() {
            return None;
        }
        let mut response =
            (fault.status.unwrap_or(StatusCode::OK), fault.body.unwrap_or_default()).into_response();
        for (name, value) in fault.headers {
            response.headers_mut().append(name, value);
        }
        Some(response)
    }
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
#[derive(Debug)]
struct Reject {
    status: StatusCode,
    code: &'static str,
    description: String,
    basic_challenge: bool,
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.basic_challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"testkit\""));
        }
        response
    }
}

fn oauth_error(status: StatusCode, code: &'static str, description: &str) -> Reject {
    Reject { status, code, description: description.to_owned(), basic_challenge: false }
}

fn invalid_client(basic: bool) -> Reject {
    Reject {
        basic_challenge: basic,
        ..oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed")
    }
}

fn json_no_store(value: Value) -> Response {
    let mut response = axum::Json(value).into_response();
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Parses a form body; RFC 6749 §3.2 forbids repeated parameters.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Reject> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "expected a form body"));
    }
    let mut form = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if form.insert(name.clone().into_owned(), value.into_owned()).is_some() {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("parameter {name} repeated"),
            ));
        }
    }
    Ok(form)
}

/// Decodes one form-urlencoded component (RFC 6749 §2.3.1's encoding of id and secret).
fn form_decode(part: &str) -> Option<String> {
    if part.contains(['=', '&']) {
        return None;
    }
    let mut pairs = form_urlencoded::parse(part.as_bytes());
    match (pairs.next(), pairs.next()) {
        (Some((name, value)), None) if value.is_empty() => Some(name.into_owned()),
        (None, None) => Some(String::new()),
        _ => None,
    }
}

/// Authenticates the client (basic or post, not both).
fn authenticate(
    state: &ServerState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<TestClient, Reject> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials.trim().to_owned());
    let posted = form.get("client_secret").is_some();
    let (id, secret, via_basic) = match (basic, posted) {
        (Some(_), true) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "client authenticated more than once",
            ));
        }
        (Some(encoded), false) => {
            let malformed =
                || oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "malformed Basic credentials");
            let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
            let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
            (form_decode(id).ok_or_else(malformed)?, form_decode(secret).ok_or_else(malformed)?, true)
        }
        (None, true) => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
            false,
        ),
        (None, false) => return Err(invalid_client(false)),
    };
    let clients = lock(&state.clients);
    match clients.get(&id) {
        Some(client) if ClientSecret::new(secret) == client.secret => Ok(client.clone()),
        _ => Err(invalid_client(via_basic)),
    }
}

/// About thirty years from now: the end of time for a test.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(30 * 365 * 24 * 3600)).unwrap_or(now)
}

fn new_token() -> Result<String, Reject> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|_| oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

async fn token(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::Token, &headers, &body, handle_token).await
}

type FormHandler = fn(&ServerState, &HeaderMap, &[u8]) -> Result<Response, Reject>;

/// Counts the request, applies a pending fault, else answers with `handler`.
async fn form_endpoint(
    state: &ServerState,
    route: Route,
    headers: &HeaderMap,
    body: &[u8],
    handler: FormHandler,
) -> Response {
    if let Some(faulted) = state.enter(route).await {
        return faulted;
    }
    handler(state, headers, body).unwrap_or_else(IntoResponse::into_response)
}

/// The `token` parameter of an introspection or revocation request.
fn required_token(form: &HashMap<String, String>) -> Result<&String, Reject> {
    form.get("token").ok_or_else(|| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "missing token"))
}

fn handle_token(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let client = authenticate(state, headers, &form)?;
    match form.get("grant_type").map(String::as_str) {
        None => return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "missing grant_type")),
        Some("client_credentials") if client.client_credentials => {}
        Some("client_credentials") => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "client may not use the client_credentials grant",
            ));
        }
        Some(_) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant type not supported",
            ));
        }
    }
    let scope = match form.get("scope") {
        None => client.scopes.clone(),
        Some(requested) => {
            let requested: Scope = requested
                .parse()
                .map_err(|_| oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "malformed scope"))?;
            if client.scopes.as_ref().is_some_and(|allowed| !allowed.is_superset_of(&requested)) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "scope not allowed for this client",
                ));
            }
            Some(requested)
        }
    };
    let lifetime = client.token_lifetime.unwrap_or_else(|| *lock(&state.token_lifetime));
    let access_token = new_token()?;
    let issued = IssuedToken {
        client_id: client.id.clone(),
        scope: scope.clone(),
        issued_at: SystemTime::now(),
        // A lifetime past what an Instant can hold never expires.
        expires_at: Instant::now().checked_add(lifetime).unwrap_or_else(far_future),
        lifetime,
        revoked: false,
    };
    lock(&state.tokens).insert(access_token.clone(), issued);
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
    });
    if let (Some(scope), Some(object)) = (scope, answer.as_object_mut()) {
        object.insert("scope".into(), Value::String(scope.to_string()));
    }
    Ok(json_no_store(answer))
}

async fn introspect(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::Introspection, &headers, &body, handle_introspect).await
}

fn handle_introspect(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let _client = authenticate(state, headers, &form)?;
    let token = required_token(&form)?;
    let issued = lock(&state.tokens).get(token).cloned();
    let answer = match issued {
        Some(t) if t.active() => {
            let iat = unix_seconds(t.issued_at);
            let mut answer = json!({
                "active": true,
                "client_id": t.client_id,
                "sub": t.client_id,
                "token_type": "Bearer",
                "iat": iat,
                "exp": iat.saturating_add(t.lifetime.as_secs()),
                "iss": *lock(&state.issuer),
            });
            if let (Some(scope), Some(object)) = (t.scope, answer.as_object_mut()) {
                object.insert("scope".into(), Value::String(scope.to_string()));
            }
            answer
        }
        _ => json!({ "active": false }),
    };
    Ok(json_no_store(answer))
}

async fn revoke(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::Revocation, &headers, &body, handle_revoke).await
}

fn handle_revoke(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let client = authenticate(state, headers, &form)?;
    let token = required_token(&form)?;
    let mut tokens = lock(&state.tokens);
    match tokens.get_mut(token) {
        Some(t) if t.client_id != client.id => {
            Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "token was issued to another client"))
        }
        Some(t) => {
            t.revoked = true;
            Ok(StatusCode::OK.into_response())
        }
        // RFC 7009 §2.2: an invalid token is not an error.
        None => Ok(StatusCode::OK.into_response()),
    }
}

async fn resource(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(faulted) = state.enter(Route::Resource).await {
        return faulted;
    }
    let challenge = |status: StatusCode, value: &'static str| {
        let mut response = status.into_response();
        response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(value));
        response
    };
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let Some(presented) = presented else {
        return challenge(StatusCode::UNAUTHORIZED, "Bearer realm=\"testkit\"");
    };
    let issued = lock(&state.tokens).get(&presented).cloned();
    match issued {
        Some(t) if t.active() => {
            if let Some(required) = &state.resource_scope {
                if !t.scope.as_ref().is_some_and(|s| s.is_superset_of(required)) {
                    return challenge(
                        StatusCode::FORBIDDEN,
                        "Bearer realm=\"testkit\", error=\"insufficient_scope\"",
                    );
                }
            }
            axum::Json(json!({
                "client_id": t.client_id,
                "scope": t.scope.map(|s| s.to_string()),
                "body": String::from_utf8_lossy(&body),
            }))
            .into_response()
        }
        _ => challenge(
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"testkit\", error=\"invalid_token\", error_description=\"the access token is not active\"",
        ),
    }
}
