//! The JWT bearer grant (RFC 7523 §2.1): a signed JWT, the assertion, exchanged for an access
//! token. The assertion says who the token is for (`sub`) and who vouches for it (`iss`): a
//! service account signing for itself or for a user it may act as, or a token another issuer
//! gave the workload (a Kubernetes service account token, a CI provider's OIDC token).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use secrecy::ExposeSecret as _;

use crate::client_auth::AssertionAudience;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::grant::token_endpoint::{Replay, TokenEndpoint};
use crate::issuer::Issuer;
use crate::provider::AccessTokenProvider;
use crate::scope::Scope;
use crate::secret::Assertion;
use crate::signing::{JwtSigner, SigningError};
use crate::token::TokenResponse;

/// `grant_type` of the JWT bearer grant.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long a [`SignedAssertion`] is valid unless configured: a minute (a new one is made for
/// every request).
pub const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// The claims a [`SignedAssertion`] sets itself.
const REGISTERED_CLAIMS: &[&str] = &["iss", "sub", "aud", "iat", "exp", "nbf", "jti"];

/// What an assertion is made for: the server that receives it, and when.
#[derive(Debug)]
pub struct AssertionContext<'a> {
    token_endpoint: &'a Endpoint,
    issuer: Option<&'a Issuer>,
    now: SystemTime,
}

impl<'a> AssertionContext<'a> {
    /// A context for a request to `token_endpoint` (of the server `issuer`, if known) at `now`:
    /// the grant makes one for every request; make one to ask a source yourself.
    pub fn new(token_endpoint: &'a Endpoint, issuer: Option<&'a Issuer>, now: SystemTime) -> Self {
        Self { token_endpoint, issuer, now }
    }

    /// The token endpoint the assertion is sent to.
    pub fn token_endpoint(&self) -> &Endpoint {
        self.token_endpoint
    }

    /// The authorization server's issuer identifier, when the client knows it.
    pub fn issuer(&self) -> Option<&Issuer> {
        self.issuer
    }

    /// The time of the request, from the client's clock.
    pub fn now(&self) -> SystemTime {
        self.now
    }
}

/// Where the assertions of a [`JwtBearer`] grant come from: asked for one before every token
/// request (retries included), so a source can sign a new one ([`SignedAssertion`]), read one
/// another process keeps fresh (a projected service account token file), or hand out one it was
/// given (an [`Assertion`], sent as is).
///
/// ```
/// use oauth2_kit::grant::jwt_bearer::{AssertionContext, AssertionSource};
/// use oauth2_kit::signing::SigningError;
/// use oauth2_kit::Assertion;
///
/// /// The token a platform writes to a file and renews.
/// #[derive(Debug)]
/// struct ProjectedToken(std::path::PathBuf);
///
/// #[oauth2_kit::async_trait]
/// impl AssertionSource for ProjectedToken {
///     async fn assertion(&self, _: &AssertionContext<'_>) -> Result<Assertion, SigningError> {
///         let token = std::fs::read_to_string(&self.0)
///             .map_err(|e| SigningError::new("cannot read the projected token").with_source(e))?;
///         Ok(Assertion::new(token.trim()))
///     }
/// }
/// ```
#[async_trait]
pub trait AssertionSource: fmt::Debug + Send + Sync {
    /// An assertion for a token request described by `context`.
    async fn assertion(&self, context: &AssertionContext<'_>)
    -> std::result::Result<Assertion, SigningError>;

    /// What identifies the tokens this source's assertions obtain (the subject, the issuer),
    /// for a cache shared between processes; never a secret. Default: `None` (a shared store
    /// then needs an explicit identity).
    fn cache_identity(&self) -> Option<String> {
        None
    }
}

#[async_trait]
impl AssertionSource for Assertion {
    async fn assertion(&self, _: &AssertionContext<'_>) -> std::result::Result<Assertion, SigningError> {
        Ok(self.clone())
    }
}

/// An assertion this library signs anew for every request: `iss` and `sub` as given, `aud` the
/// token endpoint (or as [`audience`](Self::audience) says), `iat` now, `exp` a
/// [lifetime](Self::lifetime) later, a fresh `jti`, and any other [claims](Self::claim).
///
/// ```
/// use oauth2_kit::grant::jwt_bearer::SignedAssertion;
/// use oauth2_kit::signing::SharedSecretKey;
///
/// # let signer = SharedSecretKey::new("only-for-this-example-0123456789");
/// let assertion = SignedAssertion::new(signer, "reports@project.iam.example", "alice@example.com")
///     .claim("scope", "reports.read")?;
/// # drop(assertion);
/// # Ok::<(), oauth2_kit::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SignedAssertion {
    signer: Arc<dyn JwtSigner>,
    issuer: String,
    subject: String,
    audience: AssertionAudience,
    lifetime: Duration,
    claims: serde_json::Map<String, serde_json::Value>,
}

