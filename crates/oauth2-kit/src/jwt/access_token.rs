//! JWT access tokens (RFC 9068), validated by the resource server that receives them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::checks::{MAX_LEEWAY, check_times, confirmation};
use super::{DEFAULT_MAX_TOKEN_BYTES, Jwks, JwtError};
use crate::claims::{audiences, numeric_date};
use crate::clock::{Clock, SystemClock};
use crate::confirmation::Confirmation;
use crate::issuer::Issuer;
use crate::jws::{ASYMMETRIC, Compact};
use crate::scope::Scope;
use crate::signing::JwsAlgorithm;

/// The claims of a validated JWT access token: the ones RFC 9068 §2.2 names, typed, and the
/// others as `C` (a JSON object by default; any `Deserialize` type of your own, for your
/// server's claims). `Debug` shows the registered claims only.
///
/// ```
/// use oauth2_kit::jwt::AccessTokenClaims;
///
/// #[derive(serde::Deserialize)]
/// struct Tenant {
///     tenant: String,
/// }
///
/// fn handle(claims: &AccessTokenClaims<Tenant>) -> String {
///     format!("{} of {}", claims.sub.as_deref().unwrap_or("a client"), claims.extra.tenant)
/// }
/// ```
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct AccessTokenClaims<C = Map<String, Value>> {
    /// The issuer (`iss`).
    pub iss: String,
    /// The subject (`sub`): the user, or the client when it acts for itself.
    #[serde(default)]
    pub sub: Option<String>,
    /// The audiences (`aud`).
    #[serde(default, deserialize_with = "audiences")]
    pub aud: Vec<String>,
    /// Expiry (`exp`), seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    /// Issue time (`iat`), seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    /// Not before (`nbf`), seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    /// The token's identifier (`jti`).
    #[serde(default)]
    pub jti: Option<String>,
    /// The client the token was issued to (`client_id`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The scope granted: `scope` (RFC 9068), or `scp` as Azure AD (a string) and Okta (an
    /// array) name it; read leniently, as a server writes it.
    #[serde(default, alias = "scp", deserialize_with = "granted_scope")]
    pub scope: Option<Scope>,
    /// When the user authenticated (`auth_time`).
    #[serde(default, deserialize_with = "numeric_date")]
    pub auth_time: Option<i64>,
    /// The authentication context class (`acr`).
    #[serde(default)]
    pub acr: Option<String>,
    /// The authentication methods (`amr`).
    #[serde(default)]
    pub amr: Option<Vec<String>>,
    /// What the token is bound to (`cnf`: a DPoP key, a client certificate), if anything.
    #[serde(default, deserialize_with = "confirmation")]
    pub cnf: Option<Confirmation>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: C,
}

/// `Debug` shows the registered claims, not the others (which may be personal data).
impl<C> fmt::Debug for AccessTokenClaims<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("cnf", &self.cnf)
            .finish_non_exhaustive()
    }
}

impl AccessTokenClaims {
    /// The same claims with the others decoded as `D` (a type of yours): how a layer that keeps
    /// them as a JSON object hands them to a handler that wants them typed.
    pub fn typed<D: DeserializeOwned>(self) -> Result<AccessTokenClaims<D>, JwtError> {
        let extra = D::deserialize(Value::Object(self.extra)).map_err(|_| JwtError::Malformed)?;
        Ok(AccessTokenClaims {
            iss: self.iss,
            sub: self.sub,
            aud: self.aud,
            exp: self.exp,
            iat: self.iat,
            nbf: self.nbf,
            jti: self.jti,
            client_id: self.client_id,
            scope: self.scope,
            auth_time: self.auth_time,
            acr: self.acr,
            amr: self.amr,
            cnf: self.cnf,
            extra,
        })
    }
}

impl<C> AccessTokenClaims<C> {
    /// Whether the token's scope holds `token` (a scope token such as `orders:read`).
    pub fn has_scope(&self, token: &str) -> bool {
        self.scope.as_ref().is_some_and(|scope| scope.contains(token))
    }
}

/// A scope as servers write it in tokens: a space-separated string (read as
/// [`Scope::from_server`] does) or an array of tokens.
fn granted_scope<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Scope>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Tokens(Vec<String>),
    }
    let text = match Option::<Written>::deserialize(deserializer)? {
        None => return Ok(None),
        Some(Written::Text(text)) => text,
        Some(Written::Tokens(tokens)) => tokens.join(" "),
    };
    Scope::from_server(&text).map_err(serde::de::Error::custom)
}

/// The claims only an ID token has: a token carrying them is not an access token.
#[derive(Deserialize)]
struct IdTokenMarkers {
    #[serde(default)]
    nonce: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    at_hash: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    c_hash: Option<serde::de::IgnoredAny>,
}

/// Validates JWT access tokens (RFC 9068 §4) as a resource server receives them: `typ`
/// `at+jwt`, the signature with the issuer's key the header names (an allow-list of
/// algorithms: never `none`, never HMAC), `iss` equal to the issuer, `aud` naming this
/// resource server, `exp`, `nbf` and `iat` within a bounded leeway, and the claims RFC 9068
/// requires (`sub`, `client_id`, `iat`, `jti`). Cheap to clone.
///
/// Obtain it with [`OAuth2Client::jwt_access_tokens`](crate::OAuth2Client::jwt_access_tokens)
/// (the issuer and key set from discovery), or [`JwtAccessTokens::new`].
///
/// ```no_run
/// use oauth2_kit::{ClientAuth, Issuer, OAuth2Client};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + Clone + 'static, token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let issuer: Issuer = "https://auth.example.com".parse()?;
/// let client = OAuth2Client::discover(&issuer, ClientAuth::public("orders-api"), http).await?;
/// let tokens = client.jwt_access_tokens("https://orders.example.com")?;
///
/// let claims = tokens.validate::<serde_json::Map<String, serde_json::Value>>(token).await?;
/// assert!(claims.has_scope("orders:read"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwtAccessTokens {
    inner: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    jwks: Jwks,
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<JwsAlgorithm>,
    legacy: bool,
    leeway: Duration,
    max_bytes: usize,
    clock: Arc<dyn Clock>,
}

