//! The login link (RFC 6749 §4.1.1) and what the client keeps until the user comes back.

use std::fmt;

use url::Url;

use crate::error::Result;
use crate::form::check_extra_params;
use crate::pkce::{Pkce, PkceMethod};
use crate::random::random_urlsafe;
use crate::scope::Scope;
use crate::secret::{LoginState, Nonce, PkceVerifier};

use super::{AuthorizationCodeProvider, PkcePolicy};

/// Query parameters the login link sets itself; extra parameters may not override them.
pub(super) const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "dpop_jkt",
    // RFC 9126 §2.1: never pushed; and a request object is not made here.
    "request_uri",
    "request",
];

impl LoginState {
    /// A new unguessable state: 32 random bytes, base64url.
    pub fn generate() -> Result<Self, crate::config_error::ConfigError> {
        random_urlsafe(32).map(Self::new)
    }

    /// Whether `received` (the callback's `state`) is this state, compared in constant time.
    /// An empty state never matches (a session store that lost the value must not turn the
    /// check off).
    pub fn verify(&self, received: &str) -> bool {
        !received.is_empty() && *self == Self::new(received)
    }
}

impl Nonce {
    /// A new unguessable nonce: 32 random bytes, base64url.
    pub fn generate() -> Result<Self, crate::config_error::ConfigError> {
        random_urlsafe(32).map(Self::new)
    }
}

/// What the client keeps between sending the user to the login link and the callback: the
/// `state` to check, the PKCE verifier to send, the `nonce` to expect in the ID token.
///
/// Store it in the user's session (server side: it holds secrets) and hand it to
/// [`AuthorizationCodeProvider::complete_login`]. To store it elsewhere, take the values out
/// with the getters and rebuild it with [`PendingLogin::new`].
#[derive(Clone)]
pub struct PendingLogin {
    state: LoginState,
    pkce_verifier: Option<PkceVerifier>,
    nonce: Option<Nonce>,
}

impl PendingLogin {
    /// A pending login from stored values.
    pub fn new(state: LoginState, pkce_verifier: Option<PkceVerifier>, nonce: Option<Nonce>) -> Self {
        Self { state, pkce_verifier, nonce }
    }

    /// The `state` sent in the link.
    pub fn state(&self) -> &LoginState {
        &self.state
    }

    /// The PKCE verifier, if the link carried a challenge.
    pub fn pkce_verifier(&self) -> Option<&PkceVerifier> {
        self.pkce_verifier.as_ref()
    }

    /// The `nonce` sent in the link. With the `jwt` feature, `complete_login` checks the ID
    /// token's `nonce` against it (and the whole ID token); without it, check it yourself after
    /// verifying the ID token's signature.
    pub fn nonce(&self) -> Option<&Nonce> {
        self.nonce.as_ref()
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &self.state)
            .field("pkce_verifier", &self.pkce_verifier)
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// A login link and what to keep until the user comes back. `Debug` shows the link without its
/// query (which holds the `state`, the `nonce` and, with `plain` PKCE, the verifier).
#[derive(Clone)]
pub struct LoginLink {
    url: Url,
    pending: PendingLogin,
}

impl LoginLink {
    /// Where to send the user (a redirect, or a link to click).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// What to keep for the callback.
    pub fn pending(&self) -> &PendingLogin {
        &self.pending
    }

    /// The URL and what to keep, apart.
    pub fn into_parts(self) -> (Url, PendingLogin) {
        (self.url, self.pending)
    }
}

impl fmt::Debug for LoginLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        shown.set_query(None);
        f.debug_struct("LoginLink").field("url", &shown.as_str()).field("pending", &self.pending).finish()
    }
}

/// The shortest `state` accepted from [`LoginLinkBuilder::with_state`]: 16 characters.
pub const MIN_STATE_LEN: usize = 16;

