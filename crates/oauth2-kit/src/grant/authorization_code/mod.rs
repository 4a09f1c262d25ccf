//! The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636): the login link, the
//! callback, the code exchange and logout links, in one provider type (sttp-oauth2's
//! `AuthorizationCodeProvider`). Its tokens are refreshed and revoked by the client's
//! [`refresh`](crate::OAuth2Client::refresh) and [`revocation`](crate::OAuth2Client::revocation)
//! operations, as every grant's are.

mod callback;
mod login;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use url::Url;

pub use self::callback::{Callback, CallbackError};
pub use self::login::{LoginLink, LoginLinkBuilder, MIN_STATE_LEN, PendingLogin};

use crate::config_error::{ConfigError, EndpointKind};
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::extra_fields::FromTokenResponse;
use crate::form::check_extra_params;
use crate::grant::token_endpoint::{Replay, TokenEndpoint, convert};
use crate::issuer::Issuer;
use crate::logout::{RpLogout, logout_link};
use crate::pkce::PkceMethod;
use crate::secret::{AuthorizationCode, PkceVerifier};
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "authorization_code";

/// Token request parameters the provider sets itself: refused as extra parameters.
pub(crate) const RESERVED_PARAMS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
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
/// for tokens, and builds logout links. Obtained from
/// [`OAuth2Client::authorization_code`](crate::OAuth2Client::authorization_code).
///
/// Generic over what a token response is handed back as: [`TokenResponse`] by default,
/// [`WithFields<F>`](crate::WithFields) to have a server's own members typed (see
/// [`token_response`](AuthorizationCodeProviderBuilder::token_response)). Cheap to clone.
///
/// ```no_run
/// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
/// use oauth2_kit::grant::authorization_code::Callback;
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
/// let server = AuthorizationServer::new()
///     .authorization("https://auth.example.com/authorize".parse()?)
///     .token("https://auth.example.com/token".parse()?);
/// let client = OAuth2Client::new(server, ClientAuth::new("web-app", "web-secret"), http);
/// let provider = client.authorization_code("https://app.example.com/callback".parse()?)?.build()?;
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
///     let token = client.refresh()?.refresh(refresh_token, None).await?;
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
    /// The end-session endpoint, or why the server's cannot be used.
    logout_endpoint: Option<Result<Endpoint, ConfigError>>,
    issuer: Option<Issuer>,
    require_issuer: bool,
    pkce: PkcePolicy,
    /// The pushed authorization request endpoint (or why the server's cannot be used), and
    /// whether the server takes login links only that way.
    pushed: Pushed,
    /// How ID tokens are validated, or why they cannot be.
    #[cfg(feature = "jwt")]
    id_tokens: IdTokens,
}

/// The ID token validator, or why there is none (no issuer, no key set): an error only when an
/// ID token arrives.
#[cfg(feature = "jwt")]
pub(crate) type IdTokens = std::result::Result<crate::jwt::IdTokenValidator, ConfigError>;

/// Where login links' parameters are pushed (RFC 9126).
#[derive(Clone)]
pub(crate) struct Pushed {
    pub(crate) endpoint: Option<std::result::Result<Endpoint, ConfigError>>,
    pub(crate) required: bool,
}

impl<T> Clone for AuthorizationCodeProvider<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), response: PhantomData }
    }
}

impl AuthorizationCodeProvider {
    /// The builder [`OAuth2Client::authorization_code`](crate::OAuth2Client::authorization_code)
    /// hands out: the server's endpoints and issuer, the client's token endpoint settings.
    pub(crate) fn builder(
        authorization_endpoint: Endpoint,
        redirect_uri: Url,
        token: TokenEndpoint,
        logout_endpoint: Option<Result<Endpoint, ConfigError>>,
        issuer: Option<(Issuer, bool)>,
        pushed: Pushed,
        #[cfg(feature = "jwt")] id_tokens: IdTokens,
    ) -> AuthorizationCodeProviderBuilder {
        let (issuer, require_issuer) = match issuer {
            Some((issuer, required)) => (Some(issuer), required),
            None => (None, false),
        };
        AuthorizationCodeProviderBuilder {
            authorization_endpoint,
            redirect_uri,
            token,
            logout_endpoint,
            issuer,
            require_issuer,
            pkce: PkcePolicy::S256,
            pushed,
            #[cfg(feature = "jwt")]
            id_tokens,
            response: PhantomData,
        }
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
    /// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
    /// # fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
    /// let server = AuthorizationServer::new()
    ///     .authorization("https://auth.example.com/authorize?tenant=t1".parse()?)
    ///     .token("https://auth.example.com/token".parse()?);
    /// let client = OAuth2Client::new(server, ClientAuth::new("app", "secret"), http);
    /// let provider = client.authorization_code("https://app.example.com/cb".parse()?)?.build()?;
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
        self.exchange(code, pending.pkce_verifier(), pending.nonce()).await
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
    /// [`complete_login`](Self::complete_login) unless you check the callback yourself: this
    /// does not know the login's nonce, so an ID token is validated without it.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce_verifier: Option<&PkceVerifier>,
    ) -> Result<T> {
        self.exchange(code, pkce_verifier, None).await
    }

