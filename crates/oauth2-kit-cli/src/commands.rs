//! The commands, each over the library's operations.

use std::io::IsTerminal as _;

use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::{
    AccessToken, AuthMethod, AuthorizationServer, ClientAuth, Issuer, OAuth2Client, RefreshToken, Scope,
};
use serde_json::{Value, json};

use crate::cli::{DiscoverArgs, JwtArgs, RevokeArgs, Server, TlsArgs, TokenInput};
use crate::failure::Failure;
use crate::input;
use crate::output::{Fields, Printer};

type Http = oauth2_kit_reqwest::ReqwestClient;

/// An HTTP client without a client certificate, trusting the platform's roots.
pub(crate) fn http() -> Result<Http, Failure> {
    Http::new().map_err(|e| Failure::local(format!("cannot make an HTTP client: {e}")))
}

/// The HTTP client of the TLS options: with the client certificate and the extra trusted roots
/// they name.
fn http_for(tls: &TlsArgs) -> Result<Http, Failure> {
    if tls.client_certificate.is_none() && tls.ca_file.is_none() {
        return http();
    }
    let mut builder = Http::builder();
    match (&tls.client_certificate, &tls.client_certificate_key) {
        (Some(chain), Some(key)) => {
            let certificate = oauth2_kit::http::ClientCertificate::from_pem_files(chain, key)
                .map_err(|e| Failure::local(format!("--client-certificate: {e}")))?;
            builder = builder.client_certificate(certificate);
        }
        (None, None) => {}
        _ => return Err(Failure::local("--client-certificate and --client-certificate-key go together")),
    }
    if let Some(path) = &tls.ca_file {
        let roots = std::fs::read_to_string(path)
            .map_err(|e| Failure::local(format!("cannot read --ca-file {}: {e}", path.display())))?;
        builder = builder.root_certificates(roots);
    }
    builder.build().map_err(|e| Failure::local(format!("cannot make an HTTP client: {e}")))
}

/// The issuer as given: compared with the server's own name exactly (RFC 8414 §3.3), so a
/// trailing `/` is kept when there is one and not added when there is none.
fn issuer_of(text: &str) -> Result<Issuer, Failure> {
    let url = url::Url::parse(text).map_err(|e| Failure::local(format!("--issuer: {e}")))?;
    https_unless_local(&url)?;
    text.parse().map_err(|e| Failure::local(format!("--issuer: {e}")))
}

/// Secrets go over `https`; plain `http` only to this machine.
fn https_unless_local(url: &url::Url) -> Result<(), Failure> {
    let local = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "http" && !local {
        return Err(Failure::local(format!(
            "{url} is plain http to another machine: use https (http only reaches 127.0.0.1, ::1 or localhost)"
        )));
    }
    Ok(())
}

/// The client of the server the options name: discovered from `--issuer`, or the endpoints given.
pub(crate) async fn client(server: &Server) -> Result<OAuth2Client, Failure> {
    client_builder(server).await?.build().map_err(|e| Failure::local(e.to_string()))
}

/// [`client`], to be given more settings.
pub(crate) async fn client_builder(server: &Server) -> Result<oauth2_kit::OAuth2ClientBuilder, Failure> {
    let http = http_for(&server.tls)?;
    let endpoints = match &server.issuer {
        Some(url) => {
            let metadata = ServerMetadata::discover(&issuer_of(url)?, http.clone()).await?;
            AuthorizationServer::from_metadata(&metadata)
        }
        None => AuthorizationServer::new(),
    };
    let endpoint = |url: &url::Url| {
        https_unless_local(url)?;
        oauth2_kit::Endpoint::new(url.clone()).map_err(|e| Failure::local(e.to_string()))
    };
    let mut endpoints = endpoints;
    if let Some(url) = &server.authorization_url {
        endpoints = endpoints.authorization(endpoint(url)?);
    }
    if let Some(url) = &server.token_url {
        endpoints = endpoints.token(endpoint(url)?);
    }
    if let Some(url) = &server.introspection_url {
        endpoints = endpoints.introspection(endpoint(url)?);
    }
    if let Some(url) = &server.revocation_url {
        endpoints = endpoints.revocation(endpoint(url)?);
    }
    Ok(OAuth2Client::builder(endpoints, auth(server)?, http))
}

