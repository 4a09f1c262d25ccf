//! What every endpoint shares: OAuth 2.0 error answers, form parsing, client authentication.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use oauth2_kit::{AuthMethod, ClientSecret};
use serde_json::{Value, json};
use tokio::time::Instant;
use url::form_urlencoded;

use super::{MtlsIdentity, ServerState, TestClient, lock};
use crate::fault::Route;

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
#[derive(Debug)]
pub(super) struct Reject {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) description: String,
    pub(super) basic_challenge: bool,
    /// A DPoP nonce to send with the answer (`DPoP-Nonce`, RFC 9449 §8).
    pub(super) dpop_nonce: Option<String>,
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(nonce) = self.dpop_nonce.and_then(|nonce| HeaderValue::from_str(&nonce).ok()) {
            response.headers_mut().insert("dpop-nonce", nonce);
        }
        if self.basic_challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"testkit\""));
        }
        response
    }
}

pub(super) fn oauth_error(status: StatusCode, code: &'static str, description: &str) -> Reject {
    Reject { status, code, description: description.to_owned(), basic_challenge: false, dpop_nonce: None }
}

/// A `400` OAuth 2.0 error.
pub(super) fn bad_request(code: &'static str, description: &str) -> Reject {
    oauth_error(StatusCode::BAD_REQUEST, code, description)
}

fn invalid_client(basic: bool) -> Reject {
    Reject {
        basic_challenge: basic,
        ..oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed")
    }
}

pub(super) fn json_no_store(value: Value) -> Response {
    let mut response = axum::Json(value).into_response();
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Parses a form body; RFC 6749 §3.2 forbids repeated parameters.
pub(super) fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Reject> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(bad_request("invalid_request", "expected a form body"));
    }
    parse_pairs(body)
}

/// The parameters that may be repeated (RFC 8693 §2.1, RFC 8707 §2): their values are kept
/// joined by [`REPEATED_SEPARATOR`].
const REPEATABLE: &[&str] = &["audience", "resource"];

/// Joins the values of a [repeatable](REPEATABLE) parameter.
pub(super) const REPEATED_SEPARATOR: char = '\n';

/// Parses `name=value&...` (a form body or a query), refusing repeated parameters but
/// `audience` and `resource`.
pub(super) fn parse_pairs(bytes: &[u8]) -> Result<HashMap<String, String>, Reject> {
    let mut form: HashMap<String, String> = HashMap::new();
    for (name, value) in form_urlencoded::parse(bytes) {
        match form.get_mut(name.as_ref()) {
            Some(earlier) if REPEATABLE.contains(&name.as_ref()) => {
                earlier.push(REPEATED_SEPARATOR);
                earlier.push_str(&value);
            }
            Some(_) => return Err(bad_request("invalid_request", &format!("parameter {name} repeated"))),
            None => {
                form.insert(name.into_owned(), value.into_owned());
            }
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

/// Authenticates the client: basic, post or a signed assertion (only one, and one the server
/// accepts), or a public client's bare `client_id`.
pub(super) fn authenticate(
    state: &ServerState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<TestClient, Reject> {
    let (client, method) = identify(state, headers, form)?;
    if !client.public && !state.auth_methods.contains(&method) {
        return Err(Reject {
            description: format!("this server does not accept {method}"),
            ..invalid_client(method == AuthMethod::ClientSecretBasic)
        });
    }
    Ok(client)
}

/// The client, and the method it authenticated with.
fn identify(
    state: &ServerState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(TestClient, AuthMethod), Reject> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials.trim().to_owned());
    let posted = form.get("client_secret").is_some();
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        if basic.is_some() || posted {
            return Err(bad_request("invalid_request", "client authenticated more than once"));
        }
        return super::assertion::authenticate(state, form);
    }
    let (id, secret, via_basic) = match (basic, posted) {
        (Some(_), true) => {
            return Err(bad_request("invalid_request", "client authenticated more than once"));
        }
        (Some(encoded), false) => {
            let malformed = || bad_request("invalid_request", "malformed Basic credentials");
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
        (None, false) => {
            let clients = lock(&state.clients);
            return match form.get("client_id").and_then(|id| clients.get(id)) {
                Some(client) if client.public => Ok((client.clone(), AuthMethod::None)),
                Some(client) => match (&client.mtls, state.peer_certificate(headers)) {
                    // RFC 8705 §2: the certificate of the connection is the credential.
                    (Some(MtlsIdentity::Subject(subject)), Some(peer))
                        if lock(&state.issued_certificates).get(&peer) == Some(subject) =>
                    {
                        Ok((client.clone(), AuthMethod::TlsClientAuth))
                    }
                    (Some(MtlsIdentity::Thumbprint(registered)), Some(peer)) if *registered == peer => {
                        Ok((client.clone(), AuthMethod::SelfSignedTlsClientAuth))
                    }
                    _ => Err(invalid_client(false)),
                },
                None => Err(invalid_client(false)),
            };
        }
    };
    let clients = lock(&state.clients);
    match clients.get(&id) {
        Some(client)
            if !client.public && !secret.is_empty() && ClientSecret::new(secret) == client.secret =>
        {
            let method = if via_basic { AuthMethod::ClientSecretBasic } else { AuthMethod::ClientSecretPost };
            Ok((client.clone(), method))
        }
        _ => Err(invalid_client(via_basic)),
    }
}

/// A `WWW-Authenticate: Bearer` challenge answer (RFC 6750 §3).
pub(super) fn challenge(status: StatusCode, value: &'static str) -> Response {
    let mut response = status.into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(value));
    response
}

/// The answer for a missing, unknown, expired or revoked bearer token.
pub(super) fn invalid_token() -> Response {
    challenge(
        StatusCode::UNAUTHORIZED,
        "Bearer realm=\"testkit\", error=\"invalid_token\", error_description=\"the access token is not active\"",
    )
}

/// `now + lifetime`; a lifetime past what an `Instant` can hold is about thirty years.
pub(super) fn deadline(lifetime: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(lifetime)
        .or_else(|| now.checked_add(Duration::from_secs(30 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// A new unguessable value (a token, a code).
pub(super) fn new_secret() -> Result<String, Reject> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|_| oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub(super) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(super) type FormHandler = fn(&ServerState, &HeaderMap, &[u8]) -> Result<Response, Reject>;

/// Counts the request, applies a pending fault, else answers with `handler`.
pub(super) async fn form_endpoint(
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

/// A required form parameter.
pub(super) fn required<'a>(
    form: &'a HashMap<String, String>,
    name: &'static str,
) -> Result<&'a String, Reject> {
    form.get(name).ok_or_else(|| bad_request("invalid_request", &format!("missing {name}")))
}