impl JwtAccessTokens {
    /// Validates tokens of `issuer`, signed with keys of `jwks`, for `audience` (this
    /// resource server's identifier, as the issuer writes it in `aud`).
    pub fn new(jwks: Jwks, issuer: &Issuer, audience: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Settings {
                jwks,
                issuer: issuer.as_str().to_owned(),
                audiences: vec![audience.into()],
                algorithms: ASYMMETRIC.to_vec(),
                legacy: false,
                leeway: Duration::from_secs(60),
                max_bytes: DEFAULT_MAX_TOKEN_BYTES,
                clock: Arc::new(SystemClock),
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.inner));
        self
    }

    /// Also accepts tokens for `audience` (a resource server known by several names).
    #[must_use]
    pub fn with_audience(self, audience: impl Into<String>) -> Self {
        self.with(|s| s.audiences.push(audience.into()))
    }

    /// The algorithms accepted. Default: `RS256`, `PS256`, `ES256`, `EdDSA`. `none` and HMAC
    /// algorithms are dropped from the list: a resource server holds no shared secret.
    #[must_use]
    pub fn with_algorithms(self, algorithms: &[JwsAlgorithm]) -> Self {
        let kept: Vec<JwsAlgorithm> =
            algorithms.iter().copied().filter(|alg| ASYMMETRIC.contains(alg)).collect();
        self.with(|s| s.algorithms = kept)
    }

    /// The clock differences tolerated on `exp`, `nbf` and `iat`. Default 60 s; at most
    /// 5 min (more is read as 5 min).
    #[must_use]
    pub fn with_leeway(self, leeway: Duration) -> Self {
        self.with(|s| s.leeway = leeway.min(MAX_LEEWAY))
    }

    /// Also accepts JWT access tokens as servers wrote them before RFC 9068 (Keycloak, Azure
    /// AD, Okta, ...): `typ` `JWT` or no `typ` at all, and without `sub`, `client_id`, `iat` or
    /// `jti`. `iss`, `aud`, `exp` and the signature are checked all the same, and a token with an
    /// ID token's claims (`nonce`, `at_hash`, `c_hash`) is refused: the issuer's ID tokens for a
    /// client of the same name as this service are not access tokens.
    #[must_use]
    pub fn with_legacy_tokens(self) -> Self {
        self.with(|s| s.legacy = true)
    }

    /// The clock `exp`, `nbf` and `iat` are compared with. Default: [`SystemClock`].
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.with(|s| s.clock = clock)
    }

    /// The longest token accepted, in bytes. Default 16 KiB.
    #[must_use]
    pub fn with_max_bytes(self, bytes: usize) -> Self {
        self.with(|s| s.max_bytes = bytes)
    }

    /// The key set the signatures are checked with.
    pub fn jwks(&self) -> &Jwks {
        &self.inner.jwks
    }

    /// Validates `token`: its claims, with the ones not named by [`AccessTokenClaims`] as `C`;
    /// or why it is refused. Only [`JwtError::KeysUnavailable`] is not the token's fault.
    pub async fn validate<C: DeserializeOwned>(&self, token: &str) -> Result<AccessTokenClaims<C>, JwtError> {
        let settings = &*self.inner;
        let jws = Compact::parse(token, settings.max_bytes)?;
        let typed = jws.has_type("at+jwt");
        if !typed && !(settings.legacy && (jws.header.typ.is_none() || jws.has_type("jwt"))) {
            return Err(JwtError::WrongType);
        }
        settings.jwks.verify_compact(&jws, &settings.algorithms).await?;
        if !typed {
            // Untyped tokens of the issuer include its ID tokens, whose `aud` may well be this
            // service's name too (RFC 9068 §5): those are not access tokens.
            let markers: IdTokenMarkers = jws.claims()?;
            if markers.nonce.is_some() || markers.at_hash.is_some() || markers.c_hash.is_some() {
                return Err(JwtError::WrongType);
            }
        }
        let claims: AccessTokenClaims<C> = jws.claims()?;
        if claims.iss != settings.issuer {
            return Err(JwtError::WrongIssuer);
        }
        if claims.aud.is_empty() {
            return Err(JwtError::MissingClaim("aud"));
        }
        if !claims.aud.iter().any(|aud| settings.audiences.contains(aud)) {
            return Err(JwtError::WrongAudience);
        }
        check_times(claims.exp, claims.nbf, claims.iat, settings.clock.system_time(), settings.leeway)?;
        if !settings.legacy {
            let required = [
                ("sub", claims.sub.is_some()),
                ("client_id", claims.client_id.is_some()),
                ("iat", claims.iat.is_some()),
                ("jti", claims.jti.is_some()),
            ];
            if let Some((name, _)) = required.iter().find(|(_, present)| !present) {
                return Err(JwtError::MissingClaim(name));
            }
        }
        Ok(claims)
    }
}

impl fmt::Debug for JwtAccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.inner;
        f.debug_struct("JwtAccessTokens")
            .field("issuer", &s.issuer)
            .field("audiences", &s.audiences)
            .field("algorithms", &s.algorithms)
            .field("legacy", &s.legacy)
            .field("leeway", &s.leeway)
            .field("jwks", &s.jwks)
            .finish_non_exhaustive()
    }
}
