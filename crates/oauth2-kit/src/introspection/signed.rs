//! Signed introspection responses (RFC 9701): an introspection answer as a JWT the
//! authorization server signed for this client, checked before it is believed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::IntrospectionResponse;
use crate::claims::{audiences, numeric_date};
use crate::clock::Clock;
use crate::jws::Compact;
use crate::jwt::{Jwks, JwtError};
use crate::signing::JwsAlgorithm;

/// The media type of a signed introspection response (RFC 9701 §4).
pub(crate) const MEDIA_TYPE: &str = "application/token-introspection+jwt";

/// The longest signed answer read, in bytes.
const MAX_BYTES: usize = 64 * 1024;

/// How far a signed answer's `iat` may be from the client's clock, either way, in seconds: an
/// answer is made for the request it answers.
const LEEWAY: i64 = 60;

/// What checks an issuer's signed introspection responses for one client.
#[derive(Clone)]
pub(crate) struct SignedIntrospection {
    jwks: Jwks,
    issuer: String,
    client_id: String,
    algorithms: Vec<JwsAlgorithm>,
    clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default, deserialize_with = "audiences")]
    aud: Vec<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<i64>,
    token_introspection: Map<String, Value>,
}

impl SignedIntrospection {
    /// Checks answers of `issuer` for `client_id`, signed with one of `algorithms` (the server's
    /// `introspection_signing_alg_values_supported`; none: any asymmetric one its keys allow).
    pub(crate) fn new(
        jwks: Jwks,
        issuer: String,
        client_id: String,
        algorithms: Option<&[String]>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let algorithms = crate::jws::advertised(algorithms);
        Self { jwks, issuer, client_id, algorithms, clock }
    }

    /// The introspection response a signed answer carries (RFC 9701 §5): `typ`
    /// `token-introspection+jwt`, signed with the issuer's key, `iss` the issuer, `aud` this
    /// client, `iat` not ahead, `token_introspection` the response.
    pub(crate) async fn read(&self, body: &[u8]) -> Result<IntrospectionResponse, JwtError> {
        let text = std::str::from_utf8(body).map_err(|_| JwtError::Malformed)?.trim();
        let jws = Compact::parse(text, MAX_BYTES)?;
        if !jws.has_type("token-introspection+jwt") {
            return Err(JwtError::WrongType);
        }
        self.jwks.verify_compact(&jws, &self.algorithms).await?;
        let claims: Claims = jws.claims()?;
        if claims.iss != self.issuer {
            return Err(JwtError::WrongIssuer);
        }
        if !claims.aud.contains(&self.client_id) {
            return Err(JwtError::WrongAudience);
        }
        // Made now: an old signed answer replayed (an `active: true` of yesterday) is refused.
        let iat = claims.iat.ok_or(JwtError::MissingClaim("iat"))?;
        let now = self.clock.system_time().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        if iat > now.saturating_add(LEEWAY) {
            return Err(JwtError::IssuedInFuture);
        }
        if iat < now.saturating_sub(LEEWAY) {
            return Err(JwtError::Expired);
        }
        let response = serde_json::to_vec(&Value::Object(claims.token_introspection))
            .map_err(|_| JwtError::Malformed)?;
        IntrospectionResponse::from_json(&response).map_err(|_| JwtError::InvalidClaim("token_introspection"))
    }
}

impl fmt::Debug for SignedIntrospection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIntrospection")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}
