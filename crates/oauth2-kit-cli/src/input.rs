//! Secrets and tokens read from where the user put them: an environment variable, a file,
//! standard input, or (with a warning) the command line.

use std::io::BufRead as _;
use std::path::Path;

use crate::failure::Failure;

/// The environment variable of the client secret unless `--client-secret-env` names another.
pub(crate) const CLIENT_SECRET_ENV: &str = "OAUTH2_CLIENT_SECRET";

/// The first line of standard input.
pub(crate) fn stdin_line(what: &str) -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::local(format!("cannot read the {what} from standard input: {e}")))?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        return Err(Failure::local(format!("standard input holds no {what}")));
    }
    Ok(line)
}

/// The first line of the file at `path`.
pub(crate) fn file_line(path: &Path, what: &str) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::local(format!("cannot read the {what} from {}: {e}", path.display())))?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        return Err(Failure::local(format!("{} holds no {what}", path.display())));
    }
    Ok(line)
}

/// A line typed at the terminal after `what: `, not echoed.
pub(crate) fn prompt(what: &str) -> Result<String, Failure> {
    let line = rpassword::prompt_password(format!("{what}: "))
        .map_err(|e| Failure::local(format!("cannot ask for the {what} (is there a terminal?): {e}")))?;
    if line.is_empty() {
        return Err(Failure::local(format!("no {what} was typed")));
    }
    Ok(line)
}

/// A token from standard input when `stdin` says so, else from the environment variable `env`:
/// `what` names it, `flag` the option that reads standard input.
pub(crate) fn stdin_or_env(stdin: bool, env: &str, what: &str, flag: &str) -> Result<String, Failure> {
    if stdin {
        return stdin_line(what);
    }
    self::env(env)
        .ok_or_else(|| Failure::local(format!("the {what} is read from ${env} or {flag}: neither is set")))
}

/// The value of the environment variable `name`, if set and not empty.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Says on stderr that a secret given on the command line is visible to others.
pub(crate) fn warn_command_line(what: &str) {
    say!(
        "warning: a {what} on the command line ends up in the shell's history and the process list; use - (standard input), a file or an environment variable"
    );
}

/// A token given as an argument: `-` reads standard input, anything else is the token (with a
/// warning).
pub(crate) fn token(argument: &str) -> Result<String, Failure> {
    if argument == "-" {
        stdin_line("token")
    } else {
        warn_command_line("token");
        Ok(argument.to_owned())
    }
}

/// The private key in the file at `path` (PEM, or a JWK when the text is no PEM), with `kid`.
pub(crate) fn private_key(
    path: &Path,
    kid: Option<&str>,
    what: &str,
) -> Result<oauth2_kit::signing::PrivateKey, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::local(format!("cannot read the {what} from {}: {e}", path.display())))?;
    let key = if text.trim_start().starts_with("-----BEGIN") {
        oauth2_kit::signing::PrivateKey::from_pem(&text)
    } else {
        oauth2_kit::signing::PrivateKey::from_jwk(&text)
    }
    .map_err(|e| Failure::local(format!("{} is no {what} this tool can use: {e}", path.display())))?;
    Ok(match kid {
        Some(kid) => key.with_key_id(kid),
        None => key,
    })
}
