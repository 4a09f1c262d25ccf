//! `POST /token` (every grant), `POST /introspect` and `POST /revoke`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use oauth2_kit::Scope;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tokio::time::Instant;

use super::wire::{
    Reject, authenticate, bad_request, deadline, form_endpoint, json_no_store, new_secret, parse_form,
    required, unix_seconds,
};
use super::{DeviceStatus, ServerState, Shared, TestClient, keys, lock};
use crate::fault::Route;

/// An access token the server issued.
#[derive(Debug, Clone)]
pub(super) struct IssuedToken {
    pub(super) client_id: String,
    pub(super) scope: Option<Scope>,
    /// The user it was issued for (`None` for client credentials).
    pub(super) user: Option<String>,
    /// The refresh token it came with or from: revoking that one ends this one too.
    refresh: Option<String>,
    issued_at: SystemTime,
    expires_at: Instant,
    lifetime: Duration,
    pub(super) revoked: bool,
    /// Where it may be used (token exchange's `audience` and `resource`), if said.
    audience: Vec<String>,
    /// Who acts for the user (token exchange's actor), if anyone.
    actor: Option<String>,
    /// The thumbprint of the DPoP key it is bound to (RFC 9449), if it is.
    pub(super) jkt: Option<String>,
    /// The thumbprint of the TLS client certificate it is bound to (RFC 8705 §3), if it is.
    pub(super) x5t: Option<String>,
}

impl IssuedToken {
    pub(super) fn active(&self) -> bool {
        !self.revoked && Instant::now() < self.expires_at
    }
}

/// A refresh token the server issued.
#[derive(Debug, Clone)]
pub(super) struct IssuedRefresh {
    client_id: String,
    /// The scope first granted: a refresh may narrow it, never widen it.
    scope: Option<Scope>,
    user: Option<String>,
    revoked: bool,
    /// The DPoP key a public client's refresh token is bound to (RFC 9449 §5).
    jkt: Option<String>,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(super) struct IssuedCode {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    /// `(code_challenge, code_challenge_method)`.
    pub(super) challenge: Option<(String, String)>,
    pub(super) scope: Option<Scope>,
    pub(super) user: String,
    pub(super) expires_at: Instant,
    /// The resource indicators of the login (RFC 8707).
    pub(super) resources: Vec<String>,
    /// The DPoP key the login named (`dpop_jkt`, RFC 9449 §10): the code exchange must prove it.
    pub(super) dpop_jkt: Option<String>,
    /// The login's `nonce` (OpenID Connect), for its ID token.
    pub(super) nonce: Option<String>,
}

pub(super) async fn token(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::Token, &headers, &body, handle_token).await
}

