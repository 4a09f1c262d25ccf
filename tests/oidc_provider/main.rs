//! Against a real authorization server nobody here wrote: the `oidc-provider` npm package
//! (pinned in `tests/oidc-provider/package.json`) on 127.0.0.1, through both HTTP adapters.
//!
//! `scripts/test.sh` starts the server and sets `OIDC_ISSUER`; without it, this test process
//! starts its own server with `tests/oidc-provider/start.sh` (needs node and npm).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod assertion_grants;
mod bearer;
mod cache;
mod client_credentials;
mod discovery;
mod dpop;
mod grants;
mod mutual_tls;
mod pushed_authorization;
mod resource_server;
