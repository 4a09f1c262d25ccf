//! Token responses (RFC 6749 §5.1).

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use zeroize::Zeroize;

use serde_json::{Map, Value};

use crate::decode::{DecodeError, JsonObject};
use crate::scope::Scope;
use crate::secret::{AccessToken, IdToken, RefreshToken};
pub use crate::token_type::TokenType;

/// A successful token response, with the instant its request was sent.
///
/// Unknown members of the response are kept in [`extra`](TokenResponse::extra). `Debug` shows
/// no credential: the access, refresh and ID tokens are redacted, and of the extra members only
/// the names are shown.
///
/// ```
/// use std::time::{Duration, Instant};
/// use oauth2_kit::{TokenResponse, TokenType};
///
/// let sent_at = Instant::now();
/// let token = TokenResponse::from_json(
///     br#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"bearer","expires_in":"3600","tenant":"t1"}"#,
///     sent_at,
/// )?;
/// assert_eq!(token.access_token().expose_secret(), "2YotnFZFEjr1zCsicMWpAA");
/// assert_eq!(token.token_type(), &TokenType::Bearer);
/// assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
/// assert_eq!(token.expires_at(), Some(sent_at + Duration::from_secs(3600)));
/// assert_eq!(token.extra()["tenant"], "t1");
/// # Ok::<(), oauth2_kit::DecodeError>(())
/// ```
///
/// Cloning is cheap: the fields are shared behind an `Arc`.
#[derive(Clone)]
pub struct TokenResponse(Arc<Fields>);

#[derive(Clone)]
struct Fields {
    access_token: AccessToken,
    token_type: TokenType,
    expires_in: Option<Duration>,
    refresh_token: Option<RefreshToken>,
    scope: Option<Scope>,
    id_token: Option<IdToken>,
    extra: Map<String, Value>,
    requested_at: Instant,
    /// The thumbprint of the DPoP key the token is bound to.
    dpop_jkt: Option<Arc<str>>,
    /// The ID token's claims, once validated.
    #[cfg(feature = "jwt")]
    id_token_claims: Option<Arc<crate::claims::IdTokenClaims>>,
    /// `Bearer <token>` (or `DPoP <token>`), built on first use by a bearer client and kept for
    /// the token's life.
    authorization_header: OnceLock<HeaderValue>,
}

impl TokenResponse {
    /// A token response with only an access token and its type, for tests and custom grants;
    /// add the rest with the `with_*` methods.
    pub fn new(access_token: AccessToken, token_type: TokenType, requested_at: Instant) -> Self {
        Self(Arc::new(Fields {
            access_token,
            token_type,
            expires_in: None,
            refresh_token: None,
            scope: None,
            id_token: None,
            extra: Map::new(),
            requested_at,
            dpop_jkt: None,
            #[cfg(feature = "jwt")]
            id_token_claims: None,
            authorization_header: OnceLock::new(),
        }))
    }

    /// Sets the lifetime.
    #[must_use]
    pub fn with_expires_in(mut self, expires_in: Option<Duration>) -> Self {
        Arc::make_mut(&mut self.0).expires_in = expires_in;
        self
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh_token: Option<RefreshToken>) -> Self {
        Arc::make_mut(&mut self.0).refresh_token = refresh_token;
        self
    }

    /// Sets the granted scope.
    #[must_use]
    pub fn with_scope(mut self, scope: Option<Scope>) -> Self {
        Arc::make_mut(&mut self.0).scope = scope;
        self
    }

    /// Binds the token to the DPoP key of this thumbprint (RFC 7638, base64url), as a token
    /// rebuilt from a store or made by a custom grant is: it is then sent only with proofs of
    /// that key.
    #[must_use]
    pub fn with_dpop_jkt(mut self, thumbprint: Option<Arc<str>>) -> Self {
        Arc::make_mut(&mut self.0).dpop_jkt = thumbprint;
        self
    }

    /// Sets the extra members (for a token rebuilt from a store).
    #[must_use]
    pub(crate) fn with_extra(mut self, extra: Map<String, Value>) -> Self {
        Arc::make_mut(&mut self.0).extra = extra;
        self
    }

    /// Decodes a token response body (a JSON object).
    ///
    /// Lenient where real servers differ and the meaning is clear: `expires_in` may be a number
    /// or a numeric string, zero, negative or absent means "unknown", and more than ten years is
    /// read as ten years; `token_type` is matched case-insensitively; `scope` tokens may be
    /// separated by any whitespace, tokens outside the RFC 6749 grammar are dropped, and an empty
    /// `scope` means none. Strict where a token would be
    /// unusable: `access_token` must be a non-empty string and `token_type` must be present.
    pub fn from_json(body: &[u8], requested_at: Instant) -> Result<Self, DecodeError> {
        let object = JsonObject::parse(body)?;
        Self::from_object(object, requested_at)
    }

