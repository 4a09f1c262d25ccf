//! Signed JWTs received from an authorization server, checked: its key set (`Jwks`), JWT
//! access tokens (RFC 9068, `JwtAccessTokens`) for resource servers, and ID tokens
//! (OpenID Connect) for the authorization code flow.
//!
//! Signatures are checked with RustCrypto (RSA `RS256` and `PS256`, P-256 `ES256`, Ed25519
//! `EdDSA`; feature `jwt`). `none` and HMAC algorithms are never accepted with an issuer's
//! keys. Every refusal is a typed [`JwtError`].

pub use crate::error::JwtError;

#[cfg(feature = "jwt")]
mod access_token;
#[cfg(feature = "jwt")]
pub(crate) mod checks;
#[cfg(feature = "jwt")]
mod id_token;
#[cfg(feature = "jwt")]
mod jwks;
#[cfg(feature = "jwt")]
mod key_set;

#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use crate::claims::IdTokenClaims;
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use access_token::{AccessTokenClaims, JwtAccessTokens};
#[cfg(feature = "jwt")]
pub(crate) use id_token::{Expected, IdTokenValidator};
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use jwks::{Jwks, JwksBuilder, JwksPolicy};

/// The longest token a validator accepts by default, in bytes.
#[cfg(feature = "jwt")]
pub(crate) const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
