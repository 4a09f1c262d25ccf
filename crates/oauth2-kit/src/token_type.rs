//! The names of token kinds: what a token response says it is, and what a client says it sends
//! for introspection or revocation.

use std::fmt;

/// The type of an access token (RFC 6749 §7.1). `Bearer` is matched case-insensitively; every
/// other type is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP` (RFC 9449).
    DPoP,
    /// Any other type, as sent.
    Other(String),
}

impl TokenType {
    /// The type as sent on the wire (`Bearer` for bearer tokens, whatever the case received).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
            Self::Other(other) => other,
        }
    }
}

impl From<&str> for TokenType {
    fn from(value: &str) -> Self {
        if value.eq_ignore_ascii_case("bearer") {
            Self::Bearer
        } else if value.eq_ignore_ascii_case("dpop") {
            Self::DPoP
        } else {
            Self::Other(value.to_owned())
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind of token is being introspected or revoked (`token_type_hint`, RFC 7009 §2.1,
/// RFC 7662 §2.1). Only a hint: servers search other kinds too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
    /// Another registered hint.
    Other(String),
}

impl TokenTypeHint {
    /// The hint as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::Other(other) => other,
        }
    }
}
