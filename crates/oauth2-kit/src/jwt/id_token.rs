//! ID tokens (OpenID Connect Core §3.1.3.7), validated where the authorization code flow
//! receives them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use super::checks::check_times;
use super::{DEFAULT_MAX_TOKEN_BYTES, Jwks, JwtError};
use crate::claims::IdTokenClaims;
use crate::clock::Clock;
use crate::jws::Compact;
use crate::secret::{AccessToken, AuthorizationCode, IdToken, Nonce};
use crate::signing::JwsAlgorithm;

/// What one ID token is checked against besides the issuer's settings: the login's nonce, and
/// the access token and code it came with.
#[derive(Default)]
pub(crate) struct Expected<'a> {
    pub(crate) nonce: Option<&'a Nonce>,
    pub(crate) access_token: Option<&'a AccessToken>,
    pub(crate) code: Option<&'a AuthorizationCode>,
}

/// Validates the ID tokens of one issuer for one client (Core §3.1.3.7).
#[derive(Clone)]
pub(crate) struct IdTokenValidator {
    jwks: Jwks,
    issuer: String,
    client_id: String,
    algorithms: Vec<JwsAlgorithm>,
    leeway: Duration,
    clock: Arc<dyn Clock>,
}

impl IdTokenValidator {
    /// A validator for `client_id`'s ID tokens from `issuer`, signed with one of `algorithms`
    /// (the server's `id_token_signing_alg_values_supported`; none given, as for a server
    /// configured by hand: any asymmetric algorithm this library checks, the key set's keys
    /// deciding). HMAC algorithms and `none` are dropped.
    pub(crate) fn new(
        jwks: Jwks,
        issuer: String,
        client_id: String,
        algorithms: Option<&[String]>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let algorithms = crate::jws::advertised(algorithms);
        Self { jwks, issuer, client_id, algorithms, leeway: Duration::from_secs(60), clock }
    }

    pub(crate) async fn validate(
        &self,
        id_token: &IdToken,
        expected: Expected<'_>,
    ) -> Result<IdTokenClaims, JwtError> {
        let jws = Compact::parse(id_token.expose_secret(), DEFAULT_MAX_TOKEN_BYTES)?;
        let algorithm = jws.algorithm(&self.algorithms)?;
        self.jwks.verify_compact(&jws, &self.algorithms).await?;
        let claims: IdTokenClaims = jws.claims()?;
        if claims.iss != self.issuer {
            return Err(JwtError::WrongIssuer);
        }
        if !claims.aud.contains(&self.client_id) {
            return Err(JwtError::WrongAudience);
        }
        // Several audiences: the token must say it was issued to this client (Core §3.1.3.7
        // steps 4 and 5); `azp`, when present, must name this client.
        match &claims.azp {
            Some(azp) if *azp != self.client_id => return Err(JwtError::WrongAudience),
            None if claims.aud.len() > 1 => return Err(JwtError::WrongAudience),
            _ => {}
        }
        if claims.iat.is_none() {
            return Err(JwtError::MissingClaim("iat"));
        }
        check_times(claims.exp, None, claims.iat, self.clock.system_time(), self.leeway)?;
        if let Some(nonce) = expected.nonce {
            let received = claims.nonce.as_deref().ok_or(JwtError::NonceMismatch)?;
            if !bool::from(received.as_bytes().ct_eq(nonce.expose_secret().as_bytes())) {
                return Err(JwtError::NonceMismatch);
            }
        }
        for (name, hash, value) in [
            ("at_hash", &claims.at_hash, expected.access_token.map(AccessToken::expose_secret)),
            ("c_hash", &claims.c_hash, expected.code.map(AuthorizationCode::expose_secret)),
        ] {
            if let (Some(hash), Some(value)) = (hash, value) {
                if *hash != left_half_hash(algorithm, value) {
                    return Err(JwtError::HashMismatch(name));
                }
            }
        }
        Ok(claims)
    }
}

/// `at_hash` and `c_hash` (Core §3.1.3.6, §3.3.2.11): the left half of the hash of `value`
/// with the hash of the token's algorithm (SHA-512 for Ed25519), base64url.
fn left_half_hash(algorithm: JwsAlgorithm, value: &str) -> String {
    let digest: Vec<u8> = match algorithm {
        JwsAlgorithm::EdDSA => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        _ => sha2::Sha256::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(digest.get(..digest.len() / 2).unwrap_or_default())
}

impl fmt::Debug for IdTokenValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenValidator")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_as_openid_connect_core_computes_it() {
        // Core §A.3: the access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" has
        // at_hash "77QmUPtjPfzWtF2AnpK9RQ" (RS256).
        assert_eq!(
            left_half_hash(JwsAlgorithm::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // Core §A.4: the code "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk" has
        // c_hash "LDktKdoQak3Pk0cnXxCltA".
        assert_eq!(
            left_half_hash(JwsAlgorithm::RS256, "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
        assert_eq!(left_half_hash(JwsAlgorithm::EdDSA, "x").len(), 43, "32 bytes of SHA-512");
    }
}
