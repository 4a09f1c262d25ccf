//! What checks a token: JWT access tokens locally (RFC 9068), other tokens by introspection
//! (RFC 7662), or JWTs first and introspection for the rest.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use oauth2_kit::jwt::{AccessTokenClaims, JwtAccessTokens, JwtError};
use oauth2_kit::{AccessToken, TokenIntrospection};

/// Why a token was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Rejected {
    /// The token is not valid (expired, revoked, forged, for another audience, ...): the
    /// client gets `401 invalid_token`. The reason is for logs only, never sent.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token could not be checked now (the issuer's keys or its introspection endpoint
    /// could not be reached): the client gets `503`, and may try again.
    #[error("the token cannot be checked now: {0}")]
    Unavailable(#[source] oauth2_kit::Error),
}

impl From<JwtError> for Rejected {
    fn from(error: JwtError) -> Self {
        match error {
            JwtError::KeysUnavailable(cause) => Self::Unavailable(*cause),
            invalid => Self::Invalid(invalid.to_string()),
        }
    }
}

/// Checks an access token and says what it grants. Implemented by [`JwtAccessTokens`] (JWT
/// access tokens, checked locally), [`Introspected`] (any token, asked of the authorization
/// server, cached or not) and [`JwtOrIntrospection`] (both); implement it for a scheme of your
/// own.
#[async_trait]
pub trait TokenValidator: Send + Sync + 'static {
    /// The token's claims, or why it is not accepted.
    async fn validate(&self, token: &str) -> Result<AccessTokenClaims, Rejected>;
}

#[async_trait]
impl TokenValidator for JwtAccessTokens {
    async fn validate(&self, token: &str) -> Result<AccessTokenClaims, Rejected> {
        Ok(JwtAccessTokens::validate(self, token).await?)
    }
}

#[async_trait]
impl<T: TokenValidator + ?Sized> TokenValidator for Arc<T> {
    async fn validate(&self, token: &str) -> Result<AccessTokenClaims, Rejected> {
        (**self).validate(token).await
    }
}

/// Tokens checked by asking the authorization server (RFC 7662): through a
/// `CachingIntrospection` (`caching_introspection` of `oauth2-kit-cache-tokio`,
/// `-async-std` or `-moka`: one request per token and lifetime) or an `IntrospectionClient`
/// (one request per call), authenticated as the service's own client. Inactive tokens are
/// invalid. Set [`with_audience`](Self::with_audience) unless the server issues tokens for
/// this service only: without it, an active token the server issued for another service is
/// accepted.
#[derive(Clone)]
pub struct Introspected {
    introspection: Arc<dyn TokenIntrospection>,
    audience: Option<String>,
}

impl Introspected {
    /// Checks tokens with `introspection`.
    pub fn new(introspection: impl TokenIntrospection + 'static) -> Self {
        Self { introspection: Arc::new(introspection), audience: None }
    }

    /// Refuses tokens whose introspected `aud` does not name `audience` (or is absent).
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }
}

#[async_trait]
impl TokenValidator for Introspected {
    async fn validate(&self, token: &str) -> Result<AccessTokenClaims, Rejected> {
        let response = match self.introspection.introspect(&AccessToken::new(token)).await {
            Ok(response) => response,
            // A signed answer refused is the token's fault only if it said so; every other
            // failure (the server down, an undecodable answer) says nothing about the token.
            Err(oauth2_kit::Error::Jwt(error)) => return Err(error.into()),
            Err(error) => return Err(Rejected::Unavailable(error)),
        };
        if !response.active {
            return Err(Rejected::Invalid("the token is not active".into()));
        }
        if let Some(expected) = &self.audience {
            if !response.aud.as_ref().is_some_and(|audiences| audiences.contains(expected)) {
                return Err(Rejected::Invalid("the token is not meant for this audience".into()));
            }
        }
        Ok(AccessTokenClaims::from_introspection(&response)?)
    }
}

impl fmt::Debug for Introspected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspected").field("audience", &self.audience).finish_non_exhaustive()
    }
}

/// JWT access tokens checked locally, every other token (an opaque one) introspected: for an
/// authorization server that issues both, or a move from one to the other. A token is taken for
/// a JWT when it has three parts and its first is a JSON object's base64url (`eyJ`).
#[derive(Debug, Clone)]
pub struct JwtOrIntrospection {
    jwt: JwtAccessTokens,
    introspection: Introspected,
}

impl JwtOrIntrospection {
    /// JWTs with `jwt`, the rest with `introspection`.
    pub fn new(jwt: JwtAccessTokens, introspection: Introspected) -> Self {
        Self { jwt, introspection }
    }
}

#[async_trait]
impl TokenValidator for JwtOrIntrospection {
    async fn validate(&self, token: &str) -> Result<AccessTokenClaims, Rejected> {
        if token.starts_with("eyJ") && token.bytes().filter(|b| *b == b'.').count() == 2 {
            TokenValidator::validate(&self.jwt, token).await
        } else {
            self.introspection.validate(token).await
        }
    }
}