    pub(crate) fn from_object(
        mut object: JsonObject<'_>,
        requested_at: Instant,
    ) -> Result<Self, DecodeError> {
        let access_token = object.required_string("access_token")?;
        if access_token.is_empty() {
            return Err(DecodeError::new(Some("access_token"), "`access_token` is empty"));
        }
        let token_type = TokenType::from(object.required_string("token_type")?.as_str());
        let expires_in = object.lifetime("expires_in")?;
        let refresh_token = object.optional_string("refresh_token")?.map(RefreshToken::new);
        let scope = object.scope("scope")?;
        let id_token = object.optional_string("id_token")?.map(IdToken::new);
        Ok(Self(Arc::new(Fields {
            access_token: AccessToken::new(access_token),
            token_type,
            expires_in,
            refresh_token,
            scope,
            id_token,
            extra: object.into_rest(),
            requested_at,
            dpop_jkt: None,
            #[cfg(feature = "jwt")]
            id_token_claims: None,
            authorization_header: OnceLock::new(),
        })))
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.0.access_token
    }

    /// The token type.
    pub fn token_type(&self) -> &TokenType {
        &self.0.token_type
    }

    /// The lifetime the server gave, if it gave a positive one.
    pub fn expires_in(&self) -> Option<Duration> {
        self.0.expires_in
    }

    /// When the token expires: the request's send instant plus `expires_in`. Conservative by one
    /// round trip, since the server started the lifetime after the request was sent.
    pub fn expires_at(&self) -> Option<Instant> {
        self.0.expires_in.and_then(|lifetime| self.0.requested_at.checked_add(lifetime))
    }

    /// The thumbprint (RFC 7638) of the DPoP key the token is bound to (RFC 9449): set when the
    /// request carried a proof of a [`DpopKey`](crate::dpop::DpopKey) and the server issued a
    /// `DPoP` token. Such a token is sent only with proofs of that key, never as a bearer token.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.0.dpop_jkt.as_deref()
    }

    /// The refresh token, if one was issued.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.0.refresh_token.as_ref()
    }

    /// The granted scope, if the server stated one (RFC 6749 §5.1: absent means the requested
    /// scope was granted).
    pub fn scope(&self) -> Option<&Scope> {
        self.0.scope.as_ref()
    }

    /// The OpenID Connect ID token, if one was issued.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.0.id_token.as_ref()
    }

    /// The claims of the ID token, validated (signature, issuer, audience, times, the login's
    /// nonce, `at_hash`): set by the authorization code flow when the server sent an ID token
    /// (OpenID Connect Core §3.1.3.7), `None` otherwise.
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    pub fn id_token_claims(&self) -> Option<&crate::claims::IdTokenClaims> {
        self.0.id_token_claims.as_deref()
    }

    /// Sets the validated ID token's claims.
    #[cfg(feature = "jwt")]
    pub(crate) fn with_id_token_claims(mut self, claims: crate::claims::IdTokenClaims) -> Self {
        Arc::make_mut(&mut self.0).id_token_claims = Some(Arc::new(claims));
        self
    }

    /// Every other member of the response, as sent.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.0.extra
    }

    /// A copy with fields of its own (not shared with `self`), so that threads handing out
    /// different copies never write to the same reference count.
    pub(crate) fn replicate(&self) -> Self {
        // The copy builds its own header value, so that its reference count is its own too.
        Self(Arc::new(Fields { authorization_header: OnceLock::new(), ..Fields::clone(&self.0) }))
    }

    /// The `Authorization` header value for this token, `Bearer <token>`, marked sensitive. Built
    /// on first use and kept with the token: later calls cost a reference count, not an
    /// allocation. The bytes are zeroized when the last request holding them is dropped.
    ///
    /// Fails for a token type other than `Bearer` (a `mac` or `DPoP` token needs more than a
    /// header) and for a token with bytes a header cannot carry.
    pub fn bearer_header(&self) -> Result<HeaderValue, crate::error::BearerError> {
        self.bearer_header_ref().cloned()
    }

    /// [`bearer_header`](Self::bearer_header), by reference: built once per token.
    pub(crate) fn bearer_header_ref(&self) -> Result<&HeaderValue, crate::error::BearerError> {
        if self.token_type() != &TokenType::Bearer || self.dpop_jkt().is_some() {
            return Err(crate::error::BearerError::UnsupportedTokenType(self.token_type().clone()));
        }
        self.authorization_header_ref()
    }

    /// The `Authorization` header value for this token: `Bearer <token>`, or `DPoP <token>` for
    /// a DPoP token (which also needs a proof per request). Built once per token.
    pub(crate) fn authorization_header_ref(&self) -> Result<&HeaderValue, crate::error::BearerError> {
        if let Some(value) = self.0.authorization_header.get() {
            return Ok(value);
        }
        let value = build_authorization_header(self)?;
        Ok(self.0.authorization_header.get_or_init(|| value))
    }

    /// Whether [`authorization_header_ref`](Self::authorization_header_ref) has succeeded for
    /// this token.
    #[inline]
    pub(crate) fn has_authorization_header(&self) -> bool {
        self.0.authorization_header.get().is_some()
    }

    /// The header of a token whose [`authorization_header_ref`](Self::authorization_header_ref)
    /// has succeeded (an empty value otherwise, which no caller reaches).
    pub(crate) fn built_authorization_header(&self) -> &HeaderValue {
        static NONE: HeaderValue = HeaderValue::from_static("");
        self.0.authorization_header.get().unwrap_or(&NONE)
    }

    /// The same token, as if requested at `requested_at` (a shared token whose age was
    /// corrected).
    pub(crate) fn restamped(&self, requested_at: Instant) -> Self {
        Self(Arc::new(Fields {
            requested_at,
            authorization_header: OnceLock::new(),
            ..Fields::clone(&self.0)
        }))
    }

    /// When the token request was sent.
    pub fn requested_at(&self) -> Instant {
        self.0.requested_at
    }
}

