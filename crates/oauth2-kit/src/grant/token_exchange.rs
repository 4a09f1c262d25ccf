//! Token exchange (RFC 8693): a token the client holds (the *subject token*, and optionally an
//! *actor token* for delegation) traded for another, for another audience or resource, or of
//! another type.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Digest as _;
use url::Url;

use crate::config_error::{ConfigError, ConfigErrorKind};
use crate::decode::DecodeError;
use crate::error::{Error, Result};
use crate::extra_fields::FromTokenResponse;
use crate::grant::token_endpoint::{Replay, TokenEndpoint, convert};
use crate::provider::AccessTokenProvider;
use crate::scope::Scope;
use crate::secret::AccessToken;
use crate::token::TokenResponse;

/// `grant_type` of token exchange.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// A token type identifier (RFC 8693 §3): what kind of token a subject, actor or issued token
/// is.
///
/// ```
/// use oauth2_kit::grant::token_exchange::TokenTypeUri;
///
/// assert_eq!(TokenTypeUri::AccessToken.as_str(), "urn:ietf:params:oauth:token-type:access_token");
/// assert_eq!(TokenTypeUri::from("urn:ietf:params:oauth:token-type:jwt"), TokenTypeUri::Jwt);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TokenTypeUri {
    /// `urn:ietf:params:oauth:token-type:access_token`: an OAuth 2.0 access token.
    AccessToken,
    /// `urn:ietf:params:oauth:token-type:refresh_token`: an OAuth 2.0 refresh token.
    RefreshToken,
    /// `urn:ietf:params:oauth:token-type:id_token`: an OpenID Connect ID token.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:jwt`: a JWT (RFC 7519).
    Jwt,
    /// `urn:ietf:params:oauth:token-type:saml1`: a base64url-encoded SAML 1.1 assertion.
    Saml1,
    /// `urn:ietf:params:oauth:token-type:saml2`: a base64url-encoded SAML 2.0 assertion.
    Saml2,
    /// Any other identifier (an absolute URI a deployment defines).
    Other(String),
}

impl TokenTypeUri {
    /// The identifier.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            Self::RefreshToken => "urn:ietf:params:oauth:token-type:refresh_token",
            Self::IdToken => "urn:ietf:params:oauth:token-type:id_token",
            Self::Jwt => "urn:ietf:params:oauth:token-type:jwt",
            Self::Saml1 => "urn:ietf:params:oauth:token-type:saml1",
            Self::Saml2 => "urn:ietf:params:oauth:token-type:saml2",
            Self::Other(other) => other,
        }
    }
}

/// Equal when the identifiers are: `Other("urn:ietf:params:oauth:token-type:jwt")` is `Jwt`.
impl PartialEq for TokenTypeUri {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TokenTypeUri {}

impl std::hash::Hash for TokenTypeUri {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl From<&str> for TokenTypeUri {
    fn from(value: &str) -> Self {
        [Self::AccessToken, Self::RefreshToken, Self::IdToken, Self::Jwt, Self::Saml1, Self::Saml2]
            .into_iter()
            .find(|known| known.as_str() == value)
            .unwrap_or_else(|| Self::Other(value.to_owned()))
    }
}

impl fmt::Display for TokenTypeUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token given in an exchange, and its type.
#[derive(Clone)]
struct GivenToken {
    value: SecretString,
    kind: TokenTypeUri,
}

/// What to exchange, and for what (RFC 8693 §2.1): the subject token (required), an actor
/// token, the requested token type, audiences, resources (RFC 8707) and a scope.
///
/// ```
/// use oauth2_kit::AccessToken;
/// use oauth2_kit::grant::token_exchange::{TokenExchangeRequest, TokenTypeUri};
///
/// # let incoming = AccessToken::new("the caller's token");
/// // The caller's token, for the orders API, as an access token.
/// let request = TokenExchangeRequest::access_token(&incoming)
///     .audience("orders-api")
///     .resource("https://orders.example.com/".parse()?)
///     .requested_token_type(TokenTypeUri::AccessToken);
/// # drop(request);
/// # Ok::<(), url::ParseError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct TokenExchangeRequest {
    subject: GivenToken,
    actor: Option<GivenToken>,
    requested_token_type: Option<TokenTypeUri>,
    audiences: Vec<String>,
    resources: Vec<Url>,
    scope: Option<Scope>,
}

impl TokenExchangeRequest {
    /// An exchange of `subject_token`, of type `subject_token_type`.
    pub fn new(subject_token: impl Into<String>, subject_token_type: TokenTypeUri) -> Self {
        Self {
            subject: GivenToken { value: SecretString::from(subject_token.into()), kind: subject_token_type },
            actor: None,
            requested_token_type: None,
            audiences: Vec::new(),
            resources: Vec::new(),
            scope: None,
        }
    }

