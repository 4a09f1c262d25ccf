//! How many token requests do N calls cost? Runs a caching provider (tokio) against the
//! embedded testkit server, with tokens that live 4 seconds.
//!
//! ```text
//! cargo run --example caching -- [CALLS] [SECONDS]
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use anyhow::Context;
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{Route, TestClient, TestServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let calls: usize =
        args.next().map(|a| a.parse()).transpose().context("CALLS must be a number")?.unwrap_or(10_000);
    let seconds: u64 =
        args.next().map(|a| a.parse()).transpose().context("SECONDS must be a number")?.unwrap_or(10);

    let server = TestServer::builder()
        .client(TestClient::new("demo", "demo-secret").token_lifetime(Duration::from_secs(4)))
        .start()?;
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;
    let client =
        OAuth2Client::new(server.authorization_server(), ClientAuth::new("demo", "demo-secret"), http);
    let provider = oauth2_kit_cache_tokio::caching(client.client_credentials()?);

    // `calls` calls spread over `seconds` seconds, from 50 concurrent tasks.
    let per_task = calls.div_ceil(50);
    let pause = Duration::from_secs(seconds) / u32::try_from(per_task.max(1)).unwrap_or(u32::MAX);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    provider.get(None).await?;
                    tokio::time::sleep(pause).await;
                }
                Ok::<_, oauth2_kit::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }

    let metrics = provider.metrics();
    println!("{} calls over {seconds} s with 4 s tokens", per_task * 50);
    println!("token requests seen by the server: {}", server.requests(Route::Token));
    println!(
        "cache: {} hits, {} stale served, {} misses; requests: {} cold, {} expired, {} background",
        metrics.hits,
        metrics.stale_served,
        metrics.misses,
        metrics.refreshes_absent,
        metrics.refreshes_expired,
        metrics.refreshes_stale
    );
    Ok(())
}