/// The client's authentication: its id and its key, or its secret from the first source given
/// (standard input, a file, the command line), else the environment; a public client has
/// neither.
fn auth(server: &Server) -> Result<ClientAuth, Failure> {
    use crate::cli::AuthMethod as Method;
    let id = server
        .client_id
        .clone()
        .ok_or_else(|| Failure::local("--client-id is required (or OAUTH2_CLIENT_ID)"))?;
    if let Some(path) = &server.client_key_file {
        if server.auth_method.is_some_and(|method| method != Method::PrivateKeyJwt) {
            return Err(Failure::local("--client-key-file goes with --auth-method private-key-jwt"));
        }
        let key = input::private_key(path, server.client_key_id.as_deref(), "client key")?;
        return Ok(ClientAuth::private_key_jwt(id, key));
    }
    match server.auth_method {
        Some(Method::None) => return Ok(ClientAuth::public(id)),
        Some(Method::TlsClientAuth | Method::SelfSignedTlsClientAuth)
            if server.tls.client_certificate.is_none() =>
        {
            return Err(Failure::local("a TLS client authentication needs --client-certificate"));
        }
        Some(Method::TlsClientAuth) => return Ok(ClientAuth::tls_client_auth(id)),
        Some(Method::SelfSignedTlsClientAuth) => return Ok(ClientAuth::self_signed_tls_client_auth(id)),
        _ => {}
    }
    if server.auth_method == Some(Method::PrivateKeyJwt) {
        return Err(Failure::local("--auth-method private-key-jwt needs --client-key-file"));
    }
    let Some(secret) = client_secret(&server.secret)? else {
        return match server.auth_method {
            None => Ok(ClientAuth::public(id)),
            Some(_) => Err(Failure::local(format!(
                "the client secret is missing: set ${} or use --client-secret-file, --client-secret-stdin or --client-secret-prompt",
                secret_env(&server.secret)
            ))),
        };
    };
    let auth = ClientAuth::new(id, secret);
    Ok(match server.auth_method {
        Some(Method::Post) => auth.with_method(AuthMethod::ClientSecretPost),
        Some(Method::ClientSecretJwt) => auth.with_method(AuthMethod::ClientSecretJwt),
        Some(Method::Basic) => auth.with_method(AuthMethod::ClientSecretBasic),
        _ => auth,
    })
}

/// The client secret, from the first source given, else the environment.
fn client_secret(source: &crate::cli::SecretSource) -> Result<Option<String>, Failure> {
    Ok(if source.client_secret_stdin {
        Some(input::stdin_line("client secret")?)
    } else if let Some(path) = &source.client_secret_file {
        Some(input::file_line(path, "client secret")?)
    } else if source.client_secret_prompt {
        Some(input::prompt("client secret")?)
    } else if let Some(secret) = &source.client_secret {
        input::warn_command_line("client secret");
        Some(secret.clone())
    } else {
        input::env(secret_env(source))
    })
}

/// The environment variable of the client secret.
fn secret_env(source: &crate::cli::SecretSource) -> &str {
    source.client_secret_env.as_deref().unwrap_or(input::CLIENT_SECRET_ENV)
}

/// A token response: the tokens redacted unless revealed; `raw` prints the access token.
pub(crate) fn print_token(token: &oauth2_kit::TokenResponse, printer: Printer) {
    printer.print(token_fields(token, printer), Some(token.access_token().expose_secret()));
}

/// A token response's fields, the tokens redacted unless revealed.
pub(crate) fn token_fields(token: &oauth2_kit::TokenResponse, printer: Printer) -> Fields {
    let mut fields = Fields::default();
    fields.insert("access_token".into(), printer.secret(token.access_token().expose_secret()));
    fields.insert("token_type".into(), Value::String(token.token_type().to_string()));
    if let Some(expires_in) = token.expires_in() {
        fields.insert("expires_in".into(), json!(expires_in.as_secs()));
    }
    if let Some(scope) = token.scope() {
        fields.insert("scope".into(), Value::String(scope.to_string()));
    }
    if let Some(refresh) = token.refresh_token() {
        fields.insert("refresh_token".into(), printer.secret(refresh.expose_secret()));
    }
    if let Some(id_token) = token.id_token() {
        fields.insert("id_token".into(), printer.secret(id_token.expose_secret()));
    }
    fields
}