fn build_authorization_header(token: &TokenResponse) -> Result<HeaderValue, crate::error::BearerError> {
    use crate::error::BearerError;
    // A token bound to a key goes under the DPoP scheme whatever its type says (RFC 9449 §7.1).
    let scheme: &[u8] = match token.token_type() {
        TokenType::DPoP => b"DPoP ",
        TokenType::Bearer if token.dpop_jkt().is_some() => b"DPoP ",
        TokenType::Bearer => b"Bearer ",
        other => return Err(BearerError::UnsupportedTokenType(other.clone())),
    };
    let secret = token.access_token().expose_secret().as_bytes();
    // RFC 6750 §2.1 (and RFC 9449 §7.1): the token is one run of visible characters.
    if !secret.iter().all(|b| b.is_ascii_graphic()) {
        return Err(BearerError::MalformedToken);
    }
    let mut text = Vec::with_capacity(scheme.len() + secret.len());
    text.extend_from_slice(scheme);
    text.extend_from_slice(secret);
    let bytes = Bytes::from_owner(ZeroizedOnDrop(text));
    let mut value = HeaderValue::from_maybe_shared(bytes).map_err(|_| BearerError::MalformedToken)?;
    value.set_sensitive(true);
    Ok(value)
}

/// Header bytes that are wiped when the last copy of the header value is dropped.
struct ZeroizedOnDrop(Vec<u8>);

impl AsRef<[u8]> for ZeroizedOnDrop {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for ZeroizedOnDrop {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.0;
        f.debug_struct("TokenResponse")
            .field("access_token", &t.access_token)
            .field("token_type", &t.token_type)
            .field("expires_in", &t.expires_in)
            .field("refresh_token", &t.refresh_token)
            .field("scope", &t.scope)
            .field("id_token", &t.id_token)
            .field("dpop_jkt", &t.dpop_jkt)
            .field("extra", &crate::decode::KeysOnly(&t.extra))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock as _;

    fn decode(body: &str) -> Result<TokenResponse, DecodeError> {
        TokenResponse::from_json(body.as_bytes(), crate::SystemClock.now())
    }

    #[test]
    fn rfc6749_section_4_4_3_example() {
        // RFC 6749 §4.4.3 (the example's "example" token type and parameter).
        let token = decode(
            r#"{
              "access_token":"2YotnFZFEjr1zCsicMWpAA",
              "token_type":"example",
              "expires_in":3600,
              "example_parameter":"example_value"
            }"#,
        )
        .unwrap();
        assert_eq!(token.access_token().expose_secret(), "2YotnFZFEjr1zCsicMWpAA");
        assert_eq!(token.token_type(), &TokenType::Other("example".into()));
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
        assert_eq!(token.extra()["example_parameter"], "example_value");
        assert!(token.refresh_token().is_none());
    }

