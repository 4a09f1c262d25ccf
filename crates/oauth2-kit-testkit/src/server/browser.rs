//! What a user's browser would visit: `GET /authorize` (answered by an automatic login), the
//! device flow's `POST /device_authorization` and its approval page `GET /device`.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, LOCATION};
use http::{HeaderMap, HeaderValue, StatusCode};
use oauth2_kit::Scope;
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

use super::token::IssuedCode;
use super::wire::{
    Reject, authenticate, bad_request, deadline, form_endpoint, json_no_store, new_secret, parse_form,
    parse_pairs,
};
use super::{DeviceGrant, DeviceStatus, Login, ServerState, Shared, lock};
use crate::fault::Route;

/// How long an authorization code may wait for its exchange.
const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// A plain-text `400` for a request that cannot be sent back to the client (unknown client or
/// redirect URI: RFC 6749 §4.1.2.1 forbids redirecting then).
fn no_redirect(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, why.to_owned()).into_response()
}

/// A `302` to `redirect_uri` with `params` added to its query.
fn redirect(redirect_uri: &Url, params: &[(&str, &str)]) -> Response {
    let mut target = redirect_uri.clone();
    target.query_pairs_mut().extend_pairs(params);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(target.as_str()) {
        response.headers_mut().insert(LOCATION, location);
    }
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How long a pushed authorization request's `request_uri` is good for.
const PUSHED_LIFETIME: Duration = Duration::from_secs(60);

/// A pushed authorization request (RFC 9126) waiting for its user.
#[derive(Debug, Clone)]
pub(super) struct PushedRequest {
    client_id: String,
    params: HashMap<String, String>,
    expires_at: Instant,
}

pub(super) async fn pushed_authorization(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::PushedAuthorization, &headers, &body, handle_pushed_authorization).await
}

