//! The authorization code grant with PKCE, end to end, against the embedded testkit server (whose
//! `/authorize` logs the user in at once): discovery, login link, callback, code exchange,
//! UserInfo, refresh with rotation, revocation.
//!
//! ```text
//! cargo run --example authorization_code -- [--http reqwest|isahc]
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use oauth2_kit_test_support::cli;

use anyhow::{Context, bail};
use bytes::Bytes;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let adapter = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => "reqwest".to_owned(),
        [flag, name] if flag == "--http" => name.clone(),
        _ => bail!("usage: authorization_code [--http reqwest|isahc]"),
    };
    let http = cli::http_client(&adapter)?;
    let server = TestServer::start()?;

    // Everything from the issuer URL: one client, every operation from it.
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let client = OAuth2Client::discover(&server.issuer(), auth, http.clone()).await?;
    let redirect_uri: Url = "http://127.0.0.1:8080/callback".parse()?;
    let provider = client.authorization_code(redirect_uri)?.build()?;

    let (login_url, pending) =
        provider.login_link().scope("openid read write".parse()?).build()?.into_parts();
    println!("1. login link:   {login_url}");

    // The user's browser: the testkit logs them in and redirects back with a code.
    let request = http::Request::get(login_url.as_str()).body(Bytes::new())?;
    let answer = http.send(request).await?;
    let location = answer.headers().get("location").context("the login redirects back")?.to_str()?;
    let callback = Callback::from_url(&location.parse()?)?;
    println!("2. callback:     {}", location.split('?').next().unwrap_or_default());

    let token = provider.complete_login(&pending, &callback).await?;
    println!(
        "3. token:        {} token for {:?}, expires in {:?}, refresh token: {}",
        token.token_type(),
        token.scope().map(|s| s.as_str()),
        token.expires_in(),
        token.refresh_token().is_some()
    );

    let userinfo = client.userinfo()?;
    let me = userinfo.fetch(token.access_token()).await?;
    println!("4. userinfo:     sub={} name={:?} email={:?}", me.sub, me.name, me.email);

    let first = token.refresh_token().context("a refresh token")?;
    let refresh = client.refresh()?;
    let narrowed = refresh.refresh(first, Some(&"read".parse()?)).await?;
    let second = narrowed.refresh_token().context("a refresh token")?;
    println!(
        "5. refreshed:    scope {:?}, refresh token rotated: {}",
        narrowed.scope().map(|s| s.as_str()),
        second != first
    );
    let reuse = refresh.refresh(first, None).await;
    println!("6. old refresh token again: {}", reuse.err().map(|e| e.to_string()).unwrap_or_default());

    client.revocation()?.revoke_refresh_token(second).await?;
    let after = userinfo.fetch(narrowed.access_token()).await;
    println!("7. revoked; userinfo now: {}", after.err().map(|e| e.to_string()).unwrap_or_default());
    Ok(())
}
