//! What went wrong, in one line, with the exit code that says which kind of failure it was.

use std::fmt;
use std::process::ExitCode;

/// A failure of a command: its message (one line) and its kind.
#[derive(Debug)]
pub(crate) struct Failure {
    kind: Kind,
    message: String,
}

/// The kinds of failure, each with its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A configuration or local error (exit 1).
    Local,
    /// Options that cannot go together (exit 2, as the command line's parser says of others).
    Usage,
    /// The server refused (exit 3).
    Refused,
    /// The server could not be reached (exit 4).
    Unreachable,
}

impl Failure {
    /// A local failure.
    pub(crate) fn local(message: impl Into<String>) -> Self {
        Self { kind: Kind::Local, message: message.into() }
    }

    /// A failure of `kind`.
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The exit code.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self.kind {
            Kind::Local => 1,
            Kind::Usage => 2,
            Kind::Refused => 3,
            Kind::Unreachable => 4,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<oauth2_kit::Error> for Failure {
    /// The library's error, its message (which never holds a secret) and a hint of what to try.
    fn from(error: oauth2_kit::Error) -> Self {
        use oauth2_kit::Error;
        let (kind, hint) = match &error {
            Error::OAuth2(e) => (
                Kind::Refused,
                match e.response.error.as_str() {
                    "invalid_client" => "check the client id, its secret or key, and --auth-method",
                    "invalid_grant" => "the grant (password, refresh token, code) is wrong, used or expired",
                    "invalid_scope" => "ask for a scope the client may have (--scope)",
                    "unauthorized_client" => "the client may not use this grant: check its registration",
                    "invalid_target" => "the server does not know that resource (--resource)",
                    "invalid_token" => "the token is expired, revoked or not for this server",
                    _ => "see the server's description",
                },
            ),
            Error::UnexpectedStatus { .. } | Error::Decode { .. } => {
                (Kind::Refused, "is the URL the right endpoint of an OAuth 2.0 server?")
            }
            Error::Jwt(e) if e.is_token_fault() => {
                (Kind::Refused, "the token is not one this issuer made for you")
            }
            Error::Jwt(oauth2_kit::jwt::JwtError::KeysUnavailable(inner))
                if matches!(**inner, Error::Transport(_)) =>
            {
                (Kind::Unreachable, "the issuer's keys could not be fetched: try again")
            }
            Error::Jwt(_) => (Kind::Refused, "the issuer's key set is not one this tool can read"),
            Error::DeviceCodeExpired { .. } => {
                (Kind::Refused, "nobody approved the code in time: run the command again")
            }
            Error::Callback(oauth2_kit::grant::authorization_code::CallbackError::Refused(_)) => {
                (Kind::Refused, "the user or the server declined the login")
            }
            Error::Callback(_) => (Kind::Refused, "the login did not complete: start it again"),
            Error::Transport(_) => (Kind::Unreachable, "check the URL, the network and the server"),
            Error::Config(_) => (Kind::Local, "fix the options (see --help)"),
            _ => (Kind::Local, "see --verbose for the trace"),
        };
        Self::new(kind, format!("{error} ({hint})"))
    }
}
