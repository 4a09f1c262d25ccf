//! Token introspection (RFC 7662).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::client_auth::ClientAuth;
use crate::decode::{DecodeError, JsonObject, KeysOnly};
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::exchange::{Operation, TokenFormEndpoint, Transport};
use crate::http::HttpClient;
use crate::scope::Scope;
use crate::secret::{AccessToken, RefreshToken};
use crate::token_type::TokenType;
pub use crate::token_type::TokenTypeHint;

#[cfg(feature = "jwt")]
mod claims;
#[cfg(feature = "jwt")]
pub(crate) mod signed;

/// Asks the authorization server about a token (RFC 7662; sttp-oauth2 users know it by the
/// same name).
///
/// Dyn-compatible: share it as `Arc<dyn TokenIntrospection>`.
#[async_trait]
pub trait TokenIntrospection: Send + Sync {
    /// Introspects an access token. An unknown, expired or revoked token is not an error: the
    /// answer says `active: false`.
    async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse>;
}

/// Introspects tokens (RFC 7662) at an authorization server's introspection endpoint,
/// authenticated as a client: what a resource server needs to check the tokens it receives,
/// with no token endpoint and no grant.
///
/// An unknown, expired or revoked token is not an error: the answer says `active: false`. For
/// a cache in front of it, see `caching_introspection` in the `oauth2-kit-cache-*` crates.
/// Cloning is cheap.
///
/// ```no_run
/// use oauth2_kit::{AccessToken, ClientAuth, IntrospectionClient, TokenIntrospection};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let introspection = IntrospectionClient::new(
///     "https://auth.example.com/oauth2/introspect".parse()?,
///     ClientAuth::new("orders-api", "its-secret"),
///     http,
/// );
/// let presented = AccessToken::new("a token from a request's Authorization header");
/// if introspection.introspect(&presented).await?.active {
///     // serve the request
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IntrospectionClient {
    inner: Arc<TokenFormEndpoint>,
    /// What checks signed answers (RFC 9701), and whether only those are taken.
    #[cfg(feature = "jwt")]
    signed: Option<(Arc<self::signed::SignedIntrospection>, bool)>,
}

impl IntrospectionClient {
    /// Introspects at `endpoint`, authenticated with `auth`, over `http` (the system clock, a
    /// 1 MiB limit on the answer).
    pub fn new(endpoint: Endpoint, auth: ClientAuth, http: impl HttpClient + 'static) -> Self {
        Self::with_transport(endpoint, auth, Transport::new(Arc::new(http)))
    }

    /// A client over a transport already set up (the grant clients' settings).
    pub(crate) fn with_transport(endpoint: Endpoint, auth: ClientAuth, transport: Transport) -> Self {
        Self {
            inner: Arc::new(TokenFormEndpoint { endpoint, auth, transport }),
            #[cfg(feature = "jwt")]
            signed: None,
        }
    }

    /// Checks signed answers with `signed` when the server sends them.
    #[cfg(feature = "jwt")]
    pub(crate) fn with_signed(mut self, signed: Option<self::signed::SignedIntrospection>) -> Self {
        self.signed = signed.map(|signed| (Arc::new(signed), false));
        self
    }

    /// Asks for signed answers (RFC 9701: `Accept: application/token-introspection+jwt`) and
    /// takes only those: a JWT the server signed for this client, checked with its key set
    /// (issuer, audience, signature) before its answer is believed; a plain JSON answer is then
    /// an [`Error::Jwt`](crate::Error::Jwt) (`WrongType`). Needs the server's issuer and key set
    /// (a client from [`OAuth2Client::introspection`](crate::OAuth2Client::introspection) of a
    /// discovered server): otherwise a [`ConfigError`](crate::ConfigError).
    ///
    /// Without this, an answer the server signs anyway is checked all the same.
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    pub fn signed_responses(mut self) -> Result<Self, crate::ConfigError> {
        match self.signed.take() {
            Some((signed, _)) => {
                self.signed = Some((signed, true));
                Ok(self)
            }
            None => Err(crate::ConfigError::new(
                crate::ConfigErrorKind::InvalidSetting,
                "signed introspection responses are checked with the server's issuer and key set: obtain the client from OAuth2Client::introspection of a server that has both",
            )),
        }
    }