    #[test]
    fn rfc6749_section_5_1_example() {
        let token = decode(
            r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,
                "refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","example_parameter":"example_value"}"#,
        )
        .unwrap();
        assert_eq!(token.refresh_token().unwrap().expose_secret(), "tGzv3JOkF0XG5Qx2TlKWIA");
        assert_eq!(token.token_type(), &TokenType::Bearer);
    }

    #[test]
    fn lenient_cases() {
        let t = decode(r#"{"access_token":"a","token_type":"bearer","expires_in":"120"}"#).unwrap();
        assert_eq!(t.token_type(), &TokenType::Bearer);
        assert_eq!(t.expires_in(), Some(Duration::from_secs(120)));

        for unknown in [
            r#""expires_in":0"#,
            r#""expires_in":-5"#,
            r#""expires_in":"0""#,
            r#""expires_in":null"#,
            r#""x":1"#,
        ] {
            let body = format!(r#"{{"access_token":"a","token_type":"BEARER",{unknown}}}"#);
            assert_eq!(decode(&body).unwrap().expires_in(), None, "{body}");
        }

        let t = decode(r#"{"access_token":"a","token_type":"Bearer","expires_in":59.9,"scope":""}"#).unwrap();
        assert_eq!(t.expires_in(), Some(Duration::from_secs(59)));
        assert_eq!(t.scope(), None);

        let t =
            decode(r#"{"access_token":"a","token_type":"Bearer","scope":"b a","id_token":"x.y.z","n":[1]}"#)
                .unwrap();
        assert_eq!(t.scope().unwrap().as_str(), "a b");
        assert_eq!(t.id_token().unwrap().expose_secret(), "x.y.z");
        assert_eq!(t.extra()["n"], serde_json::json!([1]));
    }

    #[test]
    fn huge_lifetime_is_clamped_and_computable() {
        let t = decode(r#"{"access_token":"a","token_type":"Bearer","expires_in":1e300}"#).unwrap();
        assert_eq!(t.expires_in(), Some(crate::decode::MAX_LIFETIME));
        assert!(t.expires_at().is_some());
        let t = decode(r#"{"access_token":"a","token_type":"Bearer","expires_in":"18446744073709551615"}"#)
            .unwrap();
        assert_eq!(t.expires_in(), Some(crate::decode::MAX_LIFETIME));
    }

    #[test]
    fn stray_characters_in_a_server_scope_do_not_lose_the_token() {
        let t = decode(r#"{"access_token":"a","token_type":"Bearer","scope":"read  write\t"}"#).unwrap();
        assert_eq!(t.scope().unwrap().as_str(), "read write");
    }

    #[test]
    fn strict_cases_name_the_field() {
        let cases = [
            (r#"{"token_type":"Bearer"}"#, "access_token"),
            (r#"{"access_token":"","token_type":"Bearer"}"#, "access_token"),
            (r#"{"access_token":7,"token_type":"Bearer"}"#, "access_token"),
            (r#"{"access_token":"a"}"#, "token_type"),
            (r#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#, "expires_in"),
            (r#"{"access_token":"a","token_type":"Bearer","expires_in":true}"#, "expires_in"),
            (r#"{"access_token":"a","token_type":"Bearer","scope":7}"#, "scope"),
            (r#"{"access_token":"a","token_type":"Bearer","refresh_token":1}"#, "refresh_token"),
        ];
        for (body, field) in cases {
            let err = decode(body).unwrap_err();
            assert_eq!(err.field(), Some(field), "{body}: {err}");
            assert!(err.to_string().contains(field), "{err}");
        }
        assert_eq!(decode("[]").unwrap_err().field(), None);
        assert_eq!(decode("").unwrap_err().field(), None);
        assert_eq!(decode("{").unwrap_err().field(), None);
    }

    #[test]
    fn decode_errors_do_not_echo_values() {
        let err = decode(r#"{"access_token":["secret-value"],"token_type":"Bearer"}"#).unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
    }

    #[test]
    fn debug_is_redacted() {
        let t = decode(
            r#"{"access_token":"AT-1","token_type":"Bearer","refresh_token":"RT-1","id_token":"ID-1","custom":"C-1"}"#,
        )
        .unwrap();
        let shown = format!("{t:?}");
        for secret in ["AT-1", "RT-1", "ID-1", "C-1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("custom"), "{shown}");
    }
}
