//! The validated token's claims as an axum extractor.

use http::StatusCode;
use http::request::Parts;
use oauth2_kit::jwt::AccessTokenClaims;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The claims of the request's token, validated by a [`TokenLayer`](crate::TokenLayer) in front
/// of the handler, with the claims RFC 9068 does not name decoded as `C` (a JSON object by
/// default). A handler reached without the layer, or whose token's claims do not decode as
/// `C`, answers `500`: a server's mistake, not the client's.
///
/// ```
/// use oauth2_kit_resource_server::Claims;
///
/// #[derive(serde::Deserialize)]
/// struct Tenant {
///     tenant: String,
/// }
///
/// async fn orders(Claims(claims): Claims<Tenant>) -> String {
///     format!("orders of {} for {}", claims.extra.tenant, claims.sub.unwrap_or_default())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Claims<C = Map<String, Value>>(pub AccessTokenClaims<C>);

impl<S, C> axum_core::extract::FromRequestParts<S> for Claims<C>
where
    S: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(claims) = parts.extensions.get::<AccessTokenClaims>() else {
            tracing::error!("Claims extracted without a TokenLayer in front of the handler");
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        };
        claims.clone().typed().map(Claims).map_err(|error| {
            tracing::error!(%error, "the token's claims do not decode as the handler's type");
            StatusCode::INTERNAL_SERVER_ERROR
        })
    }
}
