//! Call a protected API with a bearer client: every request carries a cached token, and a
//! revoked token is replaced transparently.
//!
//! ```text
//! cargo run --example bearer_client
//! ```
//! starts the embedded testkit server (authorization server and protected resource), sends 100
//! requests through a cached bearer client, revokes the token mid-stream and shows the recovery.
//! Against a real API:
//!
//! ```text
//! OAUTH2_CLIENT_SECRET=... cargo run --example bearer_client -- \
//!     --token-url https://auth.example.com/oauth2/token --client-id my-service \
//!     --url https://api.example.com/v1/orders [--scope "orders:read"] [--http reqwest|isahc]
//! ```
//! The client secret comes from `OAUTH2_CLIENT_SECRET`; tokens are never printed.

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use anyhow::{Context, bail};
use bytes::Bytes;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::{ClientAuth, OAuth2Client, Scope};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

use oauth2_kit_test_support::cli;

use cli::http_client;

#[derive(Default)]
struct Options {
    token_url: Option<String>,
    client_id: Option<String>,
    url: Option<String>,
    scope: Option<String>,
    http: String,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options { http: "reqwest".into(), ..Options::default() };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--token-url" => options.token_url = Some(value()?),
            "--client-id" => options.client_id = Some(value()?),
            "--url" => options.url = Some(value()?),
            "--scope" => options.scope = Some(value()?),
            "--http" => options.http = value()?,
            "-h" | "--help" => {
                println!(
                    "usage: bearer_client [--token-url URL --client-id ID --url API_URL] [--scope S] \
                     [--http reqwest|isahc]\n\
                     (secret in OAUTH2_CLIENT_SECRET; without --token-url an embedded server is used)"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_args()?;
    let http = http_client(&options.http)?;
    let scope: Option<Scope> = options.scope.as_deref().map(str::parse).transpose()?;

    if let (Some(token_url), Some(client_id), Some(url)) =
        (&options.token_url, &options.client_id, &options.url)
    {
        let secret =
            std::env::var("OAUTH2_CLIENT_SECRET").context("set OAUTH2_CLIENT_SECRET to the client secret")?;
        // The seed's one-liner, with cached tokens:
        let client = BearerClient::client_credentials_cached(
            token_url.parse()?,
            client_id.as_str(),
            secret,
            scope,
            http,
            oauth2_kit_cache_tokio::caching,
        );
        let response = client.execute(http::Request::get(url.as_str()).body(Bytes::new())?).await?;
        println!("GET {url} -> {}", response.status());
        println!("{}", String::from_utf8_lossy(response.body()).chars().take(500).collect::<String>());
        return Ok(());
    }
    if options.token_url.is_some() || options.client_id.is_some() || options.url.is_some() {
        bail!("--token-url, --client-id and --url go together");
    }

    let server = TestServer::start().context("start the embedded authorization server")?;
    println!("embedded authorization server and API at {}", server.url());
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let oauth2 = OAuth2Client::new(server.authorization_server(), auth, http.clone());
    let tokens = oauth2_kit_cache_tokio::caching(oauth2.client_credentials()?);
    let scope = scope.or(Some("read".parse()?));
    let client = BearerClient::new(http, BearerAuth::new(tokens.clone(), scope));
    let get = || http::Request::get(server.resource_url().as_str()).body(Bytes::new());

    for _ in 0..100 {
        let response = client.execute(get()?).await?;
        anyhow::ensure!(response.status().is_success(), "unexpected {}", response.status());
    }
    println!(
        "100 requests: {} token request(s), {} API requests",
        server.requests(Route::Token),
        server.requests(Route::Resource)
    );

    server.revoke_all_tokens();
    println!("token revoked by the server");
    let response = client.execute(get()?).await?;
    println!(
        "next request: {} after {} token request(s) in all and {} API requests (the 401, then one retry)",
        response.status(),
        server.requests(Route::Token),
        server.requests(Route::Resource)
    );
    println!("cache: {:?}", tokens.metrics());
    Ok(())
}
