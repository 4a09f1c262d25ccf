//! Request a token with the client credentials grant, introspect it, print what came back.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//! starts the embedded testkit authorization server and runs against it. Against a real server:
//!
//! ```text
//! OAUTH2_CLIENT_SECRET=... cargo run --example quickstart -- \
//!     --token-url https://auth.example.com/oauth2/token --client-id my-service \
//!     [--introspection-url URL] [--scope "read write"] [--auth basic|post] [--http reqwest|isahc]
//! ```
//! The client secret is read from the `OAUTH2_CLIENT_SECRET` environment variable, never from
//! the command line (where `ps` and shell history would show it). Tokens are never printed.

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use anyhow::{Context, bail};
use oauth2_kit::{AuthMethod, AuthorizationServer, ClientAuth, Endpoint, OAuth2Client, Scope};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};

use oauth2_kit_test_support::cli;

use cli::http_client;

#[derive(Default)]
struct Options {
    token_url: Option<String>,
    introspection_url: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    auth: AuthMethod,
    http: String,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options { http: "reqwest".into(), ..Options::default() };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--token-url" => options.token_url = Some(value()?),
            "--introspection-url" => options.introspection_url = Some(value()?),
            "--client-id" => options.client_id = Some(value()?),
            "--scope" => options.scope = Some(value()?),
            "--auth" => {
                options.auth = match value()?.as_str() {
                    "basic" => AuthMethod::ClientSecretBasic,
                    "post" => AuthMethod::ClientSecretPost,
                    other => bail!("--auth must be basic or post, not {other}"),
                }
            }
            "--http" => options.http = value()?,
            "-h" | "--help" => {
                println!(
                    "usage: quickstart [--token-url URL --client-id ID] [--introspection-url URL] \
                     [--scope S] [--auth basic|post] [--http reqwest|isahc]\n\
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

    // Either the real server named on the command line, or the embedded one.
    let embedded: Option<TestServer>;
    let (token_url, introspection_url, client_id, secret): (Endpoint, Option<Endpoint>, String, String) =
        match (&options.token_url, &options.client_id) {
            (Some(url), Some(id)) => {
                let secret = std::env::var("OAUTH2_CLIENT_SECRET")
                    .context("set OAUTH2_CLIENT_SECRET to the client secret")?;
                let introspection = options.introspection_url.as_deref().map(str::parse).transpose()?;
                embedded = None;
                (url.parse()?, introspection, id.clone(), secret)
            }
            (None, None) => {
                let server = TestServer::start().context("start the embedded authorization server")?;
                println!("embedded authorization server at {}", server.url());
                let urls = (server.token_endpoint(), Some(server.introspection_endpoint()));
                embedded = Some(server);
                (urls.0, urls.1, DEFAULT_CLIENT_ID.into(), DEFAULT_CLIENT_SECRET.into())
            }
            _ => bail!("--token-url and --client-id go together"),
        };

    // One description of the server, one client authentication, one HTTP client: every
    // operation comes from the one client.
    let mut server = AuthorizationServer::new().token(token_url.clone());
    if let Some(url) = introspection_url.clone() {
        server = server.introspection(url);
    }
    let client =
        OAuth2Client::new(server, ClientAuth::new(client_id, secret).with_method(options.auth), http);

    // The embedded server grants any scope; a real server gets only the one asked for, if any.
    let default_scope = if embedded.is_some() { Some("read write") } else { None };
    let scope: Option<Scope> = options.scope.as_deref().or(default_scope).map(str::parse).transpose()?;
    let token = client.client_credentials()?.request_token(scope.as_ref()).await?;
    println!("token endpoint: {token_url}");
    println!("access token:   {} (type {})", token.access_token(), token.token_type());
    println!("expires in:     {:?}", token.expires_in());
    println!("scope:          {}", token.scope().map_or("(not stated)".into(), |s| s.to_string()));

    if introspection_url.is_some() {
        let info = client.introspection()?.introspect(token.access_token()).await?;
        println!("introspection:  active: {}", info.active);
        if let Some(client_id) = &info.client_id {
            println!("                client_id: {client_id}");
        }
    }
    Ok(())
}
