//! Against the embedded testkit server, through both HTTP adapters: every flow, the bearer
//! client over sockets, bad input from a hostile server, and a soak.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod bad_input;
mod bearer;
mod dpop;
mod flows;
mod grants;
mod jwt;
mod jwt_bearer;
mod mutual_tls;
mod pushed_authorization;
mod recovery;
mod redirects;
mod signed_assertions;
mod soak;
mod token_exchange;
