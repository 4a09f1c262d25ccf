//! Why a bearer client refused to attach a token.

use std::fmt;

use crate::token_type::TokenType;

/// Why a bearer client sent nothing: the destination is not trusted with the token, or the
/// token cannot travel as a bearer token. Carried by [`Error::Bearer`](crate::Error::Bearer).
/// Messages name the origin (scheme, host and port, never a path, query or user info) and never
/// the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// The request goes over plain `http` to a host that is not loopback, and the client was not
    /// told to allow that.
    #[error(
        "refusing to send a bearer token over plain http to {origin}: use https or a loopback host, or opt in with `danger_allow_insecure_http`"
    )]
    InsecureHttp {
        /// The request's origin.
        origin: OriginText,
    },

    /// The client has an allow-list of origins and the request's origin is not on it.
    #[error("refusing to send a bearer token to {origin}: not one of the allowed origins")]
    OriginNotAllowed {
        /// The request's origin.
        origin: OriginText,
    },

    /// The request URI has no `http` or `https` scheme and host, so there is no origin to check.
    #[error("refusing to send a bearer token: the request URI is not an absolute http(s) URI ({reason})")]
    NoOrigin {
        /// What is missing.
        reason: &'static str,
    },

    /// The token provider handed out a token of a type this client cannot send (`mac`, ...; or
    /// `DPoP` where only a bearer header is asked for).
    #[error(
        "the token provider returned a `{0}` token, which cannot be sent here (`Bearer` tokens can, and `DPoP` tokens with their key)"
    )]
    UnsupportedTokenType(TokenType),

    /// The token is bound to a DPoP key (`token_type` `DPoP`), and there is no key to prove
    /// possession with: it is never sent without a proof.
    #[error(
        "the token is bound to a DPoP key and this client has none: give the client its key (OAuth2ClientBuilder::dpop or BearerAuthBuilder::dpop)"
    )]
    NoDpopKey,

    /// The token is bound to another DPoP key than the client's (a token from a shared store
    /// written by a replica with another key): it is not sent.
    #[error("the token is bound to the DPoP key {token} and this client proves possession of {key}")]
    DpopKeyMismatch {
        /// The thumbprint the token is bound to.
        token: String,
        /// The thumbprint of the client's key.
        key: String,
    },

    /// The access token has bytes an `Authorization` header cannot carry (RFC 6750 §2.1 allows
    /// visible ASCII only).
    #[error("the access token has characters an Authorization header cannot carry")]
    MalformedToken,
}

/// An origin as shown in an error: `scheme://host:port`.
#[derive(Clone, PartialEq, Eq)]
pub struct OriginText(pub(crate) String);

impl OriginText {
    /// The text, `scheme://host:port`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OriginText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OriginText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
