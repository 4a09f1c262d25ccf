//! The device authorization grant (RFC 8628) against the embedded testkit server: the device
//! shows a code, a simulated user approves it on "another device" after two seconds, the device
//! polls until then.
//!
//! ```text
//! cargo run --example device_flow -- [--deny]
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Duration;

use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{Route, TestClient, TestServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let deny = std::env::args().any(|a| a == "--deny");
    let server = Arc::new(
        TestServer::builder()
            .client(TestClient::public("tv-app"))
            .device_interval(Some(Duration::from_secs(1)))
            .start()?,
    );
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;
    let client = OAuth2Client::builder(server.authorization_server(), ClientAuth::public("tv-app"), http)
        .runtime(Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new())) // sleeps between polls
        .build()?
        .device()?;

    let authorization = client.request_authorization(Some(&"read".parse()?)).await?;
    println!("On your phone, go to {}", authorization.verification_uri());
    println!("and enter the code  {}", authorization.user_code());
    println!(
        "(polling every {:?}, codes valid for {:?})",
        authorization.interval(),
        authorization.expires_in()
    );

    let user = {
        let (server, code) = (server.clone(), authorization.user_code().to_owned());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if deny { server.deny_device(&code) } else { server.approve_device(&code) }
        })
    };
    match client.poll_token(&authorization).await {
        Ok(token) => {
            println!("approved: {} token, scope {:?}", token.token_type(), token.scope().map(|s| s.as_str()))
        }
        Err(error) => println!("not approved: {error}"),
    }
    user.await?;
    println!("{} token requests while waiting", server.requests(Route::Token));
    Ok(())
}
