//! Token responses with a server's own members typed: what a grant client returns when it is
//! generic over the response type.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::decode::DecodeError;
use crate::token::TokenResponse;

/// A type a grant client can hand back for a token response: [`TokenResponse`] itself, or
/// [`WithFields<F>`] to have the server's extra members decoded into a type of yours.
///
/// Implement it for your own type to decode a vendor's response your way; the standard members
/// are already decoded and checked in the [`TokenResponse`] you get.
pub trait FromTokenResponse: Sized + Send + Sync + 'static {
    /// Builds the value from a decoded token response.
    fn from_token_response(token: TokenResponse) -> Result<Self, DecodeError>;
}

impl FromTokenResponse for TokenResponse {
    fn from_token_response(token: TokenResponse) -> Result<Self, DecodeError> {
        Ok(token)
    }
}

/// A token response and the server's extra members decoded as `F` (with `serde`).
///
/// ```
/// use std::time::Instant;
/// use oauth2_kit::{FromTokenResponse, TokenResponse, WithFields};
///
/// #[derive(serde::Deserialize)]
/// struct Tenant {
///     tenant_id: String,
/// }
///
/// let token = TokenResponse::from_json(
///     br#"{"access_token":"a","token_type":"Bearer","tenant_id":"t-42"}"#,
///     Instant::now(),
/// )?;
/// let typed = WithFields::<Tenant>::from_token_response(token)?;
/// assert_eq!(typed.fields.tenant_id, "t-42");
/// assert_eq!(typed.token.access_token().expose_secret(), "a");
/// # Ok::<(), oauth2_kit::DecodeError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WithFields<F> {
    /// The standard members.
    pub token: TokenResponse,
    /// The extra members, decoded.
    pub fields: F,
}

impl<F: DeserializeOwned + Send + Sync + 'static> FromTokenResponse for WithFields<F> {
    fn from_token_response(token: TokenResponse) -> Result<Self, DecodeError> {
        let extra = serde_json::Value::Object(token.extra().clone());
        let fields = serde_json::from_value(extra).map_err(|e| {
            // serde's messages may quote the value sent (`invalid type: string "..."`): only a
            // missing member's name is passed on.
            let message = e.to_string();
            let detail = if message.starts_with("missing field") {
                message
            } else {
                "a member has a type or value it does not accept".to_owned()
            };
            DecodeError::new(
                None,
                format!("extra members do not decode into `{}`: {detail}", std::any::type_name::<F>()),
            )
        })?;
        Ok(Self { token, fields })
    }
}

impl<F> fmt::Debug for WithFields<F> {
    /// Shows the token (redacted) and the name of the fields' type: the fields may hold
    /// credentials this crate does not know of.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithFields")
            .field("token", &self.token)
            .field("fields", &std::any::type_name::<F>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock as _;

    #[derive(Debug, serde::Deserialize)]
    struct Vendor {
        #[allow(dead_code)]
        user_id: u64,
    }

    #[test]
    fn a_wrong_extra_member_is_a_decode_error_without_the_value() {
        let token = TokenResponse::from_json(
            br#"{"access_token":"a","token_type":"Bearer","user_id":"secret-ish"}"#,
            crate::SystemClock.now(),
        )
        .unwrap();
        let err = WithFields::<Vendor>::from_token_response(token).unwrap_err();
        assert!(err.reason().contains("Vendor"), "{err}");
        assert!(!err.reason().contains("secret-ish"), "{err}");
        let token = TokenResponse::from_json(
            br#"{"access_token":"a","token_type":"Bearer"}"#,
            crate::SystemClock.now(),
        )
        .unwrap();
        let err = WithFields::<Vendor>::from_token_response(token).unwrap_err();
        assert!(err.reason().contains("missing field `user_id`"), "{err}");
    }
}
