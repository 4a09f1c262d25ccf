//! The protected resource (`/resource`), the UserInfo endpoint and the discovery documents.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::dpop;
use super::token::IssuedToken;
use super::wire::{challenge, invalid_token};
use super::{ServerState, Shared, lock};
use crate::fault::Route;

pub(super) async fn resource(
    State(state): Shared,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(faulted) = state.enter(Route::Resource).await {
        return faulted;
    }
    let Some((scheme, presented)) = dpop::presented(&headers) else {
        return challenge(StatusCode::UNAUTHORIZED, "Bearer realm=\"testkit\"");
    };
    let issued = lock(&state.tokens).get(&presented).cloned();
    match issued {
        Some(t) if t.active() => {
            if let Some(refused) =
                refuse_bound_use(&state, &headers, (&method, "resource"), (scheme, &presented), &t)
            {
                return refused;
            }
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
        _ => invalid_token(),
    }
}

/// `GET`/`POST /userinfo`: the claims of the user a token was issued for. A token issued to a
/// client for itself (client credentials) has no user: `401 invalid_token`.
pub(super) async fn userinfo(State(state): Shared, method: Method, headers: HeaderMap) -> Response {
    if let Some(faulted) = state.enter(Route::UserInfo).await {
        return faulted;
    }
    let Some((scheme, presented)) = dpop::presented(&headers) else {
        return challenge(StatusCode::UNAUTHORIZED, "Bearer realm=\"testkit\"");
    };
    let issued = lock(&state.tokens).get(&presented).cloned();
    let Some(issued) = issued.filter(|t| t.active()) else { return invalid_token() };
    if let Some(refused) =
        refuse_bound_use(&state, &headers, (&method, "userinfo"), (scheme, &presented), &issued)
    {
        return refused;
    }
    let Some(user) = issued.user else { return invalid_token() };
    let Some(user) = lock(&state.users).get(&user).cloned() else { return invalid_token() };
    axum::Json(json!({
        "sub": user.username,
        "preferred_username": user.username,
        "name": user.name,
        "email": user.email,
        "email_verified": true,
    }))
    .into_response()
}

/// The answer to give instead, when `token` is used against what binds it: a DPoP-bound token
/// without a proof of its key (RFC 9449 §7), a certificate-bound one over a connection without
/// its certificate (RFC 8705 §3; counted as a misuse too), or an unbound one as a DPoP token.
/// The request is `method` to `path` of the origin it came to.
fn refuse_bound_use(
    state: &ServerState,
    headers: &HeaderMap,
    (method, path): (&Method, &str),
    presented: (dpop::Scheme, &str),
    token: &IssuedToken,
) -> Option<Response> {
    let url = format!("{}/{path}", state.origin(headers));
    if let Some(refused) =
        dpop::refuse_use(state, headers, (method.as_str(), &url), presented, token.jkt.as_deref())
    {
        return Some(refused);
    }
    let bound = token.x5t.as_deref()?;
    if state.peer_certificate(headers).as_deref() == Some(bound) {
        return None;
    }
    state.dpop.misuse();
    Some(invalid_token())
}

pub(super) async fn discovery(State(state): Shared) -> Response {
    if let Some(faulted) = state.enter(Route::Discovery).await {
        return faulted;
    }
    axum::Json(metadata(&state)).into_response()
}

const SIGNING_ALGS: [&str; 5] = ["RS256", "PS256", "ES256", "EdDSA", "HS256"];

fn metadata(state: &ServerState) -> Value {
    let issuer = lock(&state.issuer).clone();
    let mtls = lock(&state.mtls_origin).clone();
    // The mutual-TLS methods only when there is a listener to use them on.
    let auth_methods: Vec<&str> = state
        .auth_methods
        .iter()
        .filter(|method| mtls.is_some() || !method.is_mutual_tls())
        .map(|m| m.as_str())
        .collect();
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "device_authorization_endpoint": format!("{issuer}/device_authorization"),
        "pushed_authorization_request_endpoint": format!("{issuer}/par"),
        "require_pushed_authorization_requests": state.require_pushed_authorization,
        "grant_types_supported": [
            "authorization_code", "refresh_token", "client_credentials", "password",
            "urn:ietf:params:oauth:grant-type:device_code", oauth2_kit::grant::jwt_bearer::GRANT_TYPE,
            oauth2_kit::grant::token_exchange::GRANT_TYPE
        ],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "code_challenge_methods_supported": ["S256", "plain"],
        "dpop_signing_alg_values_supported": ["ES256", "EdDSA", "RS256", "PS256"],
        "authorization_response_iss_parameter_supported": true,
        "jwks_uri": format!("{issuer}/jwks"),
        "id_token_signing_alg_values_supported": [super::keys::ALGORITHM.as_str()],
        "scopes_supported": ["openid", "profile", "email"],
        "subject_types_supported": ["public"],
    });
    if let (Some(origin), Some(object)) = (mtls, document.as_object_mut()) {
        object.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": format!("{origin}/token"),
                "introspection_endpoint": format!("{origin}/introspect"),
                "revocation_endpoint": format!("{origin}/revoke"),
                "userinfo_endpoint": format!("{origin}/userinfo"),
                "device_authorization_endpoint": format!("{origin}/device_authorization"),
                "pushed_authorization_request_endpoint": format!("{origin}/par"),
            }),
        );
        object.insert("tls_client_certificate_bound_access_tokens".into(), Value::Bool(true));
    }
    document
}
