//! `testkit`: the embedded authorization server for local development, as the options or a
//! small TOML file describe it, its clients, users and keys printed at start.
//!
//! ```toml
//! port = 8080
//! jwt_access_tokens = true
//! token_lifetime = 3600            # seconds
//! login = "bob"                    # who /authorize logs in at once (default: alice)
//!
//! [[clients]]
//! id = "web"
//! secret = "web-secret"            # test credentials: this server is for development
//! redirect_uris = ["http://127.0.0.1:3000/callback"]
//! scope = "read write"
//!
//! [[clients]]
//! id = "cli"
//! public = true
//!
//! [[clients]]
//! id = "signer"
//! key_file = "signer.pub.pem"      # private_key_jwt: the client's public key (PEM or JWK)
//!
//! [[users]]
//! username = "bob"
//! password = "bob-password"
//! email = "bob@example.com"
//!
//! [[assertion_issuers]]            # JWT bearer grant: assertions this issuer signs
//! issuer = "https://idp.example"
//! key_file = "idp.pub.pem"
//! ```
//!
//! Relative paths are relative to the file. The default client and user are always there.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oauth2_kit::signing::PublicKey;
use oauth2_kit_testkit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, TestClient, TestServer,
    TestUser,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{Output, TestkitArgs};
use crate::failure::Failure;
use crate::output::{Fields, Printer};