fn handle_token(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let grant_type = form.get("grant_type").map(String::as_str);
    let client = match authenticate(state, headers, &form) {
        // RFC 7523 §3.1: the JWT bearer grant's client need not authenticate (the assertion is
        // the credential); one that sends no credentials at all is known by its client_id.
        Err(refused) if grant_type == Some(oauth2_kit::grant::jwt_bearer::GRANT_TYPE) => {
            let anonymous = !headers.contains_key(http::header::AUTHORIZATION)
                && !form.contains_key("client_secret")
                && !form.contains_key("client_assertion");
            let known = form.get("client_id").and_then(|id| lock(&state.clients).get(id).cloned());
            known.filter(|_| anonymous).ok_or(refused)?
        }
        result => result?,
    };
    let mut client = client;
    let url = format!("{}/token", state.origin(headers));
    client.presented_jkt = super::dpop::check(state, headers, "POST", &url, None)
        .map_err(super::dpop::Refusal::at_token_endpoint)?;
    client.presented_x5t = state.peer_certificate(headers);
    let mut response = match grant_type {
        None => Err(bad_request("invalid_request", "missing grant_type")),
        Some("client_credentials") => client_credentials(state, &client, &form),
        Some("authorization_code") => authorization_code(state, &client, &form),
        Some("refresh_token") => refresh_token(state, &client, &form),
        Some("password") => password(state, &client, &form),
        Some("urn:ietf:params:oauth:grant-type:device_code") => device_code(state, &client, &form),
        Some(oauth2_kit::grant::jwt_bearer::GRANT_TYPE) => jwt_bearer(state, &client, &form),
        Some(oauth2_kit::grant::token_exchange::GRANT_TYPE) => token_exchange(state, &client, &form),
        Some(_) => Err(bad_request("unsupported_grant_type", "grant type not supported")),
    }?;
    // The nonce the next proofs need, with every answer to a proven request (RFC 9449 §8).
    let nonce = lock(&state.dpop.nonce).clone().filter(|_| client.presented_jkt.is_some());
    if let Some(nonce) = nonce.and_then(|nonce| http::HeaderValue::from_str(&nonce).ok()) {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
    Ok(response)
}

/// The requested scope, checked against what the client may ask for; the client's scopes when
/// none is requested.
fn requested_scope(client: &TestClient, form: &HashMap<String, String>) -> Result<Option<Scope>, Reject> {
    let Some(requested) = form.get("scope") else { return Ok(client.scopes.clone()) };
    let requested: Scope = requested.parse().map_err(|_| bad_request("invalid_scope", "malformed scope"))?;
    if client.scopes.as_ref().is_some_and(|allowed| !allowed.is_superset_of(&requested)) {
        return Err(bad_request("invalid_scope", "scope not allowed for this client"));
    }
    Ok(Some(requested))
}

/// What comes with a new access token.
enum Refresh {
    /// No refresh token.
    None,
    /// A new refresh token, sent.
    New,
    /// The access token comes from this refresh token, which is not sent again (no rotation).
    Kept(String),
    /// The access token comes with this refresh token, just issued in place of the one used.
    Rotated(String),
}

/// What an exchanged token carries besides the usual.
#[derive(Default)]
struct Exchanged {
    audience: Vec<String>,
    actor: Option<String>,
    /// Whether the answer names `issued_token_type` (RFC 8693 §2.2.1).
    exchange: bool,
    /// An ID token goes with the tokens (an `openid` login), with this nonce if the login had
    /// one.
    id_token: Option<Option<String>>,
}

/// Issues an access token (and a refresh token, as asked) and answers with them.
fn issue(
    state: &ServerState,
    client: &TestClient,
    scope: Option<Scope>,
    user: Option<String>,
    refresh: Refresh,
) -> Result<Response, Reject> {
    issue_exchanged(state, client, scope, user, refresh, Exchanged::default())
}

fn issue_exchanged(
    state: &ServerState,
    client: &TestClient,
    scope: Option<Scope>,
    user: Option<String>,
    refresh: Refresh,
    exchanged: Exchanged,
) -> Result<Response, Reject> {
    let lifetime = client.token_lifetime.unwrap_or_else(|| *lock(&state.token_lifetime));
    let access_token = if state.jwt_access_tokens {
        jwt_access_token(state, client, scope.as_ref(), user.as_deref(), &exchanged.audience, lifetime)?
    } else {
        new_secret()?
    };
    let (link, sent) = match refresh {
        Refresh::None => (None, None),
        Refresh::Kept(existing) => (Some(existing), None),
        Refresh::Rotated(new) => (Some(new.clone()), Some(new)),
        Refresh::New => {
            let new = new_secret()?;
            let issued = IssuedRefresh {
                client_id: client.id.clone(),
                scope: scope.clone(),
                user: user.clone(),
                revoked: false,
                jkt: client.presented_jkt.clone().filter(|_| client.public),
            };
            lock(&state.refresh_tokens).insert(new.clone(), issued);
            (Some(new.clone()), Some(new))
        }
    };
    let id_token = match (&exchanged.id_token, &user) {
        (Some(nonce), Some(user)) => {
            Some(id_token(state, client, user, nonce.as_deref(), &access_token, lifetime)?)
        }
        _ => None,
    };
    let issued = IssuedToken {
        client_id: client.id.clone(),
        scope: scope.clone(),
        user,
        refresh: link,
        issued_at: SystemTime::now(),
        expires_at: deadline(lifetime),
        lifetime,
        revoked: false,
        audience: exchanged.audience,
        actor: exchanged.actor,
        jkt: client.presented_jkt.clone(),
        x5t: client.presented_x5t.clone(),
    };
    lock(&state.tokens).insert(access_token.clone(), issued);
    let mut answer = json!({
        "access_token": access_token,
        "token_type": if client.presented_jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": lifetime.as_secs(),
    });
    if let Some(object) = answer.as_object_mut() {
        if let Some(scope) = scope {
            object.insert("scope".into(), Value::String(scope.to_string()));
        }
        if let Some(refresh_token) = sent {
            object.insert("refresh_token".into(), Value::String(refresh_token));
        }
        if exchanged.exchange {
            object.insert("issued_token_type".into(), Value::String(ACCESS_TOKEN_TYPE.into()));
        }
        if let Some(id_token) = id_token {
            object.insert("id_token".into(), Value::String(id_token));
        }
    }
    Ok(json_no_store(answer))
}

/// A JWT access token (RFC 9068 §2): `aud` the resources asked for, else the server's
/// `/resource`; `cnf` when bound.
fn jwt_access_token(
    state: &ServerState,
    client: &TestClient,
    scope: Option<&Scope>,
    user: Option<&str>,
    audience: &[String],
    lifetime: Duration,
) -> Result<String, Reject> {
    let issuer = lock(&state.issuer).clone();
    let now = keys::now();
    let aud: Value = match audience {
        [] => Value::String(format!("{issuer}/resource")),
        [one] => Value::String(one.clone()),
        many => json!(many),
    };
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), user.unwrap_or(&client.id).into());
    claims.insert("aud".into(), aud);
    claims.insert("client_id".into(), client.id.clone().into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + lifetime.as_secs()).into());
    claims.insert("jti".into(), keys::jti()?.into());
    if let Some(scope) = scope {
        claims.insert("scope".into(), scope.to_string().into());
    }
    match (&client.presented_jkt, &client.presented_x5t) {
        (Some(jkt), _) => drop(claims.insert("cnf".into(), json!({ "jkt": jkt }))),
        (None, Some(x5t)) => drop(claims.insert("cnf".into(), json!({ "x5t#S256": x5t }))),
        (None, None) => {}
    }
    keys::sign(state, "at+jwt", &Value::Object(claims))
}