    /// The introspection endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Introspects an access token, with `token_type_hint=access_token`.
    pub async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse> {
        self.introspect_secret(token.expose_secret(), Some(&TokenTypeHint::AccessToken)).await
    }

    /// Introspects a refresh token, with `token_type_hint=refresh_token`.
    pub async fn introspect_refresh_token(&self, token: &RefreshToken) -> Result<IntrospectionResponse> {
        self.introspect_secret(token.expose_secret(), Some(&TokenTypeHint::RefreshToken)).await
    }

    /// Introspects a token with the given `token_type_hint`, or none.
    pub async fn introspect_with_hint(
        &self,
        token: &AccessToken,
        hint: Option<TokenTypeHint>,
    ) -> Result<IntrospectionResponse> {
        self.introspect_secret(token.expose_secret(), hint.as_ref()).await
    }

    async fn introspect_secret(
        &self,
        token: &str,
        hint: Option<&TokenTypeHint>,
    ) -> Result<IntrospectionResponse> {
        #[cfg(feature = "jwt")]
        if let Some((signed, required)) = &self.signed {
            use self::signed::MEDIA_TYPE;
            let accept = if *required { MEDIA_TYPE } else { "application/json" };
            let answer =
                self.inner.post_token_accepting(Operation::Introspection, token, hint, accept).await?;
            let is_signed = answer.status.is_success()
                && answer
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with(MEDIA_TYPE));
            if is_signed {
                return Ok(signed.read(&answer.body).await?);
            }
            if *required && answer.status.is_success() {
                return Err(crate::jwt::JwtError::WrongType.into());
            }
            return answer.json(|object, _| IntrospectionResponse::from_object(object));
        }
        self.inner
            .post_token(Operation::Introspection, token, hint)
            .await?
            .json(|object, _| IntrospectionResponse::from_object(object))
    }
}

#[async_trait]
impl TokenIntrospection for IntrospectionClient {
    async fn introspect(&self, token: &AccessToken) -> Result<IntrospectionResponse> {
        IntrospectionClient::introspect(self, token).await
    }
}

impl fmt::Debug for IntrospectionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntrospectionClient").field(&self.inner).finish()
    }
}

/// An introspection response (RFC 7662 §2.2).
///
/// Timestamps are NumericDates (seconds since the Unix epoch), as sent; [`expires_at`]
/// converts `exp`. Claims the RFC does not name are kept in [`extra`](Self::extra).
///
/// [`expires_at`]: IntrospectionResponse::expires_at
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct IntrospectionResponse {
    /// Whether the token is currently active. The only required member.
    pub active: bool,
    /// The token's scope.
    pub scope: Option<Scope>,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// The resource owner who authorized the token.
    pub username: Option<String>,
    /// The token's type.
    pub token_type: Option<TokenType>,
    /// Expiry (NumericDate).
    pub exp: Option<i64>,
    /// Issue time (NumericDate).
    pub iat: Option<i64>,
    /// Not-before time (NumericDate).
    pub nbf: Option<i64>,
    /// Subject.
    pub sub: Option<String>,
    /// Audiences (a single string is read as a one-element list).
    pub aud: Option<Vec<String>>,
    /// Issuer.
    pub iss: Option<String>,
    /// Token identifier.
    pub jti: Option<String>,
    /// Every other claim, as sent.
    pub extra: Map<String, Value>,
}

