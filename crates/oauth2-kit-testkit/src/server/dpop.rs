//! DPoP proofs (RFC 9449) presented to the server, checked as RFC 9449 §4.3 says: one proof, a
//! `dpop+jwt` signed with an asymmetric algorithm by the public key in its header, the request's
//! method and URI, a recent `iat`, a `jti` never seen before for the key, the server's nonce
//! when it requires one, and the access token's hash on resource requests.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, HeaderValue, StatusCode};
use oauth2_kit::signing::{JwsAlgorithm, PublicKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::wire::{Reject, bad_request, unix_seconds};
use super::{ServerState, lock};

/// How far a proof's `iat` may be from the server's clock, in seconds.
const IAT_WINDOW: u64 = 60;

/// Why a proof is refused.
#[derive(Debug)]
pub(super) enum Refusal {
    /// `invalid_dpop_proof`, with why.
    Proof(String),
    /// `use_dpop_nonce`: the proof lacks the server's current nonce, which comes with the answer.
    Nonce(String),
}

impl Refusal {
    /// The token endpoint's answer (RFC 9449 §5, §8): `400` with the error in the body.
    pub(super) fn at_token_endpoint(self) -> Reject {
        match self {
            Self::Proof(why) => bad_request("invalid_dpop_proof", &why),
            Self::Nonce(nonce) => Reject {
                dpop_nonce: Some(nonce),
                ..bad_request("use_dpop_nonce", "the DPoP proof must carry the server's nonce")
            },
        }
    }

    /// A resource's answer (RFC 9449 §7.1, §9): `401` with a `DPoP` challenge.
    pub(super) fn at_resource(self) -> Response {
        let (error, nonce) = match self {
            Self::Proof(_) => ("invalid_dpop_proof", None),
            Self::Nonce(nonce) => ("use_dpop_nonce", Some(nonce)),
        };
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        let challenge = format!("DPoP algs=\"ES256 EdDSA RS256 PS256\", error=\"{error}\"");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        if let Some(value) = nonce.and_then(|nonce| HeaderValue::from_str(&nonce).ok()) {
            response.headers_mut().insert("dpop-nonce", value);
        }
        response
    }
}

/// The thumbprint (RFC 7638) of the key of the request's DPoP proof, checked for a request
/// `method` to `url`, carrying `access_token` if any; `None` when the request has no proof.
pub(super) fn check(
    state: &ServerState,
    headers: &HeaderMap,
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> Result<Option<String>, Refusal> {
    let refuse = |why: &str| Refusal::Proof(why.to_owned());
    let mut proofs = headers.get_all("dpop").iter();
    let Some(proof) = proofs.next() else { return Ok(None) };
    if proofs.next().is_some() {
        return Err(refuse("more than one DPoP proof"));
    }
    let proof = proof.to_str().map_err(|_| refuse("the DPoP proof is not text"))?;
    let (signing_input, signature) = proof.rsplit_once('.').ok_or_else(|| refuse("not a JWS"))?;
    let (header, claims) = signing_input.split_once('.').ok_or_else(|| refuse("not a JWS"))?;
    let json = |part: &str| -> Option<Map<String, Value>> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (header, claims) = json(header).zip(json(claims)).ok_or_else(|| refuse("not a JWS"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(refuse("typ is not dpop+jwt"));
    }
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("ES256") => JwsAlgorithm::ES256,
        Some("EdDSA") => JwsAlgorithm::EdDSA,
        Some("RS256") => JwsAlgorithm::RS256,
        Some("PS256") => JwsAlgorithm::PS256,
        _ => return Err(refuse("alg is not an asymmetric algorithm this server accepts")),
    };
    let jwk = header.get("jwk").and_then(Value::as_object).ok_or_else(|| refuse("no jwk"))?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|member| jwk.contains_key(*member)) {
        return Err(refuse("the jwk has private members"));
    }
    let key = PublicKey::from_jwk(&Value::Object(jwk.clone()).to_string())
        .and_then(|key| key.with_algorithm(alg))
        .map_err(|_| refuse("the jwk is not a key of the proof's alg"))?;
    let signature =
        URL_SAFE_NO_PAD.decode(signature).map_err(|_| refuse("the signature is not base64url"))?;
    if !key.verify(signing_input.as_bytes(), &signature) {
        return Err(refuse("the signature does not verify"));
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("htm") != Some(method) {
        return Err(refuse("htm is not the request's method"));
    }
    let htu = text("htu").map(|htu| htu.split(['?', '#']).next().unwrap_or(htu));
    if htu != Some(url) {
        return Err(refuse("htu is not the request's URI"));
    }
    let now = unix_seconds(SystemTime::now());
    let iat = claims.get("iat").and_then(Value::as_u64).ok_or_else(|| refuse("no iat"))?;
    if iat.abs_diff(now) > IAT_WINDOW {
        return Err(refuse("iat is not within a minute of the server's clock"));
    }
    if let Some(token) = access_token {
        if text("ath") != Some(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())).as_str()) {
            return Err(refuse("ath is not the access token's hash"));
        }
    }
    if let Some(nonce) = lock(&state.dpop.nonce).clone() {
        if text("nonce") != Some(nonce.as_str()) {
            return Err(Refusal::Nonce(nonce));
        }
    }
    let thumbprint = thumbprint(jwk).ok_or_else(|| refuse("the jwk lacks a member its thumbprint needs"))?;
    let jti = text("jti").filter(|jti| !jti.is_empty()).ok_or_else(|| refuse("no jti"))?;
    let mut seen = lock(&state.dpop.seen);
    seen.retain(|_, at| at.saturating_add(2 * IAT_WINDOW) > now);
    if seen.insert((thumbprint.clone(), jti.to_owned()), iat).is_some() {
        return Err(refuse("jti replayed"));
    }
    Ok(Some(thumbprint))
}

