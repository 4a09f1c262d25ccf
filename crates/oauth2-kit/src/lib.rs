//! # oauth2-kit
//!
//! An OAuth 2.0 client that gets, checks and revokes access tokens over any HTTP client and any
//! async runtime.
//!
//! The core crate holds the protocol: one [`OAuth2Client`] per authorization server, from which
//! every operation is obtained the same way (client credentials, password, authorization code,
//! refresh, device flow, introspection, revocation, UserInfo), the token, scope, secret and
//! error types, and the contracts the other crates implement:
//!
//! - [`http::HttpClient`]: how requests travel. Adapters: `oauth2-kit-reqwest`,
//!   `oauth2-kit-isahc`.
//! - [`AccessTokenProvider`]: anything that hands out tokens (a grant client, a cache).
//! - [`TokenIntrospection`]: anything that can say whether a token is active.
//!
//! It depends on no async runtime and no HTTP client.
//!
//! The [`guide`] has one page per topic (client credentials, caching, the bearer client, the
//! other grants, introspection, discovery, HTTP clients, errors, the testkit), each with examples
//! that run.
//!
//! ## Client credentials in five lines
//!
//! ```no_run
//! use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client, Scope};
//! # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
//! // let http = oauth2_kit_reqwest::ReqwestClient::new()?;  // or oauth2_kit_isahc::IsahcClient::new()?
//! let server = AuthorizationServer::new().token("https://auth.example.com/oauth2/token".parse()?);
//! let client = OAuth2Client::new(server, ClientAuth::new("my-service", "my-secret"), http);
//! let token = client.client_credentials()?.request_token(Some(&"read write".parse::<Scope>()?)).await?;
//! println!("{} token, expires in {:?}", token.token_type(), token.expires_in());
//! # Ok(()) }
//! ```
//!
//! ## Guarantees
//!
//! - Secrets ([`ClientSecret`], [`AccessToken`], [`RefreshToken`], ...) never appear in `Debug`,
//!   `Display`, error messages or traces, and are zeroized on drop.
//! - Bad input from a server gives a typed [`Error`], never a panic: the crate denies
//!   `unwrap`, `expect`, `panic!`, unchecked indexing and `unsafe`, and clamps server-sent
//!   lifetimes so expiry arithmetic cannot overflow.
//! - Endpoints must be `https` (plain `http` only on loopback, or by explicit opt-in).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
pub mod bearer;
pub mod cache;
mod challenge;
mod client;
mod client_auth;
mod clock;
mod config_error;
mod decode;
pub mod discovery;
mod endpoint;
mod error;
mod excerpt;
mod exchange;
mod extra_fields;
mod form;
pub mod grant;
// The guide's examples use the other crates of the project: they run as the workspace's
// doctests, not this crate's.
#[cfg(not(doctest))]
pub mod guide;
pub mod http;
mod introspection;
mod issuer;
pub mod logout;
pub mod pkce;
pub mod presets;
mod provider;
mod random;
mod redact;
pub mod response;
mod retry;
mod revocation;
pub mod runtime;
mod scope;
mod secret;
mod sync;
mod token;
mod token_type;
pub mod userinfo;

pub use async_trait::async_trait;

pub use crate::client::{AuthorizationServer, OAuth2Client, OAuth2ClientBuilder};
pub use crate::client_auth::{AuthMethod, ClientAuth};
pub use crate::clock::{Clock, SystemClock};
pub use crate::config_error::{ConfigError, ConfigErrorKind, EndpointKind};
pub use crate::decode::{DecodeError, MAX_LIFETIME};
pub use crate::endpoint::{Endpoint, is_loopback};
pub use crate::error::{Error, ErrorCode, ErrorResponse, OAuth2Error, Result};
pub use crate::extra_fields::{FromTokenResponse, WithFields};
pub use crate::grant::RefreshClient;
pub use crate::grant::authorization_code::AuthorizationCodeProvider;
pub use crate::grant::client_credentials::ClientCredentials;
pub use crate::grant::password::{PasswordGrant, PasswordProvider};
pub use crate::introspection::{
    IntrospectionClient, IntrospectionResponse, TokenIntrospection, TokenTypeHint,
};
pub use crate::issuer::Issuer;
pub use crate::provider::AccessTokenProvider;
pub use crate::retry::RetryPolicy;
pub use crate::revocation::RevocationClient;
pub use crate::scope::{Scope, ScopeError, ScopeErrorKind};
pub use crate::secret::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, DeviceCode, IdToken, LoginState, Nonce, Password,
    PkceVerifier, RefreshToken,
};
pub use crate::token::{TokenResponse, TokenType};

/// Re-exports of the crates that appear in this crate's public API, so users and adapters use the
/// same versions.
pub mod reexports {
    pub use bytes;
    pub use http;
    pub use url;
}

#[cfg(test)]
mod layering_tests;
