//! A protected API: an axum service behind `TokenLayer`, taking the JWT access tokens (RFC 9068)
//! of the embedded testkit server; a client calls it with and without a token, and with a token
//! short of the route's scope.
//!
//! ```text
//! cargo run --example resource_server
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use axum::Router;
use axum::routing::{get, post};
use oauth2_kit::{ClientAuth, OAuth2Client, Scope};
use oauth2_kit_resource_server::{Claims, RequireScope, TokenLayer};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestServer};

/// `GET /orders`: who is asking, as the token says.
async fn list(Claims(claims): Claims) -> String {
    format!("orders for {}\n", claims.client_id.unwrap_or_default())
}

/// `POST /orders`: needs `orders:write` besides the layer's `orders:read`.
async fn create(Claims(claims): Claims) -> String {
    format!("order placed by {}\n", claims.sub.unwrap_or_default())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The authorization server, issuing JWT access tokens.
    let issuer = TestServer::builder().jwt_access_tokens(true).start()?;
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;

    // The API: its own client of the issuer (discovery gives the issuer and the key set). Its
    // identifier is what the issuer writes in `aud`: here the testkit's `/resource` URL.
    let audience = issuer.resource_url().to_string();
    let api_client =
        OAuth2Client::discover(&issuer.issuer(), ClientAuth::public("orders-api"), http.clone()).await?;
    let app = Router::new()
        .route("/orders", get(list))
        .route("/orders", post(create).route_layer(RequireScope::new("orders:write".parse()?)))
        .layer(
            TokenLayer::new(api_client.jwt_access_tokens(audience)?)
                .realm("orders")
                .require_scope("orders:read".parse()?),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}/orders", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A client of the API.
    let client = OAuth2Client::new(
        issuer.authorization_server(),
        ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        http,
    );
    let grant = client.client_credentials()?;
    let reader = grant.request_token(Some(&"orders:read".parse::<Scope>()?)).await?;
    let writer = grant.request_token(Some(&"orders:read orders:write".parse::<Scope>()?)).await?;
    let web = reqwest::Client::new();
    let show = |what: &str, response: reqwest::Response| {
        let challenge =
            response.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or("").to_owned());
        println!("{what:<34} {} {}", response.status(), challenge.unwrap_or_default());
    };
    show("GET without a token", web.get(&api).send().await?);
    let response = web.get(&api).bearer_auth(reader.access_token().expose_secret()).send().await?;
    println!("{:<34} {} {}", "GET with orders:read", response.status(), response.text().await?.trim_end());
    show(
        "POST with orders:read only",
        web.post(&api).bearer_auth(reader.access_token().expose_secret()).send().await?,
    );
    let response = web.post(&api).bearer_auth(writer.access_token().expose_secret()).send().await?;
    println!("{:<34} {} {}", "POST with orders:write", response.status(), response.text().await?.trim_end());
    show("GET with a forged token", web.get(&api).bearer_auth("eyJhbGciOiJub25lIn0.e30.").send().await?);
    println!("key set fetched {} time(s) for every request above", issuer.requests(Route::Jwks));
    Ok(())
}
