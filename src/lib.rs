//! Workspace-level home of the oauth2-kit examples, integration tests and benchmarks.
//!
//! It also compiles the guide: the README and every page of `docs/` are included here as
//! documentation, so `cargo test --doc` runs their Rust snippets and they cannot rot. (The core
//! crate shows the guide's pages in its own documentation, `oauth2_kit::guide`, without running
//! them: their examples use the other crates of the workspace.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Compiles the guide's snippets as doctests.
#[cfg(doctest)]
pub mod guide {
    #[doc = include_str!("../README.md")]
    pub struct Readme;

    #[doc = include_str!("../docs/client.md")]
    pub struct Client;

    #[doc = include_str!("../docs/client-credentials.md")]
    pub struct ClientCredentials;

    #[doc = include_str!("../docs/client-authentication.md")]
    pub struct ClientAuthentication;

    #[doc = include_str!("../docs/jwt-bearer.md")]
    pub struct JwtBearer;

    #[doc = include_str!("../docs/token-exchange.md")]
    pub struct TokenExchange;

    #[doc = include_str!("../docs/sender-constrained-tokens.md")]
    pub struct SenderConstrainedTokens;

    #[doc = include_str!("../docs/caching.md")]
    pub struct Caching;

    #[doc = include_str!("../docs/bearer-client.md")]
    pub struct BearerClient;

    #[doc = include_str!("../docs/authorization-code.md")]
    pub struct AuthorizationCode;

    #[doc = include_str!("../docs/password.md")]
    pub struct PasswordGrant;

    #[doc = include_str!("../docs/userinfo.md")]
    pub struct UserInfo;

    #[doc = include_str!("../docs/device-flow.md")]
    pub struct DeviceFlow;

    #[doc = include_str!("../docs/introspection.md")]
    pub struct Introspection;

    #[doc = include_str!("../docs/resource-server.md")]
    pub struct ResourceServer;

    #[doc = include_str!("../docs/cli.md")]
    pub struct Cli;

    #[doc = include_str!("../docs/fleet-cache.md")]
    pub struct FleetCache;

    #[doc = include_str!("../docs/discovery.md")]
    pub struct Discovery;

    #[doc = include_str!("../docs/errors.md")]
    pub struct Errors;

    #[doc = include_str!("../docs/http-clients.md")]
    pub struct HttpClients;

    #[doc = include_str!("../docs/testkit.md")]
    pub struct Testkit;

    #[doc = include_str!("../docs/testing.md")]
    pub struct Testing;

    #[doc = include_str!("../docs/reliability.md")]
    pub struct Reliability;

    #[doc = include_str!("../docs/performance.md")]
    pub struct Performance;
}
