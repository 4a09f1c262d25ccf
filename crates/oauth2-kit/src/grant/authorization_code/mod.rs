//! The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636): the login link, the
//! callback, the code exchange, refresh (§6), revocation and logout, in one provider type
//! (sttp-oauth2's `AuthorizationCodeProvider`).

mod callback;
mod login;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use url::Url;

pub use self::callback::{Callback, CallbackError};
pub use self::login::{LoginLink, LoginLinkBuilder, MIN_STATE_LEN, PendingLogin};

use crate::client_auth::ClientAuth;
use crate::clock::Clock;
use crate::discovery::ServerMetadata;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::exchange::{Transport, check_body_limit};
use crate::extra_fields::FromTokenResponse;
use crate::form::check_extra_params;
use crate::grant::token_endpoint::TokenEndpoint;
use crate::http::HttpClient;
use crate::introspection::TokenTypeHint;
use crate::issuer::Issuer;
use crate::logout::{RpLogout, logout_link};
use crate::pkce::PkceMethod;
use crate::presets::ServerEndpoints;
use crate::scope::Scope;
use crate::secret::{AccessToken, AuthorizationCode, PkceVerifier, RefreshToken};
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "authorization_code";

/// Token request parameters the provider sets itself.
const RESERVED_TOKEN_PARAMS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
];

/// Whether and how login links carry a PKCE challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PkcePolicy {
    S256,
    Plain,
    Off,
}

impl PkcePolicy {
    fn method(self) -> Option<PkceMethod> {
        match self {
            Self::S256 => Some(PkceMethod::S256),
            Self::Plain => Some(PkceMethod::Plain),
            Self::Off => None,
        }
    }
}

/// A client of the authorization code grant: builds login links, checks callbacks, trades codes
/// and refresh tokens for access tokens, revokes them, and builds logout links.
///
/// Generic over what a token response is handed back as: [`TokenResponse`] by default,
/// [`WithFields<F>`](crate::WithFields) to have a server's own members typed (see
/// [`token_response`](AuthorizationCodeProviderBuilder::token_response)). Cheap to clone.
///
/// ```no_run
/// use oauth2_kit::ClientAuth;
/// use oauth2_kit::grant::authorization_code::{AuthorizationCodeProvider, Callback};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let provider = AuthorizationCodeProvider::builder(
///     "https://auth.example.com/authorize".parse()?,
///     "https://auth.example.com/token".parse()?,
///     "https://app.example.com/callback".parse()?,
///     ClientAuth::new("web-app", "web-secret"),
///     http,
/// )
/// .build()?;
///
/// // 1. Send the user to the login link; keep `pending` in their session.
/// let (url, pending) = provider.login_link().scope("openid profile".parse()?).build()?.into_parts();
/// println!("log in at {url}");
///
/// // 2. The user comes back to /callback?code=...&state=...
/// # let callback_query = "";
/// let callback = Callback::from_query(callback_query)?;
/// let token = provider.complete_login(&pending, &callback).await?;
///
/// // 3. Later: a fresh access token (the refresh token is kept, or replaced if rotated).
/// if let Some(refresh_token) = token.refresh_token() {
///     let token = provider.refresh(refresh_token, None).await?;
/// #   drop(token);
/// }
/// # Ok(()) }
/// ```
pub struct AuthorizationCodeProvider<T = TokenResponse> {
    inner: Arc<Inner>,
    response: PhantomData<fn() -> T>,
}

struct Inner {
    authorization_endpoint: Endpoint,
    redirect_uri: Url,
    token: TokenEndpoint,
    revocation_endpoint: Option<Endpoint>,
    logout_endpoint: Option<Url>,
    issuer: Option<Issuer>,
    require_issuer: bool,
    pkce: PkcePolicy,
}

impl<T> Clone for AuthorizationCodeProvider<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), response: PhantomData }
    }
}

