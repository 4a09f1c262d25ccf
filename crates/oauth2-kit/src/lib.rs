//! An OAuth 2.0 client library that gets, caches, attaches and checks access tokens, over any
//! HTTP client and any async runtime.
//!
//! This crate holds the protocol: the grants, introspection, revocation, discovery, the token,
//! scope, secret and error types, the caching state machine and the bearer client. It depends
//! on no async runtime and no HTTP client; the other crates of the project supply those.
//!
//! # Which crate
//!
//! | you need | add |
//! |---|---|
//! | the protocol, types and traits (always) | `oauth2-kit` (feature `tower`: a [`tower`](https://docs.rs/tower) layer that attaches tokens) |
//! | an HTTP client | `oauth2-kit-reqwest` (reqwest, tokio; feature `middleware`: a `reqwest-middleware` bearer middleware) or `oauth2-kit-isahc` (libcurl, any runtime) |
//! | tokens reused until they expire | `oauth2-kit-cache-tokio`, `oauth2-kit-cache-async-std` or `oauth2-kit-cache-moka` |
//! | one token for a fleet of replicas | `oauth2-kit-cache-redis`, with a caching crate |
//! | to check the tokens your service receives | `oauth2-kit-resource-server` (a tower layer; feature `axum`: an extractor) and this crate's feature `jwt` |
//! | an authorization server in your tests | `oauth2-kit-testkit` (dev-dependency) |
//!
//! # One client, every operation
//!
//! An [`OAuth2Client`] is built once from the [`AuthorizationServer`] (endpoints given one by
//! one, from a [preset](presets), or [discovered](OAuth2Client::discover)), the client's
//! [`ClientAuth`], an [`http::HttpClient`] and the settings every operation shares; every
//! operation is obtained from it the same way, and a missing endpoint is an error when the
//! operation is obtained, before anything is sent.
//!
//! ```no_run
//! use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client, Scope};
//! # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static) -> Result<(), Box<dyn std::error::Error>> {
//! // let http = oauth2_kit_reqwest::ReqwestClient::new()?;  // or oauth2_kit_isahc::IsahcClient::new()?
//! let server = AuthorizationServer::new()
//!     .token("https://auth.example.com/oauth2/token".parse()?)
//!     .introspection("https://auth.example.com/oauth2/introspect".parse()?);
//! let client = OAuth2Client::new(server, ClientAuth::new("my-service", "my-secret"), http);
//!
//! let token = client.client_credentials()?.request_token(Some(&"read write".parse::<Scope>()?)).await?;
//! let active = client.introspection()?.introspect(token.access_token()).await?.active;
//! println!("{} token, expires in {:?}, active: {active}", token.token_type(), token.expires_in());
//! # Ok(()) }
//! ```
//!
//! | operation | obtained with | a guide page |
//! |---|---|---|
//! | client credentials (an [`AccessTokenProvider`]) | [`client_credentials()`](OAuth2Client::client_credentials) | [`guide::client_credentials`] |
//! | password | [`password()`](OAuth2Client::password) | [`guide::password`] |
//! | authorization code with PKCE | [`authorization_code(redirect_uri)`](OAuth2Client::authorization_code) | [`guide::authorization_code`] |
//! | refresh | [`refresh()`](OAuth2Client::refresh) | [`guide::authorization_code`] |
//! | device flow | [`device()`](OAuth2Client::device) | [`guide::device_flow`] |
//! | introspection (a [`TokenIntrospection`]) | [`introspection()`](OAuth2Client::introspection) | [`guide::introspection`] |
//! | revocation | [`revocation()`](OAuth2Client::revocation) | [`guide::client_credentials`] |
//! | UserInfo | [`userinfo()`](OAuth2Client::userinfo) | [`guide::userinfo`] |
//! | JWT bearer grant (an [`AccessTokenProvider`]) | [`jwt_bearer(source)`](OAuth2Client::jwt_bearer) | [`guide::jwt_bearer`] |
//! | token exchange | [`token_exchange()`](OAuth2Client::token_exchange) | [`guide::token_exchange`] |
//! | the server's key set (feature `jwt`) | `jwks()` | [`guide::resource_server`] |
//! | JWT access tokens checked (feature `jwt`) | `jwt_access_tokens(audience)` | [`guide::resource_server`] |
//!
//! The client authenticates with a secret (`client_secret_basic`, `client_secret_post`), a JWT
//! signed with it (`client_secret_jwt`) or with its private key (`private_key_jwt`: keys in
//! memory with the `signing` feature, or in a KMS behind your own [`signing::JwtSigner`]); see
//! [`guide::client_authentication`]. Login links can go through pushed authorization requests,
//! and tokens can be asked for resources (RFC 8707): [`guide::authorization_code`].
//!
//! # Caching, and attaching tokens to requests
//!
//! Any [`AccessTokenProvider`] can be cached: `oauth2_kit_cache_tokio::caching(provider)` (or
//! the async-std or moka crate's) hands out one token to every caller until it nears its end,
//! refreshes it in the background, and keeps serving it through an outage while it is valid
//! ([`guide::caching`]). A [`bearer::BearerClient`] sends every request of an HTTP client with
//! `Authorization: Bearer <token>`, refuses to send a token to another origin or over plain
//! `http`, and recovers once from a rejected token ([`guide::bearer_client`]):
//!
//! ```no_run
//! use oauth2_kit::bearer::BearerClient;
//! # async fn demo(http: impl oauth2_kit::http::HttpClient + Clone + 'static) -> Result<(), Box<dyn std::error::Error>> {
//! let api = BearerClient::client_credentials(
//!     "https://auth.example.com/oauth2/token".parse()?,
//!     "my-service",
//!     "my-secret",
//!     Some("read".parse()?),
//!     http,
//! );
//! let request = http::Request::get("https://api.example.com/orders").body(bytes::Bytes::new())?;
//! let response = api.execute(request).await?;
//! # drop(response); Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - Secrets ([`ClientSecret`], [`AccessToken`], [`RefreshToken`], ...) never appear in `Debug`,
//!   `Display`, error messages or traces, in any spelling a server could echo them back in, and
//!   are zeroized on drop.
//! - Bad input from a server gives a typed [`Error`], never a panic or a hang: the crate denies
//!   `unwrap`, `expect`, `panic!`, unchecked indexing and `unsafe`, bounds every body it reads,
//!   and clamps server-sent lifetimes so expiry arithmetic cannot overflow
//!   ([`guide::errors`]).
//! - Endpoints must be `https` (plain `http` only on loopback, or by explicit opt-in).
//!
//! # The guide
//!
//! The [`guide`] has one page per topic, each with examples that run against the embedded
//! authorization server of `oauth2-kit-testkit`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
pub mod bearer;
pub mod cache;
mod challenge;
#[cfg(feature = "jwt")]
mod claims;
mod client;
mod client_auth;
mod clock;
mod config_error;
mod confirmation;
mod decode;
pub mod discovery;
pub mod dpop;
mod endpoint;
mod error;
mod excerpt;
mod exchange;
mod extra_fields;
mod flight;
mod form;
pub mod grant;
// The guide's examples use the other crates of the project: they run as the workspace's
// doctests, not this crate's.
#[cfg(not(doctest))]
pub mod guide;
pub mod http;
mod introspection;
mod issuer;
#[cfg(feature = "jwt")]
mod jws;
pub mod jwt;
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
pub mod signing;
mod sync;
mod token;
mod token_type;
pub mod userinfo;

