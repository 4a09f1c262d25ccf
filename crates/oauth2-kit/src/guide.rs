//! The guide: one page per topic, with examples that run (each is compiled and run by the
//! project's tests, against the embedded authorization server of `oauth2-kit-testkit`).
//!
//! | page | what it covers |
//! |---|---|
//! | [`client`] | one client for every operation: the server, the client's authentication, the HTTP client, shared settings |
//! | [`client_credentials`] | the client credentials grant, its settings, introspection and revocation |
//! | [`client_authentication`] | how the client authenticates: secrets, signed assertions, keys, KMS signers |
//! | [`jwt_bearer`] | the JWT bearer grant: service accounts and workload identity |
//! | [`token_exchange`] | token exchange (RFC 8693): delegation, downstream tokens, cached per subject |
//! | [`sender_constrained_tokens`] | DPoP (RFC 9449): tokens bound to the client's key, nonces, logins, caches |
//! | [`caching`] | caching token providers on tokio, async-std and moka: the lifetime model, failures, metrics |
//! | [`bearer_client`] | a client that attaches tokens to every request; the tower layer and the reqwest middleware |
//! | [`fleet_cache`] | one token for a fleet of replicas, through Redis |
//! | [`authorization_code`] | login links with PKCE, callbacks, the code exchange, refresh, logout |
//! | [`password`] | the password grant, and a provider for one user |
//! | [`device_flow`] | the device authorization grant (RFC 8628) |
//! | [`userinfo`] | the OpenID Connect UserInfo endpoint |
//! | [`introspection`] | token introspection for resource servers, cached |
//! | [`resource_server`] | checking the tokens a service receives: the tower layer, JWT access tokens, key rotation, DPoP |
//! | [`discovery`] | endpoints from an issuer (RFC 8414, OpenID Connect Discovery) |
//! | [`http_clients`] | the reqwest and isahc adapters, writing your own, proxies |
//! | [`errors`] | the error model, what to retry, what never appears in a message |
//! | [`testkit`] | the embedded authorization server, for your own tests |
//! | [`cli`] | the `oauth2-kit` command-line tool |

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/client.md"))]
pub mod client {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/client-credentials.md"))]
pub mod client_credentials {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/client-authentication.md"))]
pub mod client_authentication {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/jwt-bearer.md"))]
pub mod jwt_bearer {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/token-exchange.md"))]
pub mod token_exchange {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/sender-constrained-tokens.md"))]
pub mod sender_constrained_tokens {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/caching.md"))]
pub mod caching {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/bearer-client.md"))]
pub mod bearer_client {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/fleet-cache.md"))]
pub mod fleet_cache {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/authorization-code.md"))]
pub mod authorization_code {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/password.md"))]
pub mod password {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/device-flow.md"))]
pub mod device_flow {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/userinfo.md"))]
pub mod userinfo {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/introspection.md"))]
pub mod introspection {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/resource-server.md"))]
pub mod resource_server {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/discovery.md"))]
pub mod discovery {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/http-clients.md"))]
pub mod http_clients {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/errors.md"))]
pub mod errors {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/testkit.md"))]
pub mod testkit {}

#[doc = include_str!(concat!(env!("OUT_DIR"), "/guide/cli.md"))]
pub mod cli {}