impl AuthorizationCodeProvider {
    /// A builder for a provider with these endpoints, this registered redirect URI and these
    /// client credentials ([`ClientAuth::public`] for a client without a secret).
    pub fn builder(
        authorization_endpoint: Endpoint,
        token_endpoint: Endpoint,
        redirect_uri: Url,
        client: ClientAuth,
        http: impl HttpClient + 'static,
    ) -> AuthorizationCodeProviderBuilder {
        AuthorizationCodeProviderBuilder {
            authorization_endpoint,
            token_endpoint,
            redirect_uri,
            client,
            transport: Transport::new(Arc::new(http)),
            revocation_endpoint: None,
            logout_endpoint: None,
            issuer: None,
            require_issuer: false,
            pkce: PkcePolicy::S256,
            extra_params: Vec::new(),
            response: PhantomData,
        }
    }

    /// A builder with the endpoints of a discovered server: authorization, token, revocation
    /// and end-session endpoints, and the issuer, so that a callback's `iss` (RFC 9207) is
    /// checked (and required, if the server says it sends it).
    pub fn from_metadata(
        metadata: &ServerMetadata,
        redirect_uri: Url,
        client: ClientAuth,
        http: impl HttpClient + 'static,
    ) -> Result<AuthorizationCodeProviderBuilder> {
        let authorization = metadata.authorization_endpoint.clone().ok_or_else(|| {
            crate::config_error::ConfigError::missing(
                crate::config_error::EndpointKind::Authorization,
                "the server metadata has no `authorization_endpoint`",
            )
        })?;
        let mut builder = Self::builder(
            Endpoint::new(authorization)?,
            metadata.token_endpoint()?,
            redirect_uri,
            client,
            http,
        );
        builder.revocation_endpoint = metadata.revocation_endpoint.clone().map(Endpoint::new).transpose()?;
        builder.logout_endpoint = metadata.end_session_endpoint.clone();
        builder.issuer = Some(metadata.issuer.clone());
        builder.require_issuer = metadata
            .extra
            .get("authorization_response_iss_parameter_supported")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        Ok(builder)
    }

    /// A builder with the endpoints of a [preset](crate::presets) layout.
    pub fn from_endpoints(
        endpoints: &ServerEndpoints,
        redirect_uri: Url,
        client: ClientAuth,
        http: impl HttpClient + 'static,
    ) -> Result<AuthorizationCodeProviderBuilder> {
        let mut builder = Self::builder(
            Endpoint::new(endpoints.authorization.clone())?,
            Endpoint::new(endpoints.token.clone())?,
            redirect_uri,
            client,
            http,
        );
        builder.revocation_endpoint = endpoints.revocation.clone().map(Endpoint::new).transpose()?;
        builder.logout_endpoint = endpoints.logout.clone();
        Ok(builder)
    }
}

impl<T: FromTokenResponse> AuthorizationCodeProvider<T> {
    /// The client identifier.
    pub fn client_id(&self) -> &crate::ClientId {
        self.inner.token.auth.client_id()
    }

    /// The redirect URI sent in login links and code exchanges.
    pub fn redirect_uri(&self) -> &Url {
        &self.inner.redirect_uri
    }

