//! Named profiles: the server and client options of a command, kept in a TOML file in the
//! platform's configuration directory (`oauth2-kit/config.toml` there, or the file
//! `$OAUTH2_KIT_CONFIG` names). A profile holds where the secret is, never the secret.
//!
//! ```toml
//! default = "dev"          # used when no --profile is given (optional)
//!
//! [profiles.dev]
//! issuer = "http://127.0.0.1:8080"
//! client_id = "testkit-client"
//! client_secret_env = "DEV_CLIENT_SECRET"
//! scope = "read"
//! ```
//!
//! The command line and the environment win over a profile, and a profile's client goes only
//! to its own server: a command that names a server (`--issuer`, an endpoint) uses nothing of
//! the profile but its scope, and one that names its own client credentials (a secret, a key,
//! a certificate, `--auth-method`) or another client id uses none of the profile's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::cli::{AuthMethod, Server, TlsArgs};
use crate::failure::Failure;

/// The environment variable naming the configuration file instead of the platform's.
pub(crate) const CONFIG_ENV: &str = "OAUTH2_KIT_CONFIG";

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The profile used when none is named.
    pub(crate) default: Option<String>,
    /// The profiles by name.
    #[serde(default)]
    pub(crate) profiles: BTreeMap<String, Profile>,
}

/// One profile: any of the server and client options, and a scope.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    issuer: Option<String>,
    authorization_url: Option<Url>,
    token_url: Option<Url>,
    introspection_url: Option<Url>,
    revocation_url: Option<Url>,
    client_id: Option<String>,
    auth_method: Option<AuthMethod>,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    #[serde(default)]
    client_secret_prompt: bool,
    client_key_file: Option<PathBuf>,
    client_key_id: Option<String>,
    client_certificate: Option<PathBuf>,
    client_certificate_key: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    /// The scope of `token`, `login` and `device` when `--scope` is not given.
    pub(crate) scope: Option<String>,
    /// Refused with a message: a secret is not kept in the file.
    client_secret: Option<serde::de::IgnoredAny>,
}

/// The configuration file's path: `$OAUTH2_KIT_CONFIG`, else `oauth2-kit/config.toml` in the
/// platform's configuration directory.
pub(crate) fn config_path() -> Option<PathBuf> {
    match std::env::var_os(CONFIG_ENV) {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => dirs::config_dir().map(|dir| dir.join("oauth2-kit").join("config.toml")),
    }
}

/// The configuration at `path`; an absent file is an empty configuration.
pub(crate) fn load(path: &Path) -> Result<Config, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(error) => return Err(Failure::local(format!("cannot read {}: {error}", path.display()))),
    };
    let config: Config = toml::from_str(&text).map_err(|error| {
        // The message and the line, not the offending text it could quote.
        let line = error
            .span()
            .map_or(0, |span| text.get(..span.start).unwrap_or_default().matches('\n').count() + 1);
        Failure::local(format!("{}:{line}: not a valid configuration: {}", path.display(), error.message()))
    })?;
    for (name, profile) in &config.profiles {
        if profile.client_secret.is_some() {
            return Err(Failure::local(format!(
                "{}: profile {name} holds a client_secret; keep secrets out of the file (client_secret_env, client_secret_file or client_secret_prompt)",
                path.display()
            )));
        }
    }
    Ok(config)
}

/// The profile `name` names (else the file's default, if any), from the configuration file.
pub(crate) fn select(name: Option<&str>) -> Result<Option<Profile>, Failure> {
    let Some(path) = config_path() else {
        return match name {
            Some(_) => Err(Failure::local(format!(
                "no configuration directory on this platform: set {CONFIG_ENV} to the profiles' file"
            ))),
            None => Ok(None),
        };
    };
    let mut config = load(&path)?;
    let Some(name) = name.map(str::to_owned).or(config.default.take()) else { return Ok(None) };
    match config.profiles.remove(&name) {
        Some(mut profile) => {
            // Relative paths are the file's, not those of wherever the command runs: a
            // `ca.pem` dropped in the current directory must not become a trusted root.
            let base = path.parent().unwrap_or(Path::new("."));
            for file in [
                &mut profile.client_secret_file,
                &mut profile.client_key_file,
                &mut profile.client_certificate,
                &mut profile.client_certificate_key,
                &mut profile.ca_file,
            ]
            .into_iter()
            .flatten()
            {
                *file = base.join(&*file);
            }
            Ok(Some(profile))
        }
        None => Err(Failure::local(format!(
            "no profile {name} in {} (profiles: {})",
            path.display(),
            config.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

impl Profile {
    /// The profile's issuer.
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Fills an issuer-only command's options (`discover`, `jwt`): the issuer and the roots to
    /// trust, unless the command names an issuer.
    pub(crate) fn fill_issuer(&self, issuer: &mut Option<String>, tls: &mut TlsArgs) {
        if issuer.is_none() {
            issuer.clone_from(&self.issuer);
            fill(&mut tls.ca_file, &self.ca_file);
        }
    }

    /// Fills what `server` leaves unset from this profile (see the module's rules); whether the
    /// profile's server was used.
    pub(crate) fn fill(&self, server: &mut Server) -> bool {
        let names_a_server = server.issuer.is_some()
            || server.authorization_url.is_some()
            || server.token_url.is_some()
            || server.introspection_url.is_some()
            || server.revocation_url.is_some();
        if names_a_server {
            return false;
        }
        server.issuer.clone_from(&self.issuer);
        server.authorization_url.clone_from(&self.authorization_url);
        server.token_url.clone_from(&self.token_url);
        server.introspection_url.clone_from(&self.introspection_url);
        server.revocation_url.clone_from(&self.revocation_url);
        fill(&mut server.tls.ca_file, &self.ca_file);
        fill(&mut server.client_id, &self.client_id);
        let secret = &server.secret;
        let names_credentials = server.auth_method.is_some()
            || secret.client_secret_stdin
            || secret.client_secret_file.is_some()
            || secret.client_secret_prompt
            || secret.client_secret.is_some()
            || secret.client_secret_env.is_some()
            || crate::input::env(crate::input::CLIENT_SECRET_ENV).is_some()
            || server.client_key_file.is_some()
            || server.tls.client_certificate.is_some()
            || server.tls.client_certificate_key.is_some();
        if names_credentials || server.client_id != self.client_id {
            return true;
        }
        server.auth_method = self.auth_method;
        server.secret.client_secret_env.clone_from(&self.client_secret_env);
        server.secret.client_secret_file.clone_from(&self.client_secret_file);
        server.secret.client_secret_prompt = self.client_secret_prompt;
        server.client_key_file.clone_from(&self.client_key_file);
        fill(&mut server.client_key_id, &self.client_key_id);
        server.tls.client_certificate.clone_from(&self.client_certificate);
        server.tls.client_certificate_key.clone_from(&self.client_certificate_key);
        true
    }
}

fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(value);
    }
}
