//! Why a login callback was refused.

use crate::error::ErrorResponse;

/// Why a login callback was refused. Nothing was sent to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The callback's `state` is not the login's: a forged, replayed or crossed callback (CSRF).
    #[error("the callback's state does not match the login's (forged, replayed or from another login)")]
    StateMismatch,
    /// A parameter the callback must carry is missing.
    #[error("the callback has no `{0}` parameter")]
    Missing(&'static str),
    /// A parameter appears more than once.
    #[error("the callback repeats the `{0}` parameter")]
    Repeated(&'static str),
    /// The server sent the user back with an error (`access_denied` when the user said no).
    #[error("the authorization server refused the login: {0}")]
    Refused(ErrorResponse),
    /// The callback's `iss` (RFC 9207) is not the issuer the provider was configured with: the
    /// response comes from another server (a mix-up attack).
    #[error("the callback comes from another issuer than the one configured")]
    IssuerMismatch,
}
