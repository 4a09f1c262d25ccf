//! A resource server's view: introspect every request's token, with and without a cache, against
//! the embedded testkit server.
//!
//! ```text
//! cargo run --example introspection -- [REQUESTS]
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use anyhow::Context;
use oauth2_kit::{AccessToken, ClientAuth, OAuth2Client, TokenIntrospection};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()
        .context("REQUESTS must be a number")?
        .unwrap_or(1_000);
    let server = TestServer::start()?;
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let oauth2 =
        OAuth2Client::new(server.authorization_server(), auth, oauth2_kit_reqwest::ReqwestClient::new()?);
    let token = oauth2.client_credentials()?.request_token(None).await?;
    // What a resource server needs: the introspection endpoint and its credentials, nothing
    // else (`IntrospectionClient::new(endpoint, auth, http)` builds the same without a token URL).
    let client = oauth2.introspection()?;
    let forged = AccessToken::new("made-up");

    let cached = oauth2_kit_cache_tokio::caching_introspection(client.clone());
    let runs: [(&str, &dyn TokenIntrospection); 2] = [("uncached", &client), ("cached", &cached)];
    for (name, introspection) in runs {
        server.reset_counts();
        for i in 0..requests {
            let presented = if i % 10 == 9 { &forged } else { token.access_token() };
            introspection.introspect(presented).await?;
        }
        println!(
            "{name:>8}: {requests} requests (1 in 10 with a forged token) -> {} introspection requests",
            server.requests(Route::Introspection)
        );
    }
    println!("cache: {} hits", cached.hits());
    Ok(())
}