    /// An exchange of an access token (a caller's, received by this service).
    pub fn access_token(token: &AccessToken) -> Self {
        Self::new(token.expose_secret(), TokenTypeUri::AccessToken)
    }

    /// The party acting for the subject (delegation, RFC 8693 §1.1): its token and type.
    pub fn actor(mut self, actor_token: impl Into<String>, actor_token_type: TokenTypeUri) -> Self {
        self.actor =
            Some(GivenToken { value: SecretString::from(actor_token.into()), kind: actor_token_type });
        self
    }

    /// The type of token wanted; the server chooses when absent.
    pub fn requested_token_type(mut self, kind: TokenTypeUri) -> Self {
        self.requested_token_type = Some(kind);
        self
    }

    /// A logical name of where the token will be used (`audience`); may be given several times.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The URI of a resource where the token will be used (`resource`, RFC 8707: absolute, no
    /// fragment); may be given several times.
    pub fn resource(mut self, resource: Url) -> Self {
        self.resources.push(resource);
        self
    }

    /// The scope wanted.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// The same request without its scope (a cache's key gives the scope).
    pub(crate) fn without_scope(mut self) -> Self {
        self.scope = None;
        self
    }

    /// The scope asked for, if any.
    pub(crate) fn requested_scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    /// The request's parameters, checked: a resource with a fragment is refused (RFC 8707 §2).
    fn params<'a>(
        &'a self,
        scope: Option<&'a Scope>,
    ) -> std::result::Result<Vec<(&'static str, &'a str)>, ConfigError> {
        let mut params = vec![
            ("subject_token", self.subject.value.expose_secret()),
            ("subject_token_type", self.subject.kind.as_str()),
        ];
        if let Some(actor) = &self.actor {
            params.push(("actor_token", actor.value.expose_secret()));
            params.push(("actor_token_type", actor.kind.as_str()));
        }
        if let Some(kind) = &self.requested_token_type {
            params.push(("requested_token_type", kind.as_str()));
        }
        params.extend(self.audiences.iter().map(|audience| ("audience", audience.as_str())));
        for resource in &self.resources {
            if resource.fragment().is_some() {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidSetting,
                    "a resource indicator may not have a fragment (RFC 8707 §2)",
                ));
            }
            params.push(("resource", resource.as_str()));
        }
        if let Some(scope) = scope.or(self.scope.as_ref()) {
            params.push(("scope", scope.as_str()));
        }
        Ok(params)
    }

    /// What identifies the tokens this request obtains, for a cache: the given tokens by their
    /// SHA-256 (never the tokens), and every other parameter.
    pub(crate) fn identity(&self) -> String {
        let digest = |token: &GivenToken| {
            let hash = sha2::Sha256::digest(token.value.expose_secret().as_bytes());
            format!("{}:{hash:x}", token.kind)
        };
        let mut identity = format!("subject={:?}\n", digest(&self.subject));
        if let Some(actor) = &self.actor {
            identity.push_str(&format!("actor={:?}\n", digest(actor)));
        }
        if let Some(kind) = &self.requested_token_type {
            identity.push_str(&format!("requested_token_type={:?}\n", kind.as_str()));
        }
        for audience in &self.audiences {
            identity.push_str(&format!("audience={audience:?}\n"));
        }
        for resource in &self.resources {
            identity.push_str(&format!("resource={:?}\n", resource.as_str()));
        }
        identity
    }
}