    /// A login link: a new random `state` and, unless the provider opted out, a new PKCE `S256`
    /// pair. See [`LoginLinkBuilder`] for the scope, a nonce and extra parameters.
    ///
    /// ```
    /// use oauth2_kit::ClientAuth;
    /// use oauth2_kit::grant::authorization_code::AuthorizationCodeProvider;
    /// # fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
    /// let provider = AuthorizationCodeProvider::builder(
    ///     "https://auth.example.com/authorize?tenant=t1".parse()?,
    ///     "https://auth.example.com/token".parse()?,
    ///     "https://app.example.com/cb".parse()?,
    ///     ClientAuth::new("app", "secret"),
    ///     http,
    /// )
    /// .build()?;
    /// let link = provider.login_link().scope("openid".parse()?).extra_param("prompt", "login").build()?;
    /// let names: Vec<_> = link.url().query_pairs().map(|(name, _)| name.into_owned()).collect();
    /// assert_eq!(names, [
    ///     "tenant", "response_type", "client_id", "redirect_uri", "state", "scope",
    ///     "code_challenge", "code_challenge_method", "prompt",
    /// ]);
    /// # Ok(()) }
    /// # struct Offline;
    /// # #[async_trait::async_trait]
    /// # impl oauth2_kit::http::HttpClient for Offline {
    /// #     async fn send(&self, _: oauth2_kit::http::HttpRequest)
    /// #         -> Result<oauth2_kit::http::HttpResponse, oauth2_kit::http::TransportError> {
    /// #         Err(oauth2_kit::http::TransportError::new(oauth2_kit::http::TransportErrorKind::Connect))
    /// #     }
    /// # }
    /// # demo(Offline).unwrap();
    /// ```
    pub fn login_link(&self) -> LoginLinkBuilder<'_, T> {
        LoginLinkBuilder::new(self)
    }

    /// Checks a callback against the login it answers and trades its code for tokens.
    ///
    /// In order: the `state` must be the login's (constant-time check; an empty one never
    /// matches), else [`CallbackError::StateMismatch`]; an `iss` other than the configured
    /// issuer gives [`CallbackError::IssuerMismatch`] (RFC 9207 §2.4, error callbacks included);
    /// an `error` callback gives [`CallbackError::Refused`]; then the code is exchanged with the
    /// login's PKCE verifier. Delete the pending login from the session afterwards, whatever the
    /// outcome: a state is good for one callback.
    pub async fn complete_login(&self, pending: &PendingLogin, callback: &Callback) -> Result<T> {
        let state = callback.state().ok_or(CallbackError::Missing("state"))?;
        if !pending.state().verify(state) {
            return Err(CallbackError::StateMismatch.into());
        }
        self.check_issuer(callback.issuer())?;
        if let Some(error) = callback.error() {
            return Err(CallbackError::Refused(error.clone()).into());
        }
        let code = callback
            .code()
            .filter(|code| !code.expose_secret().is_empty())
            .ok_or(CallbackError::Missing("code"))?;
        self.exchange_code(code, pending.pkce_verifier()).await
    }

    fn check_issuer(&self, received: Option<&str>) -> Result<(), CallbackError> {
        let Some(issuer) = &self.inner.issuer else { return Ok(()) };
        match received {
            // RFC 9207 §2.4: compared as strings (after the query decoding), exactly.
            Some(received) if received == issuer.as_str() => Ok(()),
            Some(_) => Err(CallbackError::IssuerMismatch),
            None if self.inner.require_issuer => Err(CallbackError::Missing("iss")),
            None => Ok(()),
        }
    }

    /// Trades an authorization code for tokens (RFC 6749 §4.1.3), with the PKCE verifier of the
    /// login (RFC 7636 §4.5). Sends `Accept: application/json`. Use
    /// [`complete_login`](Self::complete_login) unless you check the callback yourself.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce_verifier: Option<&PkceVerifier>,
    ) -> Result<T> {
        let inner = &*self.inner;
        let mut params = vec![("code", code.expose_secret()), ("redirect_uri", inner.redirect_uri.as_str())];
        if let Some(verifier) = pkce_verifier {
            params.push(("code_verifier", verifier.expose_secret()));
        }
        inner.token.request_as(GRANT_TYPE, &params).await
    }

    /// A new access token from a refresh token (RFC 6749 §6), for the scope first granted or a
    /// narrower `scope`. The response's refresh token is the one to use next: the server's new
    /// one if it rotates them, else `refresh_token` itself.
    ///
    /// Returned as the standard [`TokenResponse`], not `T`: a server that rotates refresh
    /// tokens has spent the old one, so the new one must never be lost to a response lacking a
    /// member `T` requires (vendors often send their extra members only with the code
    /// exchange). Decode the extra members afterwards if you need them:
    /// `WithFields::<F>::from_token_response(token.clone())`.
    pub async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        scope: Option<&Scope>,
    ) -> Result<TokenResponse> {
        self.inner.token.refresh(refresh_token, scope).await
    }

    /// Revokes a refresh token (RFC 7009, `token_type_hint=refresh_token`); at most servers this
    /// ends the access tokens issued with it too. An unknown token is success.
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        let inner = &*self.inner;
        inner
            .token
            .revoke(
                inner.revocation_endpoint.as_ref(),
                token.expose_secret(),
                Some(TokenTypeHint::RefreshToken),
            )
            .await
    }

    /// Revokes an access token (RFC 7009, `token_type_hint=access_token`). An unknown token is
    /// success.
    pub async fn revoke(&self, token: &AccessToken) -> Result<()> {
        let inner = &*self.inner;
        inner
            .token
            .revoke(
                inner.revocation_endpoint.as_ref(),
                token.expose_secret(),
                Some(TokenTypeHint::AccessToken),
            )
            .await
    }

    /// sttp-oauth2's logout link: the logout endpoint with `client_id` and, if given,
    /// `redirect_uri`. Fails without a logout endpoint.
    pub fn logout_link(&self, redirect_uri: Option<&Url>) -> Result<Url> {
        Ok(logout_link(self.logout_endpoint()?, self.client_id(), redirect_uri))
    }

    /// An OpenID Connect RP-initiated logout link to the logout (end-session) endpoint.
    pub fn rp_logout_link(&self, request: RpLogout<'_>) -> Result<Url> {
        Ok(request.url(self.logout_endpoint()?))
    }

    fn logout_endpoint(&self) -> Result<&Url> {
        self.inner.logout_endpoint.as_ref().ok_or_else(|| {
            crate::config_error::ConfigError::missing(
                crate::config_error::EndpointKind::EndSession,
                "no logout endpoint configured (builder: logout_endpoint)",
            )
            .into()
        })
    }
}