/// An ID token (OpenID Connect Core §2) for `user`, with the login's `nonce` and the access
/// token's `at_hash`.
fn id_token(
    state: &ServerState,
    client: &TestClient,
    user: &str,
    nonce: Option<&str>,
    access_token: &str,
    lifetime: Duration,
) -> Result<String, Reject> {
    let issuer = lock(&state.issuer).clone();
    let now = keys::now();
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), user.into());
    claims.insert("aud".into(), client.id.clone().into());
    claims.insert("iat".into(), now.into());
    claims.insert("auth_time".into(), now.into());
    claims.insert("exp".into(), (now + lifetime.as_secs()).into());
    claims.insert("at_hash".into(), keys::at_hash(access_token).into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(found) = lock(&state.users).get(user) {
        claims.insert("name".into(), found.name.clone().into());
        claims.insert("email".into(), found.email.clone().into());
    }
    keys::sign(state, "JWT", &Value::Object(claims))
}

fn unauthorized_client(grant: &str) -> Reject {
    bad_request("unauthorized_client", &format!("client may not use the {grant} grant"))
}

fn client_credentials(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    if !client.client_credentials || client.public {
        return Err(unauthorized_client("client_credentials"));
    }
    let scope = requested_scope(client, form)?;
    let audience = repeated(form, "resource");
    issue_exchanged(state, client, scope, None, Refresh::None, Exchanged { audience, ..Exchanged::default() })
}