/// `device`: the code and where to enter it on standard error (standard output is the result),
/// then a spinner with the time left while the server is polled.
pub(crate) async fn device(args: &crate::cli::DeviceArgs, printer: Printer) -> Result<(), Failure> {
    let scope = match &args.scope {
        Some(text) => Some(text.parse::<Scope>().map_err(|e| Failure::local(format!("--scope: {e}")))?),
        None => None,
    };
    let client = client_builder(&args.server)
        .await?
        .runtime(std::sync::Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()))
        .build()
        .map_err(|e| Failure::local(e.to_string()))?;
    let device = client.device()?;
    let authorization = device.request_authorization(scope.as_ref()).await?;
    let left = authorization.expires_in().as_secs();
    say!(
        "open {} and enter the code {} (within {}:{:02})",
        authorization.verification_uri(),
        crate::output::printable(authorization.user_code()),
        left / 60,
        left % 60
    );
    if let Some(complete) = authorization.verification_uri_complete() {
        say!("or open {complete}");
    }
    let terminal = std::io::stderr().is_terminal();
    let spinner = async {
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        let mut frame = 0usize;
        loop {
            if terminal {
                let left = authorization
                    .expires_at()
                    .saturating_duration_since(tokio::time::Instant::now().into_std())
                    .as_secs();
                let symbol = FRAMES.get(frame % FRAMES.len()).copied().unwrap_or('|');
                say_part!("\r{symbol} waiting for approval ({}:{:02} left) ", left / 60, left % 60);
                frame += 1;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };
    let token = tokio::select! {
        token = device.poll_token(&authorization) => token,
        () = spinner => unreachable_spinner(),
    };
    if terminal {
        // The spinner's line gives way to the outcome.
        say_part!("\r\x1b[2K");
        if token.is_ok() {
            say!("approved");
        }
    }
    print_token(&token?, printer);
    Ok(())
}

/// The spinner never ends.
fn unreachable_spinner() -> oauth2_kit::Result<oauth2_kit::TokenResponse> {
    Err(oauth2_kit::ConfigError::new(oauth2_kit::ConfigErrorKind::InvalidSetting, "the spinner ended").into())
}

/// `userinfo`: the claims the server returns for a user's access token.
pub(crate) async fn userinfo(args: &TokenInput, printer: Printer) -> Result<(), Failure> {
    let token = AccessToken::new(input::token(&args.token)?);
    let client = client(&args.server).await?;
    let info = client.userinfo()?.fetch(&token).await?;
    let mut fields = Fields::default();
    fields.insert("sub".into(), Value::String(info.sub.clone()));
    fields.text("name", info.name.as_ref());
    fields.text("preferred_username", info.preferred_username.as_ref());
    fields.text("email", info.email.as_ref());
    fields.text("locale", info.locale.as_ref());
    if let Some(verified) = info.email_verified {
        fields.insert("email_verified".into(), Value::Bool(verified));
    }
    for (name, value) in &info.extra {
        fields.insert(name.clone(), value.clone());
    }
    printer.print(fields, None);
    Ok(())
}

/// `introspect`.
pub(crate) async fn introspect(args: &TokenInput, printer: Printer) -> Result<(), Failure> {
    let token = AccessToken::new(input::token(&args.token)?);
    let client = client(&args.server).await?;
    let info = client.introspection()?.introspect(&token).await?;
    let mut fields = Fields::default();
    fields.insert("active".into(), Value::Bool(info.active));
    fields.text("client_id", info.client_id.as_ref());
    fields.text("sub", info.sub.as_ref());
    fields.text("username", info.username.as_ref());
    fields.text("iss", info.iss.as_ref());
    fields.text("scope", info.scope.as_ref());
    fields.text("token_type", info.token_type.as_ref());
    if let Some(aud) = &info.aud {
        fields.insert("aud".into(), json!(aud));
    }
    for (name, value) in [("exp", info.exp), ("iat", info.iat), ("nbf", info.nbf)] {
        if let Some(value) = value {
            fields.insert(name.into(), json!(value));
        }
    }
    if let Some(cnf) = info.confirmation() {
        fields.insert("cnf".into(), json!({ "jkt": cnf.jkt, "x5t#S256": cnf.x5t_s256 }));
    }
    printer.print(fields, None);
    Ok(())
}

/// `revoke`.
pub(crate) async fn revoke(args: &RevokeArgs, printer: Printer) -> Result<(), Failure> {
    let token = input::token(&args.input.token)?;
    let client = client(&args.input.server).await?;
    let revocation = client.revocation()?;
    if args.refresh {
        revocation.revoke_refresh_token(&RefreshToken::new(token)).await?;
    } else {
        revocation.revoke(&AccessToken::new(token)).await?;
    }
    let mut fields = Fields::default();
    fields.insert("revoked".into(), Value::Bool(true));
    printer.print(fields, None);
    Ok(())
}

/// `discover`.
pub(crate) async fn discover(args: &DiscoverArgs, printer: Printer) -> Result<(), Failure> {
    let issuer = args
        .issuer
        .as_deref()
        .ok_or_else(|| Failure::local("--issuer is required (or OAUTH2_ISSUER, or a profile's)"))?;
    let metadata = ServerMetadata::discover(&issuer_of(issuer)?, http_for(&args.tls)?).await?;
    let mut fields = Fields::default();
    fields.insert("issuer".into(), Value::String(metadata.issuer.as_str().to_owned()));
    for (name, url) in [
        ("authorization_endpoint", &metadata.authorization_endpoint),
        ("token_endpoint", &metadata.token_endpoint),
        ("introspection_endpoint", &metadata.introspection_endpoint),
        ("revocation_endpoint", &metadata.revocation_endpoint),
        ("userinfo_endpoint", &metadata.userinfo_endpoint),
        ("device_authorization_endpoint", &metadata.device_authorization_endpoint),
        ("pushed_authorization_request_endpoint", &metadata.pushed_authorization_request_endpoint),
        ("jwks_uri", &metadata.jwks_uri),
        ("end_session_endpoint", &metadata.end_session_endpoint),
    ] {
        fields.text(name, url.as_ref());
    }
    for (name, list) in [
        ("grant_types_supported", &metadata.grant_types_supported),
        ("token_endpoint_auth_methods_supported", &metadata.token_endpoint_auth_methods_supported),
    ] {
        fields.text(name, list.as_ref().map(|list| list.join(" ")));
    }
    printer.print(fields, None);
    Ok(())
}

/// `jwt`: the header and claims; verified when an issuer is given.
pub(crate) async fn jwt(args: &JwtArgs, printer: Printer) -> Result<(), Failure> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = input::token(&args.token)?;
    let mut parts = token.split('.');
    let decode = |part: Option<&str>, what: &str| -> Result<Value, Failure> {
        let bytes = part
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .ok_or_else(|| Failure::local(format!("not a JWT: its {what} is not base64url")))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| Failure::local(format!("not a JWT: its {what} is not JSON")))
    };
    let header = decode(parts.next(), "header")?;
    let claims = decode(parts.next(), "claims")?;
    let expiry = claims.get("exp").and_then(Value::as_i64).map(expiry);
    let mut fields = Fields::default();
    fields.insert("header".into(), header);
    fields.insert("claims".into(), claims);
    if let Some(expiry) = expiry {
        fields.insert("expiry".into(), Value::String(expiry));
    }
    let Some(issuer) = &args.issuer else {
        fields.insert("signature".into(), Value::String("not verified (--issuer verifies it)".into()));
        printer.print(fields, None);
        return Ok(());
    };
    {
        let http = http_for(&args.tls)?;
        let metadata = ServerMetadata::discover(&issuer_of(issuer)?, http.clone()).await?;
        let endpoints = AuthorizationServer::from_metadata(&metadata);
        let client = OAuth2Client::new(endpoints, ClientAuth::public("oauth2-kit-cli"), http);
        let algorithms = [
            oauth2_kit::signing::JwsAlgorithm::RS256,
            oauth2_kit::signing::JwsAlgorithm::PS256,
            oauth2_kit::signing::JwsAlgorithm::ES256,
            oauth2_kit::signing::JwsAlgorithm::EdDSA,
        ];
        let verified =
            client.jwks()?.verify::<Value>(&token, &algorithms).await.map_err(oauth2_kit::Error::from)?;
        // The keys are the issuer's: the token must say it is the issuer's too (servers may
        // share keys).
        let iss = verified.get("iss").and_then(Value::as_str);
        if let Some(iss) = iss.filter(|iss| *iss != metadata.issuer.as_str()) {
            return Err(Failure::new(
                crate::failure::Kind::Refused,
                format!(
                    "the signature is good, but the token's iss is {iss:?}, not {} (verify it with its own --issuer)",
                    metadata.issuer.as_str()
                ),
            ));
        }
        fields.insert(
            "signature".into(),
            Value::String(format!("verified with a key of {}", metadata.issuer.as_str())),
        );
    }
    printer.print(fields, None);
    Ok(())
}