impl<T> fmt::Debug for AuthorizationCodeProvider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("AuthorizationCodeProvider")
            .field("authorization_endpoint", &inner.authorization_endpoint)
            .field("redirect_uri", &inner.redirect_uri.as_str())
            .field("token", &inner.token)
            .field("revocation_endpoint", &inner.revocation_endpoint)
            .field("issuer", &inner.issuer.as_ref().map(Issuer::as_str))
            .field("pkce", &inner.pkce)
            .finish_non_exhaustive()
    }
}

/// Options of an [`AuthorizationCodeProvider`]. Every option has a default; see each method.
#[must_use]
pub struct AuthorizationCodeProviderBuilder<T = TokenResponse> {
    authorization_endpoint: Endpoint,
    token_endpoint: Endpoint,
    redirect_uri: Url,
    client: ClientAuth,
    transport: Transport,
    revocation_endpoint: Option<Endpoint>,
    logout_endpoint: Option<Url>,
    issuer: Option<Issuer>,
    require_issuer: bool,
    pkce: PkcePolicy,
    extra_params: Vec<(String, String)>,
    response: PhantomData<fn() -> T>,
}

impl<T: FromTokenResponse> AuthorizationCodeProviderBuilder<T> {
    /// Hands token responses back as `U` (for instance [`WithFields<F>`](crate::WithFields)).
    /// Default: [`TokenResponse`].
    pub fn token_response<U: FromTokenResponse>(self) -> AuthorizationCodeProviderBuilder<U> {
        AuthorizationCodeProviderBuilder {
            authorization_endpoint: self.authorization_endpoint,
            token_endpoint: self.token_endpoint,
            redirect_uri: self.redirect_uri,
            client: self.client,
            transport: self.transport,
            revocation_endpoint: self.revocation_endpoint,
            logout_endpoint: self.logout_endpoint,
            issuer: self.issuer,
            require_issuer: self.require_issuer,
            pkce: self.pkce,
            extra_params: self.extra_params,
            response: PhantomData,
        }
    }

