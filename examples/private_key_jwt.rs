//! A service that authenticates with a key instead of a secret (`private_key_jwt`), against the
//! embedded testkit server: the key made and registered by its public JWK, tokens through a
//! cache, introspection and revocation signed the same way; then the same service behind a
//! discovered server that lists only `private_key_jwt`, and what a wrong key gets.
//!
//! ```text
//! cargo run --example private_key_jwt
//! ```

// A demo program: it prints what it got.
#![allow(clippy::print_stdout)]

use oauth2_kit::signing::{JwsAlgorithm, PrivateKey, PublicKey};
use oauth2_kit::{AuthMethod, ClientAuth, OAuth2Client};
use oauth2_kit_testkit::{Route, TestClient, TestServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // In production the key comes from your key store (PrivateKey::from_pem / from_jwk) or
    // stays in a KMS behind your own JwtSigner; the server holds only the public half.
    let key = PrivateKey::generate(JwsAlgorithm::ES256)?.with_key_id("reporting-2026-12");
    let jwk = key.public_key().to_jwk();
    println!("register this public key with the server: {jwk}");

    let server = TestServer::builder()
        .auth_methods([AuthMethod::PrivateKeyJwt])
        .client(TestClient::with_key("reporting", PublicKey::from_jwk(&jwk.to_string())?))
        .start()?;
    let http = oauth2_kit_reqwest::ReqwestClient::new()?;
    let client = OAuth2Client::discover(
        &server.issuer(),
        ClientAuth::private_key_jwt("reporting", key.clone()),
        http.clone(),
    )
    .await?;

    let tokens = oauth2_kit_cache_tokio::caching(client.client_credentials()?);
    for _ in 0..10 {
        tokens.get(Some(&"read".parse()?)).await?;
    }
    let token = tokens.get(Some(&"read".parse()?)).await?;
    println!(
        "10 cached reads: {} token request(s) (every request carries a new signed assertion)",
        server.requests(Route::Token)
    );
    let active = client.introspection()?.introspect(token.access_token()).await?.active;
    println!("introspection (signed too): active = {active}");
    client.revocation()?.revoke(token.access_token()).await?;

    // The server lists only private_key_jwt: a secret is refused before anything is sent.
    let with_secret =
        OAuth2Client::discover(&server.issuer(), ClientAuth::new("reporting", "s3cret"), http.clone())
            .await?;
    println!(
        "with a client secret: {}",
        with_secret.client_credentials().err().map(|e| e.to_string()).unwrap_or_default()
    );

    // Another key, same id: the server's invalid_client.
    let stranger = PrivateKey::generate(JwsAlgorithm::ES256)?.with_key_id("reporting-2026-12");
    let impostor = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::private_key_jwt("reporting", stranger),
        http,
    );
    let refused = impostor.client_credentials()?.request_token(None).await;
    println!("another key: {}", refused.err().map(|e| e.to_string()).unwrap_or_default());
    Ok(())
}