/// When a token with `exp` expires, or expired, from now.
fn expiry(exp: i64) -> String {
    use oauth2_kit::Clock as _;
    let now = oauth2_kit::SystemClock
        .system_time()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX));
    let left = exp.saturating_sub(now);
    let span = |seconds: u64| format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    if left > 0 {
        format!("in {} (not judged: a resource server's check)", span(left.unsigned_abs()))
    } else {
        format!("expired {} ago (not judged: a resource server's check)", span(left.unsigned_abs()))
    }
}

/// `profiles`: the configuration file, its default and its profiles.
pub(crate) fn profiles(printer: Printer) -> Result<(), Failure> {
    let path = crate::profile::config_path().ok_or_else(|| {
        Failure::local(format!(
            "no configuration directory on this platform: set {} to the profiles' file",
            crate::profile::CONFIG_ENV
        ))
    })?;
    let config = crate::profile::load(&path)?;
    let mut fields = Fields::default();
    fields.insert("file".into(), Value::String(path.display().to_string()));
    if let Some(default) = &config.default {
        fields.insert("default".into(), Value::String(default.clone()));
    }
    for (name, profile) in &config.profiles {
        let issuer = profile.issuer().unwrap_or("(explicit endpoints)").to_owned();
        fields.insert(format!("profiles.{name}"), Value::String(issuer));
    }
    printer.print(fields, None);
    Ok(())
}
