//! Signed JWTs presented to the server: client assertions (`private_key_jwt`,
//! `client_secret_jwt`; RFC 7523 §2.2, OpenID Connect Core §9), checked as a strict server
//! would: the signature, `iss` = `sub`, `aud`, `exp`, `iat` and `jti` replay.

use std::collections::HashMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac as _;
use oauth2_kit::AuthMethod;
use oauth2_kit::signing::{JwsAlgorithm, PublicKey};
use serde_json::Value;

use super::wire::{Reject, bad_request, oauth_error, unix_seconds};
use super::{ServerState, TestClient, lock};

/// `client_assertion_type` for a JWT (RFC 7523 §2.2).
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far the server's and the client's clocks may differ, in seconds.
const CLOCK_SKEW: u64 = 5;

/// A compact JWS, decoded but not yet trusted.
struct SignedJwt<'a> {
    signing_input: &'a str,
    alg: String,
    kid: Option<String>,
    claims: serde_json::Map<String, Value>,
    signature: Vec<u8>,
}

impl<'a> SignedJwt<'a> {
    fn parse(jwt: &'a str) -> Option<Self> {
        let (signing_input, signature) = jwt.rsplit_once('.')?;
        let (header, claims) = signing_input.split_once('.')?;
        let json = |part: &str| -> Option<serde_json::Map<String, Value>> {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
        };
        let header = json(header)?;
        Some(Self {
            signing_input,
            alg: header.get("alg")?.as_str()?.to_owned(),
            kid: header.get("kid").and_then(Value::as_str).map(str::to_owned),
            claims: json(claims)?,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Checked with the client's secret (`HS256`) or one of its registered keys matching `alg`
    /// (and `kid`, when the header names one).
    fn signed_by(&self, client: &TestClient) -> bool {
        let input = self.signing_input.as_bytes();
        if self.alg == JwsAlgorithm::HS256.as_str() {
            let secret = client.secret.expose_secret().as_bytes();
            return !secret.is_empty()
                && hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).is_ok_and(|mut mac| {
                    mac.update(input);
                    mac.verify_slice(&self.signature).is_ok()
                });
        }
        client
            .keys
            .iter()
            .filter(|key| key.algorithm().as_str() == self.alg)
            .filter(|key| self.kid.is_none() || key.key_id() == self.kid.as_deref())
            .any(|key: &PublicKey| key.verify(input, &self.signature))
    }

    fn audience_is_one_of(&self, accepted: &[String]) -> bool {
        match self.claims.get("aud") {
            Some(Value::String(aud)) => accepted.contains(aud),
            Some(Value::Array(auds)) => {
                auds.iter().filter_map(Value::as_str).any(|a| accepted.iter().any(|x| x == a))
            }
            _ => false,
        }
    }
}

fn refused(description: &str) -> Reject {
    oauth_error(http::StatusCode::UNAUTHORIZED, "invalid_client", description)
}

pub(super) fn authenticate(
    state: &ServerState,
    form: &HashMap<String, String>,
) -> Result<(TestClient, AuthMethod), Reject> {
    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
        return Err(bad_request("invalid_request", "client_assertion_type must be jwt-bearer"));
    }
    let assertion = form.get("client_assertion").map(String::as_str).unwrap_or_default();
    let jwt =
        SignedJwt::parse(assertion).ok_or_else(|| refused("the client assertion is not a signed JWT"))?;
    let id = jwt.claim("iss").ok_or_else(|| refused("the client assertion has no iss"))?;
    if jwt.claim("sub") != Some(id) {
        return Err(refused("the client assertion's sub differs from its iss"));
    }
    if form.get("client_id").is_some_and(|client_id| client_id != id) {
        return Err(refused("client_id differs from the client assertion's iss"));
    }
    let client = lock(&state.clients).get(id).filter(|c| !c.public).cloned();
    let client = client.ok_or_else(|| refused("unknown client"))?;
    if !jwt.signed_by(&client) {
        return Err(refused("the client assertion's signature does not verify"));
    }
    let issuer = lock(&state.issuer).clone();
    let accepted: Vec<String> = std::iter::once(issuer.clone())
        .chain(
            ["token", "introspect", "revoke", "device_authorization"].map(|path| format!("{issuer}/{path}")),
        )
        .collect();
    if !jwt.audience_is_one_of(&accepted) {
        return Err(refused(
            "the client assertion's aud is neither the issuer nor an endpoint of this server",
        ));
    }
    let now = unix_seconds(SystemTime::now());
    let exp = jwt
        .claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| refused("the client assertion has no exp"))?;
    if exp.saturating_add(CLOCK_SKEW) <= now {
        return Err(refused("the client assertion has expired"));
    }
    if jwt.claims.get("iat").and_then(Value::as_u64).is_some_and(|iat| iat > now.saturating_add(CLOCK_SKEW)) {
        return Err(refused("the client assertion was issued in the future"));
    }
    let jti = jwt.claim("jti").ok_or_else(|| refused("the client assertion has no jti"))?;
    let mut seen = lock(&state.assertion_ids);
    seen.retain(|_, expires| expires.saturating_add(CLOCK_SKEW) > now);
    if seen.insert((client.id.clone(), jti.to_owned()), exp).is_some() {
        return Err(refused("the client assertion was already used (jti replayed)"));
    }
    let method = if jwt.alg == JwsAlgorithm::HS256.as_str() {
        AuthMethod::ClientSecretJwt
    } else {
        AuthMethod::PrivateKeyJwt
    };
    Ok((client, method))
}
