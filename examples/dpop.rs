//! A service whose tokens are bound to its key (DPoP, RFC 9449), against the embedded testkit
//! server that requires its own nonce in proofs: tokens through a cache and a bearer client
//! that proves every request, a nonce rotation costing one retry, and what a copied token is
//! worth to someone without the key.
//!
//! ```text
//! cargo run --example dpop
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use bytes::Bytes;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::dpop::DpopKey;
use oauth2_kit::http::HttpClient as _;
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = TestServer::builder().dpop_nonce(true).start()?;
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;

    // A key per process start: the server binds tokens to whatever key the client proves.
    let key = DpopKey::generate()?;
    println!("DPoP key thumbprint (RFC 7638): {}", key.thumbprint());
    let client = OAuth2Client::builder(
        server.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http.clone(),
    )
    .dpop(key)
    .build()?;
    let tokens = oauth2_kit_cache_tokio::caching(client.client_credentials()?);
    let api = BearerClient::new(http.clone(), BearerAuth::new(tokens.clone(), None));
    let get = || http::Request::get(server.resource_url().as_str()).body(Bytes::new());

    for _ in 0..3 {
        let response = api.execute(get()?).await?;
        println!("GET /resource -> {}", response.status());
    }
    let token = tokens.get(None).await?;
    println!(
        "token type {}, bound to {:?}; token requests {} (one refused for want of the server's nonce), resource requests {}",
        token.token_type(),
        token.dpop_jkt(),
        server.requests(Route::Token),
        server.requests(Route::Resource)
    );

    server.reset_counts();
    server.rotate_dpop_nonce();
    for _ in 0..3 {
        api.execute(get()?).await?;
    }
    println!(
        "after the server rotated its nonce: 3 calls, {} resource requests (one retry)",
        server.requests(Route::Resource)
    );

    // A copy of the token, without the key: useless.
    let mut stolen = get()?;
    let header = format!("Bearer {}", token.access_token().expose_secret());
    stolen.headers_mut().insert(http::header::AUTHORIZATION, header.parse()?);
    let response = http.send(stolen).await?;
    println!(
        "the same token sent as a bearer token -> {} (misused bound tokens seen by the server: {})",
        response.status(),
        server.misused_bound_tokens()
    );
    Ok(())
}