pub use async_trait::async_trait;

pub use crate::client::{AuthorizationServer, OAuth2Client, OAuth2ClientBuilder};
pub use crate::client_auth::{AssertionAudience, AuthMethod, ClientAuth};
pub use crate::clock::{Clock, SystemClock};
pub use crate::config_error::{ConfigError, ConfigErrorKind, EndpointKind};
pub use crate::confirmation::Confirmation;
pub use crate::decode::{DecodeError, MAX_LIFETIME};
pub use crate::endpoint::Endpoint;
pub use crate::error::{Error, ErrorCode, ErrorResponse, OAuth2Error, Result};
pub use crate::extra_fields::{FromTokenResponse, WithFields};
pub use crate::grant::RefreshClient;
pub use crate::grant::authorization_code::AuthorizationCodeProvider;
pub use crate::grant::client_credentials::ClientCredentials;
pub use crate::grant::device_code::DeviceCodeClient;
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
    AccessToken, Assertion, AuthorizationCode, ClientId, ClientSecret, DeviceCode, IdToken, LoginState,
    Nonce, Password, PkceVerifier, RefreshToken,
};
pub use crate::token::{TokenResponse, TokenType};
pub use crate::userinfo::UserInfoClient;

/// Re-exports of the crates that appear in this crate's public API, so users and adapters use the
/// same versions.
pub mod reexports {
    pub use bytes;
    pub use http;
    pub use url;
}

#[cfg(test)]
mod layering_tests;
