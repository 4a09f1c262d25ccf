//! Signed JWTs presented to the server: client assertions (`private_key_jwt`,
//! `client_secret_jwt`; RFC 7523 §2.2, OpenID Connect Core §9) and the JWT bearer grant's
//! assertions (RFC 7523 §2.1), checked as a strict server would: the signature, `iss` and
//! `sub`, `aud`, `exp`, `iat` and `jti` replay.

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

/// The furthest an assertion's `exp` may be, in seconds from now: an assertion is short-lived.
const MAX_LIFETIME: u64 = 3600 + CLOCK_SKEW;

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

    /// Checked with `secret` (`HS256`) or one of `keys` matching `alg` (and `kid`, when the
    /// header names one).
    fn signed_by(&self, secret: &oauth2_kit::ClientSecret, keys: &[PublicKey]) -> bool {
        let input = self.signing_input.as_bytes();
        if self.alg == JwsAlgorithm::HS256.as_str() {
            let secret = secret.expose_secret().as_bytes();
            return !secret.is_empty()
                && hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).is_ok_and(|mut mac| {
                    mac.update(input);
                    mac.verify_slice(&self.signature).is_ok()
                });
        }
        keys.iter()
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

/// Checks what every JWT presented to the server must satisfy, once its signature is known to
/// verify: `aud` (the issuer or one of the server's endpoints), `exp`, `iat`, and a `jti` not seen
/// before from `presenter`. Returns why not, naming the JWT `what`.
fn check_claims(state: &ServerState, jwt: &SignedJwt<'_>, what: &str, presenter: &str) -> Result<(), String> {
    let issuer = lock(&state.issuer).clone();
    let accepted: Vec<String> = std::iter::once(issuer.clone())
        .chain(
            ["token", "introspect", "revoke", "device_authorization", "par"]
                .map(|path| format!("{issuer}/{path}")),
        )
        .collect();
    if !jwt.audience_is_one_of(&accepted) {
        return Err(format!("the {what}'s aud is neither the issuer nor an endpoint of this server"));
    }
    let now = unix_seconds(SystemTime::now());
    let exp =
        jwt.claims.get("exp").and_then(Value::as_u64).ok_or_else(|| format!("the {what} has no exp"))?;
    if exp.saturating_add(CLOCK_SKEW) <= now {
        return Err(format!("the {what} has expired"));
    }
    if exp > now.saturating_add(MAX_LIFETIME) {
        return Err(format!("the {what} expires more than an hour from now"));
    }
    if jwt.claims.get("iat").and_then(Value::as_u64).is_some_and(|iat| iat > now.saturating_add(CLOCK_SKEW)) {
        return Err(format!("the {what} was issued in the future"));
    }
    let jti = jwt.claim("jti").ok_or_else(|| format!("the {what} has no jti"))?;
    let mut seen = lock(&state.assertion_ids);
    seen.retain(|_, expires| expires.saturating_add(CLOCK_SKEW) > now);
    if seen.insert((presenter.to_owned(), jti.to_owned()), exp).is_some() {
        return Err(format!("the {what} was already used (jti replayed)"));
    }
    Ok(())
}

/// Authenticates the client by its `client_assertion`: `client_secret_jwt` when signed with
/// `HS256`, else `private_key_jwt`.
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
    if !jwt.signed_by(&client.secret, &client.keys) {
        return Err(refused("the client assertion's signature does not verify"));
    }
    check_claims(state, &jwt, "client assertion", &format!("client:{}", client.id))
        .map_err(|why| refused(&why))?;
    let method = if jwt.alg == JwsAlgorithm::HS256.as_str() {
        AuthMethod::ClientSecretJwt
    } else {
        AuthMethod::PrivateKeyJwt
    };
    Ok((client, method))
}

/// The subject of the JWT bearer grant's `assertion` (RFC 7523 §2.1, §3): signed by a
/// [trusted issuer](crate::TestServerBuilder::trust_assertion_issuer), or by a client's own key
/// when its `iss` is that client; every failure is `invalid_grant`.
pub(super) fn grant_subject(state: &ServerState, form: &HashMap<String, String>) -> Result<String, Reject> {
    let invalid = |why: &str| bad_request("invalid_grant", why);
    let assertion = super::wire::required(form, "assertion")?;
    let jwt = SignedJwt::parse(assertion).ok_or_else(|| invalid("the assertion is not a signed JWT"))?;
    let iss = jwt.claim("iss").ok_or_else(|| invalid("the assertion has no iss"))?;
    let sub = jwt.claim("sub").ok_or_else(|| invalid("the assertion has no sub"))?;
    let keys = match lock(&state.assertion_issuers).get(iss) {
        Some(keys) => keys.clone(),
        None => lock(&state.clients).get(iss).map(|client| client.keys.clone()).unwrap_or_default(),
    };
    if keys.is_empty() {
        return Err(invalid("the assertion's issuer is not trusted"));
    }
    if !jwt.signed_by(&oauth2_kit::ClientSecret::new(""), &keys) {
        return Err(invalid("the assertion's signature does not verify"));
    }
    check_claims(state, &jwt, "assertion", &format!("issuer:{iss}")).map_err(|why| invalid(&why))?;
    Ok(sub.to_owned())
}

/// The subject of a JWT given as a token exchange's subject token: signed by a
/// [trusted issuer](crate::TestServerBuilder::trust_assertion_issuer) and not expired (its
/// audience is whoever it was issued for, and it may be exchanged more than once).
pub(super) fn trusted_jwt_subject(state: &ServerState, token: &str) -> Result<String, Reject> {
    let invalid = |why: &str| bad_request("invalid_grant", why);
    let jwt = SignedJwt::parse(token).ok_or_else(|| invalid("the subject token is not a signed JWT"))?;
    let iss = jwt.claim("iss").ok_or_else(|| invalid("the subject token has no iss"))?;
    let keys = lock(&state.assertion_issuers).get(iss).cloned().unwrap_or_default();
    if keys.is_empty() || !jwt.signed_by(&oauth2_kit::ClientSecret::new(""), &keys) {
        return Err(invalid("the subject token is not signed by a trusted issuer"));
    }
    let now = unix_seconds(SystemTime::now());
    let exp = jwt
        .claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("the subject token has no exp"))?;
    if exp.saturating_add(CLOCK_SKEW) <= now {
        return Err(invalid("the subject token has expired"));
    }
    Ok(jwt.claim("sub").ok_or_else(|| invalid("the subject token has no sub"))?.to_owned())
}
