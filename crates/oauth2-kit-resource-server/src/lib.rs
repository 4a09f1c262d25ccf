//! The resource-server side of OAuth 2.0: check the access tokens a service receives.
//!
//! A [`TokenLayer`] in front of a service (axum, tonic, hyper: any
//! [`tower`](https://docs.rs/tower) service) takes each request's token, checks it with a
//! [`TokenValidator`], and either passes the request on with the token's claims in its
//! extensions or answers as RFC 6750 §3 says (`401 invalid_token`, `403 insufficient_scope`,
//! ...). Validators:
//!
//! | tokens | validator | cost per request |
//! |---|---|---|
//! | JWT access tokens (RFC 9068) | `JwtAccessTokens`, from `OAuth2Client::jwt_access_tokens(audience)` | one signature check; the issuer's keys fetched once and kept |
//! | opaque tokens | [`Introspected`] over a `CachingIntrospection` | one introspection request per token and lifetime |
//! | both | [`JwtOrIntrospection`] | either |
//!
//! Per-route scopes are a [`RequireScope`] on the route; handlers read the claims from the
//! request's extensions (`AccessTokenClaims`), or with the axum extractor `Claims` (feature
//! `axum`). Sender-constrained tokens are held to their binding: a DPoP-bound token needs a
//! proof of its key ([`TokenLayer::dpop`]), a certificate-bound one the certificate
//! ([`PresentedCertificate`]).
//!
//! ```
//! use axum::{Router, routing::get};
//! use oauth2_kit::{ClientAuth, OAuth2Client};
//! use oauth2_kit_resource_server::{RequireScope, TokenLayer};
//! use oauth2_kit_testkit::TestServer;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = TestServer::builder().jwt_access_tokens(true).start()?;
//! let http = oauth2_kit_reqwest::ReqwestClient::new()?;
//! let issuer = OAuth2Client::discover(&server.issuer(), ClientAuth::public("orders-api"), http).await?;
//!
//! let app: Router = Router::new()
//!     .route("/orders", get(|| async { "orders" }).route_layer(RequireScope::new("orders:read".parse()?)))
//!     .layer(TokenLayer::new(issuer.jwt_access_tokens(server.resource_url().as_str())?).realm("orders"));
//! # drop(app); Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod binding;
mod challenge;
#[cfg(feature = "axum")]
mod extract;
mod layer;
mod validator;

pub use binding::{DpopSettings, PresentedCertificate};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::Claims;
pub use layer::{RequireScope, RequireScopeService, TokenLayer, TokenService};
pub use validator::{Introspected, JwtOrIntrospection, Rejected, TokenValidator};