/// Options of one login link; see [`AuthorizationCodeProvider::login_link`].
#[must_use]
pub struct LoginLinkBuilder<'a, T> {
    provider: &'a AuthorizationCodeProvider<T>,
    scope: Option<Scope>,
    state: Option<LoginState>,
    nonce: Option<Nonce>,
    pkce: Option<Pkce>,
    extra_params: Vec<(String, String)>,
}

impl<'a, T> LoginLinkBuilder<'a, T> {
    pub(super) fn new(provider: &'a AuthorizationCodeProvider<T>) -> Self {
        Self { provider, scope: None, state: None, nonce: None, pkce: None, extra_params: Vec::new() }
    }

    /// The scope to ask for (`scope`). Default: none, the server's default for the client.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Sends a new random `nonce` (OpenID Connect); it is kept in the [`PendingLogin`].
    pub fn nonce(self) -> Result<Self> {
        Ok(self.with_nonce(Nonce::generate()?))
    }

    /// Sends this `nonce`.
    pub fn with_nonce(mut self, nonce: Nonce) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Sends this `state` instead of a random one (one you derive from your own session, say).
    /// It must be unguessable; [`build`](Self::build) refuses one shorter than
    /// [`MIN_STATE_LEN`] characters.
    pub fn with_state(mut self, state: LoginState) -> Self {
        self.state = Some(state);
        self
    }

    /// Uses this PKCE pair instead of a new one. Its method must be the provider's (`S256`
    /// unless the provider opted into `plain`).
    pub fn with_pkce(mut self, pkce: Pkce) -> Self {
        self.pkce = Some(pkce);
        self
    }

