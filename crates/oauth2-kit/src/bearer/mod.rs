//! Requests that carry an access token: the bearer client, and its integrations.
//!
//! - [`BearerClient`] wraps any [`HttpClient`](crate::http::HttpClient) and is one.
//! - With the `tower` feature, `BearerLayer` wraps any `tower::Service` over `http::Request`.
//! - `oauth2-kit-reqwest` (feature `middleware`) has a `reqwest_middleware::Middleware`.
//!
//! All three drive the same [`BearerAuth`]: the token, the origins trusted with it, and the
//! recovery from a rejected token (`401` with a `Bearer` challenge, parsed by [`Challenge`]).

mod auth;
mod client;
mod replay;
mod target;
#[cfg(feature = "tower")]
mod tower;

pub use crate::bearer::auth::{Authorization, BearerAuth, BearerAuthBuilder};
pub use crate::bearer::client::BearerClient;
pub use crate::bearer::target::{Origin, RequestTarget};
#[cfg(feature = "tower")]
pub use crate::bearer::tower::{
    BearerLayer, BearerService, BearerServiceError, CloneBody, NoReplay, ReplayBody,
};
pub use crate::challenge::{Challenge, ChallengeError};
pub use crate::error::{BearerError, OriginText};