impl fmt::Debug for TokenExchangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenExchangeRequest")
            .field("subject_token_type", &self.subject.kind)
            .field("actor_token_type", &self.actor.as_ref().map(|actor| &actor.kind))
            .field("requested_token_type", &self.requested_token_type)
            .field("audiences", &self.audiences)
            .field("resources", &self.resources.iter().map(Url::as_str).collect::<Vec<_>>())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The answer to a token exchange (RFC 8693 §2.2.1): the issued token (in
/// [`token`](Self::token)'s `access_token`, whatever its type, as the RFC says) and its
/// `issued_token_type`.
#[derive(Debug, Clone)]
pub struct ExchangedToken {
    token: TokenResponse,
    issued_token_type: TokenTypeUri,
}

impl ExchangedToken {
    /// The token response: the issued token, its lifetime, scope and refresh token.
    pub fn token(&self) -> &TokenResponse {
        &self.token
    }

    /// The token response, taken.
    pub fn into_token(self) -> TokenResponse {
        self.token
    }

    /// The type of the issued token (`issued_token_type`).
    pub fn issued_token_type(&self) -> &TokenTypeUri {
        &self.issued_token_type
    }
}

impl FromTokenResponse for ExchangedToken {
    /// Requires `issued_token_type` (RFC 8693 §2.2.1).
    fn from_token_response(token: TokenResponse) -> std::result::Result<Self, DecodeError> {
        let issued_token_type = match token.extra().get("issued_token_type") {
            Some(serde_json::Value::String(kind)) if !kind.is_empty() => TokenTypeUri::from(kind.as_str()),
            Some(serde_json::Value::String(_)) => {
                return Err(DecodeError::new(Some("issued_token_type"), "`issued_token_type` is empty"));
            }
            Some(_) => {
                return Err(DecodeError::new(
                    Some("issued_token_type"),
                    "`issued_token_type` is not a string",
                ));
            }
            None => {
                return Err(DecodeError::new(Some("issued_token_type"), "`issued_token_type` is missing"));
            }
        };
        Ok(Self { token, issued_token_type })
    }
}

/// Token exchange (RFC 8693), obtained from
/// [`OAuth2Client::token_exchange`](crate::OAuth2Client::token_exchange): trade tokens one by
/// one with [`exchange`](Self::exchange), or make a [provider](Self::provider) of access tokens
/// for one subject. Cheap to clone.
///
/// ```no_run
/// use oauth2_kit::grant::token_exchange::TokenExchangeRequest;
/// use oauth2_kit::{AccessToken, AuthorizationServer, ClientAuth, OAuth2Client};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static, incoming: AccessToken) -> Result<(), Box<dyn std::error::Error>> {
/// let server = AuthorizationServer::new().token("https://auth.example.com/token".parse()?);
/// let client = OAuth2Client::new(server, ClientAuth::new("gateway", "secret"), http);
/// let exchanged = client
///     .token_exchange()?
///     .exchange(&TokenExchangeRequest::access_token(&incoming).audience("orders-api"))
///     .await?;
/// println!("{} until {:?}", exchanged.issued_token_type(), exchanged.token().expires_at());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenExchange {
    token: Arc<TokenEndpoint>,
}

impl TokenExchange {
    /// The parameters the grant sets itself: refused as extra parameters.
    pub(crate) const RESERVED_PARAMS: &[&str] = &[
        "grant_type",
        "subject_token",
        "subject_token_type",
        "actor_token",
        "actor_token_type",
        "requested_token_type",
        "audience",
        "resource",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
    ];

    pub(crate) fn new(token: TokenEndpoint) -> Self {
        Self { token: Arc::new(token) }
    }

    /// Exchanges as `request` says (RFC 8693 §2.1); the answer must name the issued token's type.
    pub async fn exchange(&self, request: &TokenExchangeRequest) -> Result<ExchangedToken> {
        convert(self.send(request, None).await?)
    }