    /// The revocation endpoint (RFC 7009). Default: none (from discovery: the server's).
    pub fn revocation_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.revocation_endpoint = Some(endpoint);
        self
    }

    /// The logout endpoint, for [`logout_link`](AuthorizationCodeProvider::logout_link).
    /// Default: none (from discovery: the end-session endpoint; from a preset: its logout path).
    pub fn logout_endpoint(mut self, endpoint: Url) -> Self {
        self.logout_endpoint = Some(endpoint);
        self
    }

    /// The issuer: a callback's `iss` (RFC 9207), when present, must then be exactly this.
    /// Default: none (from discovery: the server's issuer).
    pub fn issuer(mut self, issuer: Issuer) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Whether a callback without `iss` is refused ([`CallbackError::Missing`]`("iss")`), for a
    /// server known to send it: this closes mix-up attacks. Needs an [`issuer`](Self::issuer).
    /// Default: `false` (from discovery: what the server's metadata says,
    /// `authorization_response_iss_parameter_supported`).
    pub fn require_issuer(mut self, required: bool) -> Self {
        self.require_issuer = required;
        self
    }

    /// PKCE with the `plain` method, for a server that cannot do `S256`. Anyone who sees the
    /// login link can then redeem the code.
    pub fn danger_pkce_plain(mut self) -> Self {
        self.pkce = PkcePolicy::Plain;
        self
    }

    /// No PKCE at all, for a server that refuses the parameters. The code is then protected by
    /// the client secret alone (and not at all for a public client).
    pub fn danger_without_pkce(mut self) -> Self {
        self.pkce = PkcePolicy::Off;
        self
    }

    /// An extra form parameter for every token request (`resource`, `audience`, ...). Default:
    /// none. Parameters the provider sets itself are refused by [`build`](Self::build).
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// The largest response body read, in bytes. Default: 1 MiB.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.transport.body_limit = bytes;
        self
    }

    /// The clock that stamps token requests. Default: [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.transport.clock = clock;
        self
    }

    /// Checks the options and builds the provider. The redirect URI must be absolute and have no
    /// fragment (RFC 6749 §3.1.2); its scheme may be a native app's own.
    pub fn build(self) -> Result<AuthorizationCodeProvider<T>> {
        check_extra_params(&self.extra_params, RESERVED_TOKEN_PARAMS)?;
        check_body_limit(self.transport.body_limit)?;
        if self.redirect_uri.fragment().is_some() {
            return Err(crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::InvalidRedirectUri,
                "the redirect URI must not have a fragment (RFC 6749 §3.1.2)",
            )
            .into());
        }
        if self.redirect_uri.cannot_be_a_base() && self.redirect_uri.scheme() != "urn" {
            return Err(crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::InvalidRedirectUri,
                "the redirect URI must be an absolute URI with a path",
            )
            .into());
        }
        if self.require_issuer && self.issuer.is_none() {
            return Err(crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::InvalidSetting,
                "require_issuer needs an issuer to compare with",
            )
            .into());
        }
        // RFC 6749 §3.1: a query on the authorization endpoint is kept, so it must not hold a
        // parameter the login link sets (that would send it twice).
        let preset: Vec<(String, String)> = self
            .authorization_endpoint
            .url()
            .query_pairs()
            .map(|(n, _)| (n.into_owned(), String::new()))
            .collect();
        check_extra_params(&preset, login::RESERVED).map_err(|_| {
            crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::ReservedParameter,
                "the authorization endpoint's query repeats itself or sets a parameter the login link sets",
            )
        })?;
        Ok(AuthorizationCodeProvider {
            inner: Arc::new(Inner {
                authorization_endpoint: self.authorization_endpoint,
                redirect_uri: self.redirect_uri,
                token: TokenEndpoint {
                    endpoint: self.token_endpoint,
                    auth: self.client,
                    transport: self.transport,
                    extra_params: self.extra_params,
                    retry: None,
                },
                revocation_endpoint: self.revocation_endpoint,
                logout_endpoint: self.logout_endpoint,
                issuer: self.issuer,
                require_issuer: self.require_issuer,
                pkce: self.pkce,
            }),
            response: PhantomData,
        })
    }
}

impl<T> fmt::Debug for AuthorizationCodeProviderBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeProviderBuilder")
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
