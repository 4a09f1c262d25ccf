//! A gateway that receives users' tokens and calls a downstream API with tokens made for it
//! (token exchange, RFC 8693), against the embedded testkit server: one exchange per user
//! however many of their requests arrive, each user's token kept apart, delegation named.
//!
//! ```text
//! cargo run --example token_exchange
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use anyhow::Context as _;
use oauth2_kit::grant::token_exchange::{TokenExchangeRequest, TokenTypeUri};
use oauth2_kit::{ClientAuth, OAuth2Client, Password};
use oauth2_kit_testkit::{Route, TestClient, TestServer, TestUser};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = TestServer::builder()
        .client(TestClient::new("web-app", "web-secret"))
        .client(TestClient::new("gateway", "gateway-secret"))
        .user(TestUser::new("bob", "bob-password"))
        .start()?;
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;

    // The users' tokens, as the web app got them (here by the password grant).
    let web = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new("web-app", "web-secret"),
        http.clone(),
    );
    let mut incoming = Vec::new();
    for (user, password) in [("alice", "alice-password"), ("bob", "bob-password")] {
        let token = web
            .password()?
            .request_token(user, &Password::new(password), Some(&"read write".parse()?))
            .await?;
        incoming.push((user, token.access_token().clone()));
    }

    // The gateway: per incoming request, the caller's token for the orders API, read only.
    let gateway = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new("gateway", "gateway-secret"),
        http.clone(),
    );
    let downstream = oauth2_kit_cache_tokio::caching_exchange(gateway.token_exchange()?);
    server.reset_counts();
    for _ in 0..50 {
        for (_, token) in &incoming {
            let request =
                TokenExchangeRequest::access_token(token).audience("orders-api").scope("read".parse()?);
            downstream.get(&request).await?;
        }
    }
    println!(
        "100 downstream calls for {} users: {} exchange(s)",
        incoming.len(),
        server.requests(Route::Token)
    );
    let introspection = gateway.introspection()?;
    for (user, token) in &incoming {
        let request = TokenExchangeRequest::access_token(token).audience("orders-api").scope("read".parse()?);
        let info = introspection.introspect(downstream.get(&request).await?.access_token()).await?;
        println!(
            "{user}'s downstream token: sub {:?}, aud {:?}, scope {:?}",
            info.sub,
            info.aud,
            info.scope.map(|s| s.to_string())
        );
    }

    // Delegation: the gateway says it acts for alice (the token carries `act`).
    let actor = gateway.client_credentials()?.request_token(None).await?;
    let (_, alice) = incoming.first().context("alice's token")?;
    let request = TokenExchangeRequest::access_token(alice)
        .actor(actor.access_token().expose_secret(), TokenTypeUri::AccessToken)
        .requested_token_type(TokenTypeUri::AccessToken);
    let exchanged = gateway.token_exchange()?.exchange(&request).await?;
    let info = introspection.introspect(exchanged.token().access_token()).await?;
    let act = info.extra.get("act").map(ToString::to_string).unwrap_or_default();
    println!("delegated: issued {}, act {act}", exchanged.issued_token_type());
    Ok(())
}