impl IntrospectionResponse {
    /// Decodes an introspection response body.
    ///
    /// ```
    /// use oauth2_kit::IntrospectionResponse;
    ///
    /// // RFC 7662 §2.2's example.
    /// let info = IntrospectionResponse::from_json(br#"{
    ///     "active": true, "client_id": "l238j323ds-23ij4", "username": "jdoe",
    ///     "scope": "read write dolphin", "sub": "Z5O3upPC88QrAjx00dis",
    ///     "aud": "https://protected.example.net/resource", "iss": "https://server.example.com/",
    ///     "exp": 1419356238, "iat": 1419350238, "extension_field": "twenty-seven"
    /// }"#)?;
    /// assert!(info.active);
    /// assert!(info.scope.unwrap().contains("dolphin"));
    /// assert_eq!(info.aud.unwrap(), ["https://protected.example.net/resource"]);
    /// assert_eq!(info.extra["extension_field"], "twenty-seven");
    /// # Ok::<(), oauth2_kit::DecodeError>(())
    /// ```
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        Self::from_object(JsonObject::parse(body)?)
    }

    pub(crate) fn from_object(mut object: JsonObject<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            active: object.required_bool("active")?,
            scope: object.scope("scope")?,
            client_id: object.optional_string("client_id")?,
            username: object.optional_string("username")?,
            token_type: object.optional_string("token_type")?.as_deref().map(TokenType::from),
            exp: object.timestamp("exp")?,
            iat: object.timestamp("iat")?,
            nbf: object.timestamp("nbf")?,
            sub: object.optional_string("sub")?,
            aud: object.string_or_array("aud")?,
            iss: object.optional_string("iss")?,
            jti: object.optional_string("jti")?,
            extra: object.into_rest(),
        })
    }

    /// An inactive response, as a server sends for an unknown token.
    pub fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            username: None,
            token_type: None,
            exp: None,
            iat: None,
            nbf: None,
            sub: None,
            aud: None,
            iss: None,
            jti: None,
            extra: Map::new(),
        }
    }

    /// What the token is bound to (its `cnf` claim: a DPoP key, a TLS client certificate), if
    /// it is a sender-constrained token.
    pub fn confirmation(&self) -> Option<crate::Confirmation> {
        self.extra.get("cnf").and_then(crate::Confirmation::from_value)
    }

    /// `exp` as a wall-clock time.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let exp = u64::try_from(self.exp?).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(exp))
    }
}

impl fmt::Debug for IntrospectionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionResponse")
            .field("active", &self.active)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("token_type", &self.token_type)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("nbf", &self.nbf)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("iss", &self.iss)
            .field("jti", &self.jti)
            .field("extra", &KeysOnly(&self.extra))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_only() {
        let info = IntrospectionResponse::from_json(br#"{"active":false}"#).unwrap();
        assert!(!info.active);
        assert_eq!(info, IntrospectionResponse::inactive());
    }

    #[test]
    fn audience_array_and_numeric_strings() {
        let info = IntrospectionResponse::from_json(
            br#"{"active":true,"aud":["a","b"],"exp":"1700000000","token_type":"bearer","scope":""}"#,
        )
        .unwrap();
        assert_eq!(info.aud.unwrap(), ["a", "b"]);
        assert_eq!(info.exp, Some(1_700_000_000));
        assert_eq!(info.token_type, Some(TokenType::Bearer));
        assert_eq!(info.scope, None);
        assert_eq!(
            IntrospectionResponse { exp: Some(10), ..IntrospectionResponse::inactive() }.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(10))
        );
    }

    #[test]
    fn errors_name_the_field() {
        for (body, field) in [
            (r#"{}"#, "active"),
            (r#"{"active":"yes"}"#, "active"),
            // A security decision is not lenient: only JSON `true` is active (RFC 7662 §2.2).
            (r#"{"active":"true"}"#, "active"),
            (r#"{"active":"TRUE"}"#, "active"),
            (r#"{"active":1}"#, "active"),
            (r#"{"active":null}"#, "active"),
            (r#"{"active":true,"scope":"read\u0000write"}"#, "scope"),
            (r#"{"active":true,"aud":[1]}"#, "aud"),
            (r#"{"active":true,"exp":"tomorrow"}"#, "exp"),
            (r#"{"active":true,"client_id":5}"#, "client_id"),
        ] {
            let err = IntrospectionResponse::from_json(body.as_bytes()).unwrap_err();
            assert_eq!(err.field(), Some(field), "{body}");
        }
    }
}