impl SignedAssertion {
    /// Assertions signed by `signer`, issued by `issuer`, about `subject` (the principal the
    /// token is for: the issuer itself, or a user it may act for).
    pub fn new(
        signer: impl JwtSigner + 'static,
        issuer: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            signer: Arc::new(signer),
            issuer: issuer.into(),
            subject: subject.into(),
            audience: AssertionAudience::TokenEndpoint,
            lifetime: DEFAULT_ASSERTION_LIFETIME,
            claims: serde_json::Map::new(),
        }
    }

    /// The audience (`aud`). Default: [`AssertionAudience::TokenEndpoint`].
    #[must_use]
    pub fn audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self
    }

    /// How long each assertion is valid (`exp` - `iat`). Default:
    /// [`DEFAULT_ASSERTION_LIFETIME`]; at least a second.
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// Another claim (a `scope` some servers read from the assertion, a tenant). The claims the
    /// assertion sets itself (`iss`, `sub`, `aud`, `iat`, `exp`, `nbf`, `jti`) are refused.
    pub fn claim(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> std::result::Result<Self, crate::ConfigError> {
        let name = name.into();
        if REGISTERED_CLAIMS.contains(&name.as_str()) {
            return Err(crate::ConfigError::new(
                crate::ConfigErrorKind::InvalidSetting,
                format!("the assertion sets `{name}` itself"),
            ));
        }
        self.claims.insert(name, value.into());
        Ok(self)
    }
}

impl fmt::Debug for SignedAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedAssertion")
            .field("signer", &self.signer)
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[async_trait]
impl AssertionSource for SignedAssertion {
    async fn assertion(
        &self,
        context: &AssertionContext<'_>,
    ) -> std::result::Result<Assertion, SigningError> {
        let audience = match &self.audience {
            AssertionAudience::TokenEndpoint => context.token_endpoint.as_str(),
            AssertionAudience::Issuer => context
                .issuer
                .ok_or_else(|| {
                    SigningError::new("the assertion's audience is the issuer, and the server has none")
                })?
                .as_str(),
            AssertionAudience::Value(value) => value.as_str(),
        };
        let issued = context.now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut claims = self.claims.clone();
        let jti = crate::random::random_urlsafe(16)
            .map_err(|_| SigningError::new("the operating system's random source failed"))?;
        for (name, value) in [
            ("iss", self.issuer.as_str().into()),
            ("sub", self.subject.as_str().into()),
            ("aud", audience.into()),
            ("jti", jti.into()),
            ("iat", issued.into()),
            ("exp", issued.saturating_add(self.lifetime.as_secs()).into()),
        ] {
            claims.insert(name.to_owned(), value);
        }
        let jwt =
            crate::signing::compact(self.signer.as_ref(), "JWT", &serde_json::Value::Object(claims)).await?;
        Ok(Assertion::new(jwt.expose_secret()))
    }

    fn cache_identity(&self) -> Option<String> {
        Some(format!(
            "assertion_iss={:?}\nassertion_sub={:?}\nassertion_claims={:?}\n",
            self.issuer, self.subject, self.claims
        ))
    }
}

/// The JWT bearer grant (RFC 7523 §2.1): an [`AccessTokenProvider`] that trades an assertion
/// from its [`AssertionSource`] for a token, obtained from
/// [`OAuth2Client::jwt_bearer`](crate::OAuth2Client::jwt_bearer). The client authenticates as
/// configured (RFC 7523 leaves it optional: [`ClientAuth::public`](crate::ClientAuth::public)
/// sends only `client_id`). Cheap to clone; wrap it in a caching provider to reuse tokens.
///
/// ```no_run
/// use oauth2_kit::grant::jwt_bearer::SignedAssertion;
/// use oauth2_kit::signing::SharedSecretKey;
/// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// # let key = SharedSecretKey::new("only-for-this-example-0123456789");
/// let server = AuthorizationServer::new().token("https://auth.example.com/token".parse()?);
/// let client = OAuth2Client::new(server, ClientAuth::public("reports"), http);
/// let grant = client.jwt_bearer(SignedAssertion::new(key, "reports", "reports"))?;
/// let token = grant.request_token(None).await?;
/// # drop(token); Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwtBearer {
    token: Arc<TokenEndpoint>,
    source: Arc<dyn AssertionSource>,
    issuer: Option<Issuer>,
}

impl JwtBearer {
    /// The parameters the grant sets itself: refused as extra parameters.
    pub(crate) const RESERVED_PARAMS: &[&str] = &[
        "grant_type",
        "assertion",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
    ];

    pub(crate) fn new(
        token: TokenEndpoint,
        source: Arc<dyn AssertionSource>,
        issuer: Option<Issuer>,
    ) -> Self {
        Self { token: Arc::new(token), source, issuer }
    }

    /// Requests an access token for `scope` (or what the server grants by default) with a new
    /// assertion.
    pub async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        let token = &*self.token;
        token
            .retrying(GRANT_TYPE, Replay::Safe, || async {
                let context = AssertionContext {
                    token_endpoint: &token.endpoint,
                    issuer: self.issuer.as_ref(),
                    now: token.transport.clock.system_time(),
                };
                let assertion = self.source.assertion(&context).await.map_err(Error::Signing)?;
                let mut params = vec![("assertion", assertion.expose_secret())];
                if let Some(scope) = scope {
                    params.push(("scope", scope.as_str()));
                }
                token.request_once(GRANT_TYPE, &params).await
            })
            .await
    }
}

impl fmt::Debug for JwtBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearer").field("token", &self.token).field("source", &self.source).finish()
    }
}

#[async_trait]
impl AccessTokenProvider for JwtBearer {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        JwtBearer::request_token(self, scope).await
    }

    fn cache_identity(&self) -> Option<String> {
        let source = self.source.cache_identity()?;
        Some(self.token.identity(GRANT_TYPE) + &source)
    }
    fn dpop_key(&self) -> Option<crate::dpop::DpopKey> {
        self.token.dpop.clone()
    }
}