fn handle_pushed_authorization(
    state: &ServerState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Reject> {
    let mut form = parse_form(headers, body)?;
    let client = authenticate(state, headers, &form)?;
    if form.contains_key("request_uri") {
        return Err(bad_request("invalid_request", "request_uri may not be pushed (RFC 9126 §2.1)"));
    }
    // The request's own client_id (RFC 9126 §2.1), whatever the client authentication carries.
    if form.get("client_id") != Some(&client.id) {
        return Err(bad_request("invalid_request", "client_id missing or not the authenticated client"));
    }
    for credential in ["client_secret", "client_assertion", "client_assertion_type"] {
        form.remove(credential);
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", new_secret()?);
    let pushed =
        PushedRequest { client_id: client.id.clone(), params: form, expires_at: deadline(PUSHED_LIFETIME) };
    lock(&state.pushed_requests).insert(request_uri.clone(), pushed);
    let mut response =
        json_no_store(json!({ "request_uri": request_uri, "expires_in": PUSHED_LIFETIME.as_secs() }));
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

pub(super) async fn authorize(State(state): Shared, RawQuery(query): RawQuery) -> Response {
    if let Some(faulted) = state.enter(Route::Authorize).await {
        return faulted;
    }
    let Ok(mut params) = parse_pairs(query.unwrap_or_default().as_bytes()) else {
        return no_redirect("repeated parameter");
    };
    // RFC 9126 §4: a pushed request's parameters, once, by the client that pushed them.
    if let Some(request_uri) = params.get("request_uri").cloned() {
        let pushed = lock(&state.pushed_requests).remove(&request_uri);
        let Some(pushed) = pushed.filter(|p| Instant::now() < p.expires_at) else {
            return no_redirect("unknown, used or expired request_uri");
        };
        if params.get("client_id") != Some(&pushed.client_id) {
            return no_redirect("client_id differs from the pushed request's");
        }
        params = pushed.params;
        params.insert("client_id".into(), pushed.client_id);
    } else if state.require_pushed_authorization {
        return no_redirect("this server takes authorization requests only through /par (RFC 9126)");
    }
    let param = |name: &str| params.get(name).map(String::as_str);
    let Some(client) = param("client_id").and_then(|id| lock(&state.clients).get(id).cloned()) else {
        return no_redirect("unknown client_id");
    };
    let Some(redirect_uri) = param("redirect_uri").and_then(|uri| Url::parse(uri).ok()) else {
        return no_redirect("missing or malformed redirect_uri");
    };
    if !client.redirect_uris.is_empty() && !client.redirect_uris.iter().any(|r| r == redirect_uri.as_str()) {
        return no_redirect("redirect_uri not registered for this client");
    }
    let issuer = lock(&state.issuer).clone();
    let state_param = param("state").unwrap_or("");
    let error = |code: &str, description: &str| {
        let mut params = vec![("error", code), ("error_description", description), ("iss", issuer.as_str())];
        if !state_param.is_empty() {
            params.push(("state", state_param));
        }
        redirect(&redirect_uri, &params)
    };
    if param("response_type") != Some("code") {
        return error("unsupported_response_type", "only response_type=code is supported");
    }
    let challenge = match (param("code_challenge"), param("code_challenge_method")) {
        (None, None) if client.public => return error("invalid_request", "public clients must use PKCE"),
        (None, None) => None,
        (None, Some(_)) => return error("invalid_request", "code_challenge_method without code_challenge"),
        (Some(challenge), method @ (None | Some("plain" | "S256"))) => {
            Some((challenge.to_owned(), method.unwrap_or("plain").to_owned()))
        }
        (Some(_), Some(_)) => return error("invalid_request", "unsupported code_challenge_method"),
    };
    let scope = match param("scope").map(str::parse::<Scope>).transpose() {
        Ok(scope) => scope.or_else(|| client.scopes.clone()),
        Err(_) => return error("invalid_scope", "malformed scope"),
    };
    if let (Some(allowed), Some(requested)) = (&client.scopes, &scope) {
        if !allowed.is_superset_of(requested) {
            return error("invalid_scope", "scope not allowed for this client");
        }
    }
    let user = match lock(&state.login).clone() {
        Login::As(user) => user,
        Login::Deny => return error("access_denied", "the user denied the request"),
    };
    let Ok(code) = new_secret() else { return error("server_error", "no randomness") };
    lock(&state.codes).insert(
        code.clone(),
        IssuedCode {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.as_str().to_owned(),
            challenge,
            scope,
            user,
            expires_at: deadline(CODE_LIFETIME),
            resources: params
                .get("resource")
                .map(|values| values.split(super::wire::REPEATED_SEPARATOR).map(str::to_owned).collect())
                .unwrap_or_default(),
            dpop_jkt: param("dpop_jkt").map(str::to_owned),
            nonce: param("nonce").map(str::to_owned),
        },
    );
    let mut params = vec![("code", code.as_str()), ("iss", issuer.as_str())];
    if !state_param.is_empty() {
        params.push(("state", state_param));
    }
    redirect(&redirect_uri, &params)
}

pub(super) async fn device_authorization(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::DeviceAuthorization, &headers, &body, handle_device_authorization).await
}

/// A user code: eight letters without vowels (no words) in two groups, as RFC 8628 §6.1 suggests.
fn user_code() -> Result<String, Reject> {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| bad_request("server_error", "no randomness"))?;
    let letters: String = bytes
        .iter()
        .map(|b| LETTERS.get(usize::from(*b) % LETTERS.len()).copied().map_or('B', char::from))
        .collect();
    Ok(format!("{}-{}", letters.get(..4).unwrap_or_default(), letters.get(4..).unwrap_or_default()))
}

fn handle_device_authorization(
    state: &ServerState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let client = authenticate(state, headers, &form)?;
    let scope = match form.get("scope") {
        None => client.scopes.clone(),
        Some(requested) => {
            let requested: Scope =
                requested.parse().map_err(|_| bad_request("invalid_scope", "malformed scope"))?;
            if client.scopes.as_ref().is_some_and(|allowed| !allowed.is_superset_of(&requested)) {
                return Err(bad_request("invalid_scope", "scope not allowed for this client"));
            }
            Some(requested)
        }
    };
    let device_code = new_secret()?;
    let user_code = user_code()?;
    let settings = *lock(&state.device);
    lock(&state.devices).insert(
        device_code.clone(),
        DeviceGrant {
            client_id: client.id.clone(),
            user_code: user_code.clone(),
            scope,
            status: DeviceStatus::Pending,
            expires_at: deadline(settings.lifetime),
            interval: settings.interval.unwrap_or(oauth2_kit::grant::device_code::DEFAULT_INTERVAL),
            last_poll: None,
        },
    );
    let base = lock(&state.issuer).clone();
    let mut answer = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{base}/device"),
        "verification_uri_complete": format!("{base}/device?user_code={user_code}"),
        "expires_in": settings.lifetime.as_secs(),
    });
    if let (Some(interval), Some(object)) = (settings.interval, answer.as_object_mut()) {
        object.insert("interval".into(), Value::from(interval.as_secs()));
    }
    Ok(json_no_store(answer))
}

/// The device flow's verification page, answered at once: `?user_code=...&action=approve` (as
/// the logged-in user, see [`TestServer::login_as`](super::TestServer::login_as)) or
/// `action=deny`.
pub(super) async fn device_page(State(state): Shared, RawQuery(query): RawQuery) -> Response {
    let Ok(params) = parse_pairs(query.unwrap_or_default().as_bytes()) else {
        return no_redirect("repeated parameter");
    };
    let Some(user_code) = params.get("user_code") else { return no_redirect("missing user_code") };
    let approve = match params.get("action").map(String::as_str) {
        Some("approve") => true,
        Some("deny") => false,
        _ => return no_redirect("action must be approve or deny"),
    };
    if state.answer_device(user_code, approve) {
        (StatusCode::OK, if approve { "approved" } else { "denied" }).into_response()
    } else {
        (StatusCode::NOT_FOUND, "no pending request with this user code").into_response()
    }
}

impl ServerState {
    /// Approves (as the logged-in user) or denies the pending device request with `user_code`.
    pub(super) fn answer_device(&self, user_code: &str, approve: bool) -> bool {
        let login = lock(&self.login).clone();
        let mut devices = lock(&self.devices);
        let now = Instant::now();
        let Some(grant) = devices.values_mut().find(|g| {
            g.user_code == user_code && matches!(g.status, DeviceStatus::Pending) && now < g.expires_at
        }) else {
            return false;
        };
        grant.status = match (approve, login) {
            (true, Login::As(user)) => DeviceStatus::Approved(user),
            _ => DeviceStatus::Denied,
        };
        true
    }
}