/// Every value of a parameter that may be repeated.
fn repeated(form: &HashMap<String, String>, name: &str) -> Vec<String> {
    form.get(name)
        .map(|values| values.split(super::wire::REPEATED_SEPARATOR).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn authorization_code(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    let code = required(form, "code")?;
    // Single use: taken out whatever happens next.
    let issued = lock(&state.codes).remove(code);
    let invalid = |why: &str| bad_request("invalid_grant", why);
    let issued = issued.ok_or_else(|| invalid("unknown or used authorization code"))?;
    if issued.client_id != client.id {
        return Err(invalid("code issued to another client"));
    }
    if Instant::now() >= issued.expires_at {
        return Err(invalid("authorization code expired"));
    }
    if form.get("redirect_uri") != Some(&issued.redirect_uri) {
        return Err(invalid("redirect_uri differs from the login's"));
    }
    if issued.dpop_jkt.is_some() && issued.dpop_jkt != client.presented_jkt {
        return Err(invalid("the DPoP proof's key is not the one the login named (dpop_jkt)"));
    }
    let verifier = form.get("code_verifier");
    match (&issued.challenge, verifier) {
        (None, None) => {}
        (None, Some(_)) => return Err(invalid("code_verifier sent for a login without a challenge")),
        (Some(_), None) => return Err(invalid("code_verifier missing (PKCE)")),
        (Some((challenge, method)), Some(verifier)) => {
            let derived = match method.as_str() {
                "S256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
                _ => verifier.clone(),
            };
            if &derived != challenge {
                return Err(invalid("code_verifier does not match the code_challenge"));
            }
        }
    }
    // RFC 8707 §2.2: the token request's resources, else the login's.
    let mut audience = repeated(form, "resource");
    if audience.is_empty() {
        audience = issued.resources;
    }
    let openid = issued.scope.as_ref().is_some_and(|scope| scope.contains("openid"));
    let exchanged = Exchanged { audience, id_token: openid.then_some(issued.nonce), ..Exchanged::default() };
    issue_exchanged(state, client, issued.scope, Some(issued.user), Refresh::New, exchanged)
}

fn refresh_token(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    let presented = required(form, "refresh_token")?;
    let invalid = |why: &str| bad_request("invalid_grant", why);
    let issued = lock(&state.refresh_tokens).get(presented).cloned();
    let issued = issued.ok_or_else(|| invalid("unknown refresh token"))?;
    if issued.client_id != client.id {
        return Err(invalid("refresh token issued to another client"));
    }
    if issued.revoked {
        return Err(invalid("refresh token revoked or already used"));
    }
    if issued.jkt.is_some() && issued.jkt != client.presented_jkt {
        return Err(invalid("the refresh token is bound to another DPoP key than the proof's"));
    }
    let scope = match form.get("scope") {
        None => issued.scope.clone(),
        Some(requested) => {
            let requested: Scope =
                requested.parse().map_err(|_| bad_request("invalid_scope", "malformed scope"))?;
            if issued.scope.as_ref().is_some_and(|granted| !granted.is_superset_of(&requested)) {
                return Err(bad_request("invalid_scope", "a refresh may not widen the scope"));
            }
            Some(requested)
        }
    };
    if *lock(&state.rotate_refresh_tokens) {
        // Rotation: the old refresh token is spent; the new one keeps the first granted scope.
        if let Some(old) = lock(&state.refresh_tokens).get_mut(presented) {
            old.revoked = true;
        }
        let new = new_secret()?;
        let next = IssuedRefresh { revoked: false, ..issued.clone() };
        lock(&state.refresh_tokens).insert(new.clone(), next);
        return issue(state, client, scope, issued.user, Refresh::Rotated(new));
    }
    issue(state, client, scope, issued.user, Refresh::Kept(presented.clone()))
}

fn password(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    if client.public {
        return Err(unauthorized_client("password"));
    }
    let username = required(form, "username")?;
    let password = required(form, "password")?;
    let known = lock(&state.users)
        .get(username)
        .is_some_and(|user| user.password == oauth2_kit::Password::new(password.as_str()));
    if !known {
        return Err(bad_request("invalid_grant", "wrong username or password"));
    }
    let scope = requested_scope(client, form)?;
    issue(state, client, scope, Some(username.clone()), Refresh::New)
}

fn jwt_bearer(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    let subject = super::assertion::grant_subject(state, form)?;
    let scope = requested_scope(client, form)?;
    issue(state, client, scope, Some(subject), Refresh::None)
}

const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// Token exchange (RFC 8693): the subject an active access token of this server or a JWT of a
/// trusted issuer names, an optional actor (an active access token), a scope within the
/// subject token's, and the audiences and resources recorded in the new access token.
fn token_exchange(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    let subject_token = required(form, "subject_token")?;
    let (user, granted) = match required(form, "subject_token_type")?.as_str() {
        ACCESS_TOKEN_TYPE => {
            let issued = lock(&state.tokens).get(subject_token).cloned().filter(IssuedToken::active);
            let issued =
                issued.ok_or_else(|| bad_request("invalid_grant", "the subject token is not active"))?;
            (issued.user.unwrap_or(issued.client_id), issued.scope)
        }
        JWT_TYPE => (super::assertion::trusted_jwt_subject(state, subject_token)?, None),
        _ => return Err(bad_request("invalid_request", "unsupported subject_token_type")),
    };
    let actor = match form.get("actor_token") {
        None => None,
        Some(actor_token) => {
            if form.get("actor_token_type").map(String::as_str) != Some(ACCESS_TOKEN_TYPE) {
                return Err(bad_request("invalid_request", "actor_token_type must be an access token"));
            }
            let issued = lock(&state.tokens).get(actor_token).cloned().filter(IssuedToken::active);
            let issued =
                issued.ok_or_else(|| bad_request("invalid_grant", "the actor token is not active"))?;
            Some(issued.user.unwrap_or(issued.client_id))
        }
    };
    if form.get("requested_token_type").is_some_and(|kind| kind != ACCESS_TOKEN_TYPE) {
        return Err(bad_request("invalid_request", "only access tokens are issued"));
    }
    let scope = match (form.get("scope"), granted) {
        (Some(requested), granted) => {
            let requested: Scope =
                requested.parse().map_err(|_| bad_request("invalid_scope", "malformed scope"))?;
            if granted.as_ref().is_some_and(|granted| !granted.is_superset_of(&requested)) {
                return Err(bad_request(
                    "invalid_scope",
                    "an exchange may not widen the subject token's scope",
                ));
            }
            Some(requested)
        }
        (None, granted) => granted,
    };
    let mut audience = repeated(form, "audience");
    audience.extend(repeated(form, "resource"));
    issue_exchanged(
        state,
        client,
        scope,
        Some(user),
        Refresh::None,
        Exchanged { audience, actor, exchange: true, id_token: None },
    )
}

fn device_code(
    state: &ServerState,
    client: &TestClient,
    form: &HashMap<String, String>,
) -> Result<Response, Reject> {
    let device_code = required(form, "device_code")?;
    let mut devices = lock(&state.devices);
    let grant = devices
        .get_mut(device_code)
        .filter(|grant| grant.client_id == client.id)
        .ok_or_else(|| bad_request("invalid_grant", "unknown device code"))?;
    let now = Instant::now();
    if now >= grant.expires_at {
        return Err(bad_request("expired_token", "the device code expired"));
    }
    let too_soon = grant.last_poll.is_some_and(|last| now.duration_since(last) < grant.interval);
    grant.last_poll = Some(now);
    match &grant.status {
        DeviceStatus::Pending if too_soon => Err(bad_request("slow_down", "polling too fast")),
        DeviceStatus::Pending => Err(bad_request("authorization_pending", "the user has not answered yet")),
        DeviceStatus::Denied => Err(bad_request("access_denied", "the user denied the request")),
        DeviceStatus::Used => Err(bad_request("invalid_grant", "the device code was already used")),
        DeviceStatus::Approved(user) => {
            let (user, scope) = (user.clone(), grant.scope.clone());
            grant.status = DeviceStatus::Used;
            drop(devices);
            issue(state, client, scope, Some(user), Refresh::New)
        }
    }
}

pub(super) async fn introspect(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::Introspection, &headers, &body, handle_introspect).await
}

fn handle_introspect(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let _client = authenticate(state, headers, &form)?;
    let token = required(&form, "token")?;
    let issued = lock(&state.tokens).get(token).cloned();
    let answer = match issued {
        Some(t) if t.active() => {
            let iat = unix_seconds(t.issued_at);
            let mut answer = json!({
                "active": true,
                "client_id": t.client_id,
                "sub": t.user.clone().unwrap_or_else(|| t.client_id.clone()),
                "token_type": if t.jkt.is_some() { "DPoP" } else { "Bearer" },
                "iat": iat,
                "exp": iat.saturating_add(t.lifetime.as_secs()),
                "iss": *lock(&state.issuer),
            });
            if let Some(object) = answer.as_object_mut() {
                if let Some(scope) = t.scope {
                    object.insert("scope".into(), Value::String(scope.to_string()));
                }
                if let Some(user) = t.user {
                    object.insert("username".into(), Value::String(user));
                }
                match t.audience.as_slice() {
                    [] => {}
                    [one] => {
                        object.insert("aud".into(), Value::String(one.clone()));
                    }
                    many => {
                        object.insert("aud".into(), many.iter().cloned().map(Value::String).collect());
                    }
                }
                if let Some(actor) = t.actor {
                    object.insert("act".into(), json!({ "sub": actor }));
                }
                let mut cnf = serde_json::Map::new();
                if let Some(jkt) = t.jkt {
                    cnf.insert("jkt".into(), Value::String(jkt));
                }
                if let Some(x5t) = t.x5t {
                    cnf.insert("x5t#S256".into(), Value::String(x5t));
                }
                if !cnf.is_empty() {
                    object.insert("cnf".into(), Value::Object(cnf));
                }
            }
            answer
        }
        _ => json!({ "active": false }),
    };
    Ok(json_no_store(answer))
}

pub(super) async fn revoke(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    form_endpoint(&state, Route::Revocation, &headers, &body, handle_revoke).await
}

fn handle_revoke(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Reject> {
    let form = parse_form(headers, body)?;
    let client = authenticate(state, headers, &form)?;
    let token = required(&form, "token")?;
    let other_client = || bad_request("invalid_request", "token was issued to another client");
    if let Some(refresh) = lock(&state.refresh_tokens).get_mut(token) {
        if refresh.client_id != client.id {
            return Err(other_client());
        }
        refresh.revoked = true;
        // Revoking a refresh token ends the access tokens it begot (RFC 7009 §2.1 allows it).
        for access in lock(&state.tokens).values_mut() {
            if access.refresh.as_deref() == Some(token.as_str()) {
                access.revoked = true;
            }
        }
        return Ok(StatusCode::OK.into_response());
    }
    let mut tokens = lock(&state.tokens);
    match tokens.get_mut(token) {
        Some(t) if t.client_id != client.id => Err(other_client()),
        Some(t) => {
            t.revoked = true;
            Ok(StatusCode::OK.into_response())
        }
        // RFC 7009 §2.2: an invalid token is not an error.
        None => Ok(StatusCode::OK.into_response()),
    }
}