    async fn send(&self, request: &TokenExchangeRequest, scope: Option<&Scope>) -> Result<TokenResponse> {
        let params = request.params(scope).map_err(Error::Config)?;
        self.token.request_retrying(GRANT_TYPE, &params, Replay::Safe).await
    }

    /// An [`AccessTokenProvider`] of access tokens for `request`'s subject (and actor, audiences,
    /// resources): each `request_token(scope)` exchanges anew (`scope`, when given, in place of
    /// the request's), asking for an access token unless the request names another type, and an
    /// answer whose `token_type` is `N_A` (not usable as an access token) is an error. Wrap it in
    /// a caching provider to keep the token: its cache identity carries a digest of the subject
    /// token, so a shared store never hands one subject's token to another. For many subjects, use a [`CachingTokenExchange`](crate::cache::CachingTokenExchange)
    /// (`caching_exchange` of the caching crates).
    pub fn provider(&self, mut request: TokenExchangeRequest) -> TokenExchangeProvider {
        request.requested_token_type.get_or_insert(TokenTypeUri::AccessToken);
        TokenExchangeProvider { exchange: self.clone(), request: Arc::new(request) }
    }
}

impl fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenExchange").field("token", &self.token).finish()
    }
}

/// Access tokens for one subject by token exchange: see [`TokenExchange::provider`].
#[derive(Clone)]
pub struct TokenExchangeProvider {
    exchange: TokenExchange,
    request: Arc<TokenExchangeRequest>,
}

impl fmt::Debug for TokenExchangeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenExchangeProvider")
            .field("exchange", &self.exchange)
            .field("request", &self.request)
            .finish()
    }
}

#[async_trait]
impl AccessTokenProvider for TokenExchangeProvider {
    async fn request_token(&self, scope: Option<&Scope>) -> Result<TokenResponse> {
        let exchanged: ExchangedToken = convert(self.exchange.send(&self.request, scope).await?)?;
        // RFC 8693 §2.2.1: `N_A` marks a token that cannot be used as an access token (an
        // access token may come as another type: a JWT, say).
        if exchanged.token.token_type().as_str().eq_ignore_ascii_case("N_A") {
            return Err(Error::Decode {
                status: http::StatusCode::OK,
                field: Some("token_type"),
                reason: format!(
                    "the server issued a {} that is not usable as an access token (token_type N_A)",
                    exchanged.issued_token_type
                ),
                body_excerpt: String::new(),
            });
        }
        Ok(exchanged.into_token())
    }

    fn cache_identity(&self) -> Option<String> {
        Some(self.exchange.token.identity(GRANT_TYPE) + &self.request.identity())
    }
    fn dpop_key(&self) -> Option<crate::dpop::DpopKey> {
        self.exchange.token.dpop.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_names_no_token_and_differs_per_subject_and_audience() {
        let alice = TokenExchangeRequest::new("alice-token-0123456789", TokenTypeUri::AccessToken);
        let bob = TokenExchangeRequest::new("bob-token-0123456789", TokenTypeUri::AccessToken);
        assert_ne!(alice.identity(), bob.identity());
        assert_ne!(alice.identity(), alice.clone().audience("x").identity());
        assert_ne!(alice.identity(), alice.clone().actor("actor-token", TokenTypeUri::Jwt).identity());
        assert!(!alice.identity().contains("alice-token"), "{}", alice.identity());
        let shown = format!("{alice:?}");
        assert!(!shown.contains("alice-token"), "{shown}");
    }

    #[test]
    fn a_resource_with_a_fragment_is_refused_and_the_scope_given_wins() {
        let request = TokenExchangeRequest::new("t", TokenTypeUri::Jwt)
            .scope("a".parse().unwrap())
            .resource("https://api.example/#frag".parse().unwrap());
        assert_eq!(request.params(None).unwrap_err().kind(), ConfigErrorKind::InvalidSetting);
        let request = TokenExchangeRequest::new("t", TokenTypeUri::Jwt).scope("a".parse().unwrap());
        let b: Scope = "b".parse().unwrap();
        assert!(request.params(Some(&b)).unwrap().contains(&("scope", "b")));
        assert!(request.params(None).unwrap().contains(&("scope", "a")));
    }
}