/// The JWK SHA-256 thumbprint (RFC 7638 §3): the key type's required members, sorted, as JSON
/// without whitespace, hashed and base64url-encoded.
fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (index, name) in members.iter().enumerate() {
        if index > 0 {
            canonical.push(',');
        }
        let value = jwk.get(*name)?.as_str()?;
        canonical.push_str(&format!("{}:{}", Value::from(*name), Value::from(value)));
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The server's DPoP state: the nonce it requires (none by default), the proofs it has seen,
/// and how often a bound token came without a proof of its key.
#[derive(Debug, Default)]
pub(super) struct DpopState {
    pub(super) nonce: std::sync::Mutex<Option<String>>,
    seen: std::sync::Mutex<HashMap<(String, String), u64>>,
    pub(super) misused: std::sync::atomic::AtomicUsize,
}

impl DpopState {
    /// Counts a bound token presented without a valid proof of its key.
    pub(super) fn misuse(&self) {
        self.misused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_of_rfc_7638_section_3_1() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let Value::Object(jwk) = jwk else { unreachable!() };
        assert_eq!(thumbprint(&jwk).as_deref(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
    }
}

/// How a resource request presented its token: `Authorization: Bearer` or `DPoP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    Bearer,
    DPoP,
}

/// The token of a request's `Authorization` header, with its scheme.
pub(super) fn presented(headers: &HeaderMap) -> Option<(Scheme, String)> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::DPoP
    } else {
        return None;
    };
    Some((scheme, token.trim().to_owned()))
}

/// Checks a resource request's use of an active token bound to `bound` (its key's thumbprint,
/// if any): a bound token needs the `DPoP` scheme and a proof of its key (anything else counts
/// as a misuse); an unbound one needs the `Bearer` scheme. Returns the answer to give instead
/// when the use is refused.
pub(super) fn refuse_use(
    state: &ServerState,
    headers: &HeaderMap,
    (method, url): (&str, &str),
    (scheme, token): (Scheme, &str),
    bound: Option<&str>,
) -> Option<Response> {
    match (bound, scheme) {
        (None, Scheme::Bearer) => None,
        (None, Scheme::DPoP) => Some(super::wire::invalid_token()),
        (Some(_), Scheme::Bearer) => {
            state.dpop.misuse();
            Some(super::wire::invalid_token())
        }
        (Some(bound), Scheme::DPoP) => match check(state, headers, method, url, Some(token)) {
            Ok(Some(key)) if key == bound => None,
            Ok(_) => {
                state.dpop.misuse();
                Some(Refusal::Proof("no proof of the token's key".into()).at_resource())
            }
            Err(nonce @ Refusal::Nonce(_)) => Some(nonce.at_resource()),
            Err(refusal) => {
                state.dpop.misuse();
                Some(refusal.at_resource())
            }
        },
    }
}