    /// Trades `code` for tokens and validates the ID token that came with them, if one did
    /// (with the login's `nonce`, when known).
    async fn exchange(
        &self,
        code: &AuthorizationCode,
        pkce_verifier: Option<&PkceVerifier>,
        nonce: Option<&crate::secret::Nonce>,
    ) -> Result<T> {
        let inner = &*self.inner;
        let mut params = vec![("code", code.expose_secret()), ("redirect_uri", inner.redirect_uri.as_str())];
        if let Some(verifier) = pkce_verifier {
            params.push(("code_verifier", verifier.expose_secret()));
        }
        // A code is good for one exchange: retried (when the client has a retry policy) only
        // after failures the server surely did not act on.
        let token = inner.token.request_retrying(GRANT_TYPE, &params, Replay::UnprocessedOnly).await?;
        #[cfg(feature = "jwt")]
        let token = match token.id_token() {
            None => token,
            Some(id_token) => {
                let validator = inner.id_tokens.as_ref().map_err(Clone::clone)?;
                let expected = crate::jwt::Expected {
                    nonce,
                    access_token: Some(token.access_token()),
                    code: Some(code),
                };
                let claims = validator.validate(id_token, expected).await?;
                token.with_id_token_claims(claims)
            }
        };
        #[cfg(not(feature = "jwt"))]
        let _ = nonce;
        convert(token)
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
        match &self.inner.logout_endpoint {
            Some(Ok(endpoint)) => Ok(endpoint.url()),
            Some(Err(unusable)) => Err(unusable.clone().into()),
            None => Err(ConfigError::missing(
                EndpointKind::EndSession,
                "the server has no end-session endpoint (AuthorizationServer::end_session)",
            )
            .into()),
        }
    }
}

impl<T> fmt::Debug for AuthorizationCodeProvider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("AuthorizationCodeProvider")
            .field("authorization_endpoint", &inner.authorization_endpoint)
            .field("redirect_uri", &inner.redirect_uri.as_str())
            .field("token", &inner.token)
            .field("issuer", &inner.issuer.as_ref().map(Issuer::as_str))
            .field("pkce", &inner.pkce)
            .finish_non_exhaustive()
    }
}

/// Options only the authorization code grant has, from
/// [`OAuth2Client::authorization_code`](crate::OAuth2Client::authorization_code): the type token
/// responses are handed back as, and PKCE. Every option has a default; see each method.
#[must_use]
pub struct AuthorizationCodeProviderBuilder<T = TokenResponse> {
    authorization_endpoint: Endpoint,
    redirect_uri: Url,
    token: TokenEndpoint,
    /// The end-session endpoint, or why the server's cannot be used.
    logout_endpoint: Option<Result<Endpoint, ConfigError>>,
    issuer: Option<Issuer>,
    require_issuer: bool,
    pkce: PkcePolicy,
    pushed: Pushed,
    #[cfg(feature = "jwt")]
    id_tokens: IdTokens,
    response: PhantomData<fn() -> T>,
}

impl<T: FromTokenResponse> AuthorizationCodeProviderBuilder<T> {
    /// Hands token responses back as `U` (for instance [`WithFields<F>`](crate::WithFields)).
    /// Default: [`TokenResponse`].
    pub fn token_response<U: FromTokenResponse>(self) -> AuthorizationCodeProviderBuilder<U> {
        AuthorizationCodeProviderBuilder {
            authorization_endpoint: self.authorization_endpoint,
            redirect_uri: self.redirect_uri,
            token: self.token,
            logout_endpoint: self.logout_endpoint,
            issuer: self.issuer,
            require_issuer: self.require_issuer,
            pkce: self.pkce,
            pushed: self.pushed,
            #[cfg(feature = "jwt")]
            id_tokens: self.id_tokens,
            response: PhantomData,
        }
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

    /// Checks the options and builds the provider. The redirect URI must be absolute and have no
    /// fragment (RFC 6749 §3.1.2); its scheme may be a native app's own.
    pub fn build(self) -> Result<AuthorizationCodeProvider<T>> {
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
                token: self.token,
                logout_endpoint: self.logout_endpoint,
                issuer: self.issuer,
                require_issuer: self.require_issuer,
                pkce: self.pkce,
                pushed: self.pushed,
                #[cfg(feature = "jwt")]
                id_tokens: self.id_tokens,
            }),
            response: PhantomData,
        })
    }
}

impl<T> fmt::Debug for AuthorizationCodeProviderBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeProviderBuilder")
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
