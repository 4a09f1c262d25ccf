//! The core over in-process HTTP clients that record what is sent and answer from a script:
//! every grant, introspection, revocation, UserInfo, discovery, retries, the bearer client and
//! its tower layer, decoding vectors of real servers.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod authorization_code;
mod bearer;
mod bearer_tower;
mod client_credentials;
mod device_code;
mod discovery;
mod dpop;
#[cfg(feature = "signing")]
mod jwt;
mod jwt_bearer;
mod retry;
mod shared_store;
mod support;
mod token_exchange;
mod userinfo;
mod vectors;
