//! # oauth2-kit-testkit
//!
//! An OAuth 2.0 authorization server that runs inside your test (or demo) process, and the
//! conformance suite every `oauth2-kit` HTTP adapter must pass.
//!
//! ```
//! use oauth2_kit_testkit::{Fault, Route, TestServer};
//!
//! let server = TestServer::start()?;             // 127.0.0.1, ephemeral port, own thread
//! let token_url = server.token_endpoint();       // hand this to a ClientCredentials client
//! server.inject(Route::Token, Fault::status(503), 1); // the next token request fails
//! # drop(token_url);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The server runs on a thread with its own tokio runtime, so tests on any runtime (tokio,
//! async-std, smol) or none can use it. It stops when dropped.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod background;
pub mod cache_suite;
pub mod conformance;
mod fault;
pub mod introspection_suite;
mod latch;
mod redis_server;
mod scripted_provider;
mod server;
mod virtual_time;

pub use crate::fault::{Fault, Route};
pub use crate::redis_server::RedisServer;
pub use crate::scripted_provider::ScriptedProvider;
#[cfg(feature = "tls")]
pub use crate::server::self_signed_client_certificate;
pub use crate::server::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_DEVICE_CODE_LIFETIME, DEFAULT_PASSWORD,
    DEFAULT_TOKEN_LIFETIME, DEFAULT_USERNAME, TestClient, TestServer, TestServerBuilder, TestUser,
};
pub use crate::virtual_time::VirtualTime;
