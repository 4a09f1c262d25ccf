//! The server's signing keys: what signs its ID tokens and JWT access tokens, published at
//! `/jwks`, rotated on demand.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner as _, PrivateKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::wire::{Reject, new_secret, oauth_error};
use super::{ServerState, Shared, lock};
use crate::fault::Route;

/// The algorithm of the server's keys (cheap to generate, as a test server starting often
/// needs); advertised as `id_token_signing_alg_values_supported`.
pub(super) const ALGORITHM: JwsAlgorithm = JwsAlgorithm::ES256;

/// The keys published, the signing one last.
#[derive(Default)]
pub(super) struct SigningKeys {
    published: Vec<PrivateKey>,
    generation: u32,
}

impl SigningKeys {
    /// The key that signs now, made on first use.
    fn current(&mut self) -> Result<PrivateKey, Reject> {
        if self.published.is_empty() {
            self.rotate()?;
        }
        self.published.last().cloned().ok_or_else(|| server_error("no signing key"))
    }

    /// A new signing key, published beside the older ones; its `kid`.
    pub(super) fn rotate(&mut self) -> Result<String, Reject> {
        self.generation += 1;
        let kid = format!("testkit-{}", self.generation);
        let key = PrivateKey::generate(ALGORITHM)
            .map_err(|_| server_error("cannot generate a key"))?
            .with_key_id(kid.clone());
        self.published.push(key);
        Ok(kid)
    }

    /// Unpublishes every key but the signing one: tokens signed with the others no longer
    /// verify.
    pub(super) fn retire_older(&mut self) {
        let keep = self.published.len().saturating_sub(1);
        self.published.drain(..keep);
    }
}

/// `GET /jwks`: the published keys.
pub(super) async fn jwks(State(state): Shared) -> Response {
    if let Some(faulted) = state.enter(Route::Jwks).await {
        return faulted;
    }
    let mut keys = lock(&state.signing_keys);
    if keys.published.is_empty() && keys.rotate().is_err() {
        return server_error("cannot generate a key").into_response();
    }
    let document =
        json!({ "keys": keys.published.iter().map(|key| key.public_key().to_jwk()).collect::<Vec<_>>() });
    drop(keys);
    ([(http::header::CONTENT_TYPE, "application/jwk-set+json")], document.to_string()).into_response()
}

/// A JWT of `typ`, signed with the current key.
pub(super) fn sign(state: &ServerState, typ: &str, claims: &Value) -> Result<String, Reject> {
    let key = lock(&state.signing_keys).current()?;
    let header = json!({ "alg": ALGORITHM.as_str(), "kid": key.key_id(), "typ": typ });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // An in-memory key signs at once: the future is ready on its first poll.
    let signature = futures_lite::future::block_on(key.sign(input.as_bytes()))
        .map_err(|_| server_error("cannot sign"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Seconds since the Unix epoch.
pub(super) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or(0)
}

/// `at_hash` of `access_token` for an ES256 ID token (OpenID Connect Core §3.1.3.6).
pub(super) fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

/// A random `jti`.
pub(super) fn jti() -> Result<String, Reject> {
    new_secret()
}

/// A `500 server_error`.
fn server_error(description: &str) -> Reject {
    oauth_error(http::StatusCode::INTERNAL_SERVER_ERROR, "server_error", description)
}
