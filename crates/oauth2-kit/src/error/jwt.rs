//! Why a JWT was refused.

use super::Error;

/// Why a JWT (an access token, an ID token, a signed introspection response) was refused.
///
/// Messages name what failed, never a claim's value: they can be logged. Only
/// [`KeysUnavailable`](Self::KeysUnavailable) says nothing about the token itself (the
/// issuer's keys could not be fetched): [`is_token_fault`](Self::is_token_fault) tells the two
/// apart, so that a resource server answers `401` for a bad token and `503` when it cannot
/// check one.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a compact JWS: three base64url parts, a JSON header and JSON claims. Five parts (an
    /// encrypted JWT) are refused too.
    #[error("not a signed JWT (three base64url parts, a JSON header and JSON claims)")]
    Malformed,
    /// Longer than the validator's limit.
    #[error("the token is longer than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The header's `typ` is not the one the token's kind requires (`at+jwt` for access tokens).
    #[error("the token's `typ` header is not the expected one")]
    WrongType,
    /// The header's `alg` is not in the allow-list (`none` and HMAC algorithms never are), or
    /// does not suit the key the `kid` names.
    #[error("the token's signature algorithm is not accepted")]
    AlgorithmNotAllowed,
    /// The header lists critical extensions (`crit`), which this library does not implement.
    #[error("the token has critical header parameters (`crit`) this library does not implement")]
    UnsupportedCritical,
    /// No key of the issuer's set has the token's `kid` and suits its algorithm, even after
    /// fetching the set again (within the refetch cooldown).
    #[error("no key of the issuer's key set matches the token's `kid` and algorithm")]
    UnknownKey,
    /// The signature does not verify with the key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// A claim the token must carry is missing.
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an impossible value.
    #[error("the token's `{0}` claim is not valid")]
    InvalidClaim(&'static str),
    /// `iss` is not the expected issuer (compared exactly).
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not name this audience (an ID token: this client; an access token: this
    /// resource server), or an ID token's `azp` names another client.
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is ahead (beyond the leeway).
    #[error("the token says it was issued in the future")]
    IssuedInFuture,
    /// An ID token's `nonce` is not the one its login sent, or is missing though one was sent.
    #[error("the ID token's nonce is not the one the login sent")]
    NonceMismatch,
    /// An ID token's `at_hash` or `c_hash` does not match the access token or code it came
    /// with.
    #[error("the ID token's `{0}` does not match")]
    HashMismatch(&'static str),
    /// The issuer's key set could not be fetched (and no earlier one may still be used): the
    /// token may well be valid. Retryable when the inner error is.
    #[error("the issuer's keys could not be fetched: {0}")]
    KeysUnavailable(#[source] Box<Error>),
}

impl JwtError {
    /// Whether the token itself was at fault: every case but
    /// [`KeysUnavailable`](Self::KeysUnavailable).
    pub fn is_token_fault(&self) -> bool {
        !matches!(self, Self::KeysUnavailable(_))
    }
}