    /// An extra query parameter (`prompt`, `login_hint`, `audience`, ...), sent after the
    /// standard ones in the order added. Parameters the link sets itself are refused by
    /// [`build`](Self::build).
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// The link. Parameters, in this order: `response_type=code`, `client_id`, `redirect_uri`,
    /// `state`, `scope`, `code_challenge`, `code_challenge_method`, `nonce`, the thumbprint of
    /// the client's DPoP key (`dpop_jkt`, RFC 9449 §10, binding the code to it), the client's
    /// resource indicators (`resource`), then the extra ones; parameters already in the
    /// authorization endpoint's query come first and are kept.
    ///
    /// A server whose metadata requires pushed authorization requests (RFC 9126,
    /// `require_pushed_authorization_requests`) takes none of these: then this is a
    /// [`ConfigError`](crate::ConfigError) saying so, and [`push`](Self::push) is the way.
    pub fn build(self) -> Result<LoginLink> {
        let provider = &*self.provider.inner;
        if provider.pushed.required {
            return Err(crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::InvalidSetting,
                "the server requires pushed authorization requests (RFC 9126): make the login link with push()",
            )
            .into());
        }
        let (params, pending) = self.prepare()?;
        let mut url = provider.authorization_endpoint.url().clone();
        url.query_pairs_mut().extend_pairs(&params);
        Ok(LoginLink { url, pending })
    }

    /// The link through a pushed authorization request (RFC 9126): the parameters
    /// [`build`](Self::build) would put in the link are posted to the server's pushed
    /// authorization request endpoint, with the client's authentication, and the link carries
    /// only `client_id` and the `request_uri` the server answers. Nothing of the request shows in
    /// the browser's address bar or history, and the server checks the client before the user
    /// sees a page. Needs the endpoint ([`AuthorizationServer::pushed_authorization`](crate::AuthorizationServer::pushed_authorization),
    /// or discovery).
    pub async fn push(self) -> Result<LoginLink> {
        let provider = &*self.provider.inner;
        let endpoint = match &provider.pushed.endpoint {
            Some(endpoint) => endpoint.clone()?,
            None => {
                return Err(crate::config_error::ConfigError::missing(
                    crate::config_error::EndpointKind::PushedAuthorization,
                    "the authorization server has no pushed authorization request endpoint",
                )
                .into());
            }
        };
        let (params, pending) = self.prepare()?;
        let token = &provider.token;
        // `client_id` belongs to the request (RFC 9126 §2.1); the methods that put credentials in
        // the form add it themselves, once.
        let auth_adds_client_id = token.auth.method() != crate::client_auth::AuthMethod::ClientSecretBasic;
        let mut form = crate::form::Form::new();
        for (name, value) in &params {
            if !(auth_adds_client_id && name == "client_id") {
                form.push(name, value);
            }
        }
        let pushed = token
            .transport
            .post_form(crate::exchange::Operation::PushedAuthorization, &endpoint, form, &token.auth)
            .await?
            .json(|mut object, _| {
                let request_uri = object.required_string("request_uri")?;
                if request_uri.is_empty() {
                    return Err(crate::decode::DecodeError::new(
                        Some("request_uri"),
                        "`request_uri` is empty",
                    ));
                }
                Ok(request_uri)
            })?;
        let mut url = provider.authorization_endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", token.auth.client_id().as_str())
            .append_pair("request_uri", &pushed);
        Ok(LoginLink { url, pending })
    }

    /// The login's parameters in link order, and what the client keeps.
    fn prepare(self) -> Result<(Vec<(String, String)>, PendingLogin)> {
        check_extra_params(&self.extra_params, RESERVED)?;
        let provider = &*self.provider.inner;
        let state = match self.state {
            Some(state) if state.expose_secret().len() < MIN_STATE_LEN => {
                return Err(crate::config_error::ConfigError::new(
                    crate::config_error::ConfigErrorKind::WeakLoginState,
                    format!("a login state needs at least {MIN_STATE_LEN} unguessable characters"),
                )
                .into());
            }
            Some(state) => state,
            None => LoginState::generate()?,
        };
        let pkce = match (provider.pkce, self.pkce) {
            (PkcePolicy::Off, Some(_)) => {
                return Err(crate::config_error::ConfigError::new(
                    crate::config_error::ConfigErrorKind::InvalidPkce,
                    "a PKCE pair was given but the provider sends none (danger_without_pkce)",
                )
                .into());
            }
            (PkcePolicy::Off, None) => None,
            (policy, Some(pkce)) => {
                let expected = policy.method();
                if Some(pkce.method()) != expected {
                    return Err(crate::config_error::ConfigError::new(
                        crate::config_error::ConfigErrorKind::InvalidPkce,
                        format!(
                            "the PKCE pair uses {}, the provider {}",
                            pkce.method().as_str(),
                            expected.map_or("none", PkceMethod::as_str)
                        ),
                    )
                    .into());
                }
                Some(pkce)
            }
            (PkcePolicy::S256, None) => Some(Pkce::s256()?),
            (PkcePolicy::Plain, None) => Some(Pkce::danger_plain()?),
        };
        let mut params: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: &str| params.push((name.to_owned(), value.to_owned()));
        add("response_type", "code");
        add("client_id", provider.token.auth.client_id().as_str());
        add("redirect_uri", provider.redirect_uri.as_str());
        add("state", state.expose_secret());
        if let Some(scope) = &self.scope {
            add("scope", scope.as_str());
        }
        if let Some(pkce) = &pkce {
            add("code_challenge", pkce.challenge());
            add("code_challenge_method", pkce.method().as_str());
        }
        if let Some(nonce) = &self.nonce {
            add("nonce", nonce.expose_secret());
        }
        if let Some(dpop) = &provider.token.dpop {
            add("dpop_jkt", dpop.thumbprint());
        }
        for (name, value) in provider.token.extra_params.iter().filter(|(name, _)| name == "resource") {
            add(name, value);
        }
        for (name, value) in &self.extra_params {
            add(name, value);
        }
        let pending = PendingLogin {
            state,
            pkce_verifier: pkce.map(|pkce| pkce.verifier().clone()),
            nonce: self.nonce,
        };
        Ok((params, pending))
    }
}

impl<T> fmt::Debug for LoginLinkBuilder<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginLinkBuilder")
            .field("scope", &self.scope)
            .field("extra_params", &self.extra_params.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
