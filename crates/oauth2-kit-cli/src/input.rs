//! Secrets and tokens read from where the user put them: an environment variable, a file,
//! standard input, or (with a warning) the command line.

use std::io::BufRead as _;
use std::path::Path;

use crate::failure::Failure;

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

/// The value of the environment variable `name`, if set and not empty.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Says on stderr that a secret given on the command line is visible to others.
#[allow(clippy::print_stderr)]
pub(crate) fn warn_command_line(what: &str) {
    eprintln!(
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