/// The file `--config` names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    port: Option<u16>,
    #[serde(default)]
    jwt_access_tokens: bool,
    token_lifetime: Option<u64>,
    refresh_token_rotation: Option<bool>,
    login: Option<String>,
    #[serde(default)]
    clients: Vec<Client>,
    #[serde(default)]
    users: Vec<User>,
    #[serde(default)]
    assertion_issuers: Vec<AssertionIssuer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Client {
    id: String,
    secret: Option<String>,
    #[serde(default)]
    public: bool,
    key_file: Option<PathBuf>,
    #[serde(default)]
    redirect_uris: Vec<url::Url>,
    scope: Option<String>,
    token_lifetime: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct User {
    username: String,
    password: String,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssertionIssuer {
    issuer: String,
    key_file: PathBuf,
}

/// What is printed of a client.
struct Shown {
    id: String,
    auth: &'static str,
    secret: Option<String>,
    key_file: Option<PathBuf>,
}

/// `testkit`: the server until interrupted (Ctrl-C), what it holds printed first.
pub(crate) async fn testkit(args: &TestkitArgs, printer: Printer) -> Result<(), Failure> {
    let config = match &args.config {
        Some(path) => read(path)?,
        None => Config::default(),
    };
    check(&config)?;
    let base = args.config.as_deref().and_then(Path::parent).unwrap_or(Path::new("."));
    let port = args.port.or(config.port).unwrap_or(8080);
    let jwt = args.jwt_access_tokens || config.jwt_access_tokens;
    let mut builder = TestServer::builder().port(port).jwt_access_tokens(jwt);
    if let Some(seconds) = config.token_lifetime {
        builder = builder.token_lifetime(Duration::from_secs(seconds));
    }
    if let Some(rotate) = config.refresh_token_rotation {
        builder = builder.refresh_token_rotation(rotate);
    }
    let mut shown = vec![Shown {
        id: DEFAULT_CLIENT_ID.into(),
        auth: "client_secret_basic",
        secret: Some(DEFAULT_CLIENT_SECRET.into()),
        key_file: None,
    }];
    for client in &config.clients {
        let (registered, show) = client.registered(base)?;
        builder = builder.client(registered);
        shown.push(show);
    }
    let mut users = vec![(DEFAULT_USERNAME.to_owned(), DEFAULT_PASSWORD.to_owned())];
    for user in &config.users {
        let mut registered = TestUser::new(&user.username, &user.password);
        if let Some(name) = &user.name {
            registered = registered.name(name);
        }
        if let Some(email) = &user.email {
            registered = registered.email(email);
        }
        builder = builder.user(registered);
        users.push((user.username.clone(), user.password.clone()));
    }
    for trusted in &config.assertion_issuers {
        builder = builder.trust_assertion_issuer(&trusted.issuer, public_key(&base.join(&trusted.key_file))?);
    }
    let server = builder.start().map_err(|e| {
        Failure::local(format!("cannot start the server on 127.0.0.1:{port}: {e} (try another --port)"))
    })?;
    let login = config.login.clone().unwrap_or_else(|| DEFAULT_USERNAME.to_owned());
    if !users.iter().any(|(name, _)| *name == login) {
        return Err(Failure::local(format!("login = {login:?} is no user of the file")));
    }
    server.login_as(&login);
    // The server's first signing key, made now to be named: it signs ID tokens and JWT access
    // tokens, and is published at the JWKS URI.
    let kid = server.rotate_signing_key();

    // The test credentials are printed as they are: they are public, made-up values.
    let access_tokens = if jwt { "JWT (RFC 9068)" } else { "opaque" };
    let issuer = server.issuer().as_str().to_owned();
    let jwks_uri = server.jwks_endpoint().to_string();
    if printer.output == Output::Human {
        let mut fields = Fields::default();
        fields.insert("issuer".into(), Value::String(issuer));
        fields.insert("jwks_uri".into(), Value::String(jwks_uri));
        fields.insert("access_tokens".into(), Value::String(access_tokens.into()));
        fields.insert("signing_key".into(), Value::String(format!("{kid} (ES256, public at the jwks_uri)")));
        for client in &shown {
            let text = match (&client.secret, &client.key_file) {
                (Some(secret), _) => format!("{} ({}, secret {secret})", client.id, client.auth),
                (None, Some(key)) => format!("{} ({}, key {})", client.id, client.auth, key.display()),
                (None, None) => format!("{} ({})", client.id, client.auth),
            };
            fields.insert("client".into(), Value::String(text));
        }
        for (username, password) in &users {
            fields.insert("user".into(), Value::String(format!("{username} (password {password})")));
        }
        fields.insert("login".into(), Value::String(format!("{login} (logged in at /authorize at once)")));
        printer.print(fields, None);
        if std::io::stdout().is_terminal() {
            out!("serving until interrupted (Ctrl-C)");
        }
    } else {
        let clients: Vec<Value> = shown
            .iter()
            .map(|client| {
                json!({
                    "client_id": client.id,
                    "auth": client.auth,
                    "client_secret": client.secret,
                    "public_key_file": client.key_file.as_ref().map(|path| path.display().to_string()),
                })
            })
            .collect();
        let users: Vec<Value> = users
            .iter()
            .map(|(username, password)| json!({ "username": username, "password": password }))
            .collect();
        let all = json!({
            "issuer": issuer,
            "jwks_uri": jwks_uri,
            "access_tokens": access_tokens,
            "signing_key": { "kid": kid, "alg": "ES256" },
            "clients": clients,
            "users": users,
            "login": login,
        });
        out!("{all}");
    }
    tokio::signal::ctrl_c().await.map_err(|e| Failure::local(format!("cannot wait for Ctrl-C: {e}")))?;
    drop(server);
    Ok(())
}

impl Client {
    /// The client to register, and what to print of it.
    fn registered(&self, base: &Path) -> Result<(TestClient, Shown), Failure> {
        let kinds = [self.secret.is_some(), self.public, self.key_file.is_some()];
        if kinds.iter().filter(|kind| **kind).count() != 1 {
            return Err(Failure::local(format!(
                "client {}: give exactly one of secret, public = true and key_file",
                self.id
            )));
        }
        let (mut client, auth) = if let Some(secret) = &self.secret {
            (TestClient::new(&self.id, secret), "client_secret_basic")
        } else if let Some(path) = &self.key_file {
            (TestClient::with_key(&self.id, public_key(&base.join(path))?), "private_key_jwt")
        } else {
            (TestClient::public(&self.id), "none")
        };
        for uri in &self.redirect_uris {
            client = client.redirect_uri(uri);
        }
        if let Some(scope) = &self.scope {
            let scope =
                scope.parse().map_err(|e| Failure::local(format!("client {}: scope: {e}", self.id)))?;
            client = client.scopes(scope);
        }
        if let Some(seconds) = self.token_lifetime {
            client = client.token_lifetime(Duration::from_secs(seconds));
        }
        let key_file = self.key_file.as_ref().map(|path| base.join(path));
        Ok((client, Shown { id: self.id.clone(), auth, secret: self.secret.clone(), key_file }))
    }
}

/// The longest token lifetime the file may set: ten years.
const MAX_LIFETIME: u64 = 10 * 365 * 24 * 3600;

/// Refuses what the server would take badly: an id or a name twice (the default client's and
/// user's included), a lifetime beyond [`MAX_LIFETIME`].
fn check(config: &Config) -> Result<(), Failure> {
    if let Some(id) = repeated(DEFAULT_CLIENT_ID, config.clients.iter().map(|client| client.id.as_str())) {
        return Err(Failure::local(format!("client {id} is there twice (the default client included)")));
    }
    if let Some(name) = repeated(DEFAULT_USERNAME, config.users.iter().map(|user| user.username.as_str())) {
        return Err(Failure::local(format!("user {name} is there twice (the default user included)")));
    }
    let lifetimes = config.clients.iter().map(|client| client.token_lifetime).chain([config.token_lifetime]);
    if lifetimes.flatten().any(|seconds| seconds == 0 || seconds > MAX_LIFETIME) {
        return Err(Failure::local(format!("a token_lifetime is between 1 and {MAX_LIFETIME} seconds")));
    }
    Ok(())
}

/// The first of `names` that is `default` or comes twice.
fn repeated<'a>(default: &'a str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::from([default]);
    names.into_iter().find(|name| !seen.insert(name))
}

/// The configuration at `path`.
fn read(path: &Path) -> Result<Config, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::local(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        Failure::local(format!("{} is not a testkit configuration: {}", path.display(), e.message()))
    })
}

/// A public key from a PEM or JWK file.
fn public_key(path: &Path) -> Result<PublicKey, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::local(format!("cannot read the public key {}: {e}", path.display())))?;
    if text.trim_start().starts_with("-----BEGIN") {
        PublicKey::from_pem(&text)
    } else {
        PublicKey::from_jwk(&text)
    }
    .map_err(|e| Failure::local(format!("{} is no public key this server can use: {e}", path.display())))
}
