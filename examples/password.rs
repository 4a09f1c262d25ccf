//! The password grant against the embedded testkit server: a token for a user, a cached
//! provider for that user, and a bearer client calling the protected resource with it.
//!
//! ```text
//! cargo run --example password
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use bytes::Bytes;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::http::HttpClient as _;
use oauth2_kit::{ClientAuth, OAuth2Client, Password};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer, TestUser};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = TestServer::builder().user(TestUser::new("bob", "bob-password")).start()?;
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let client = OAuth2Client::new(server.authorization_server(), auth, http.clone()).password()?;

    let token = client.request_token("bob", &Password::new("bob-password"), Some(&"read".parse()?)).await?;
    println!("token for bob: {:?}, scope {:?}", token.access_token(), token.scope().map(|s| s.as_str()));
    let wrong = client.request_token("bob", &Password::new("guess"), None).await;
    println!("wrong password: {}", wrong.err().map(|e| e.to_string()).unwrap_or_default());

    // Bob's provider, cached, behind a bearer client.
    let provider = oauth2_kit_cache_tokio::caching(client.provider("bob", Password::new("bob-password")));
    let api = BearerClient::new(http, BearerAuth::builder(provider).build());
    server.reset_counts();
    for _ in 0..20 {
        let request = http::Request::get(server.resource_url().as_str()).body(Bytes::new())?;
        let response = api.send(request).await?;
        anyhow::ensure!(response.status().is_success(), "the resource said {}", response.status());
    }
    println!("20 resource requests as bob: {} token request(s)", server.requests(Route::Token));
    Ok(())
}
