//! A resource server's view: introspect every request's token, with and without a cache, against
//! the embedded testkit server.
//!
//! ```text
//! cargo run --example introspection -- [REQUESTS]
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use anyhow::Context;
use oauth2_kit::{AccessToken, ClientCredentials, TokenIntrospection};
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
    let client = ClientCredentials::builder(
        server.token_endpoint(),
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        oauth2_kit_reqwest::ReqwestClient::new()?,
    )
    .introspection_endpoint(server.introspection_endpoint())
    .build()?;
    let token = client.request_token(None).await?;
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
