//! Mistakes in how a client is set up, found before anything is sent.

use std::borrow::Cow;
use std::fmt;

/// A configuration the library refused before sending anything: an endpoint that is missing or
/// unusable, a setting out of range, a value that cannot be what it claims. Match on
/// [`kind`](Self::kind); the message says what to change, in one line, and never holds a secret.
///
/// ```
/// use oauth2_kit::{ConfigErrorKind, Endpoint};
///
/// let refused = "http://auth.example.com/token".parse::<Endpoint>().unwrap_err();
/// assert_eq!(refused.kind(), ConfigErrorKind::InvalidEndpoint);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: Cow<'static, str>,
}

impl ConfigError {
    /// An error of `kind`, saying `message` (for providers and storages written outside this
    /// library that refuse their own configuration).
    pub fn new(kind: ConfigErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What kind of mistake it is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// An operation needs `endpoint`, and it is neither configured nor in the server's metadata.
    pub(crate) fn missing(endpoint: EndpointKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ConfigErrorKind::MissingEndpoint(endpoint), message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The kinds of [`ConfigError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// An operation needs this endpoint, and it is neither configured nor in the server's
    /// metadata.
    MissingEndpoint(EndpointKind),
    /// An endpoint URL that cannot be used: plain `http` outside loopback (without the opt-in),
    /// another scheme, no host, credentials or a fragment in it, or not a URL at all.
    InvalidEndpoint,
    /// An issuer identifier that is not an `https` URL without query and fragment (RFC 8414 §2).
    InvalidIssuer,
    /// A redirect URI that is not absolute with a path, or has a fragment (RFC 6749 §3.1.2).
    InvalidRedirectUri,
    /// An extra parameter the client sets itself, or one given twice.
    ReservedParameter,
    /// A scope outside RFC 6749's grammar.
    InvalidScope,
    /// An origin for the bearer client's allow-list that is not `scheme://host[:port]`.
    InvalidOrigin,
    /// A PKCE verifier of the wrong length or alphabet, or one that does not match the
    /// provider's PKCE setting.
    InvalidPkce,
    /// A login `state` too short to be unguessable.
    WeakLoginState,
    /// Client credentials that cannot be sent.
    InvalidCredentials,
    /// A key that cannot be read or used: not a private key, an unsupported type or curve, an
    /// RSA key under 2048 bits, an algorithm that does not suit it.
    InvalidKey,
    /// A client authentication method or signing algorithm the server's metadata says the
    /// endpoint does not accept: refused before anything is sent, where the server would answer
    /// `invalid_client`.
    UnsupportedByServer,
    /// A setting out of range, or settings that contradict each other (a zero body limit,
    /// `require_issuer` without an issuer, a preset's realm that is no name).
    InvalidSetting,
    /// No async runtime ran a task the library needed (none was running where it was called,
    /// or it shut down).
    NoRuntime,
    /// The operating system's random source failed.
    RandomnessUnavailable,
}

/// The endpoints of an authorization server, as named in [`ConfigErrorKind::MissingEndpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointKind {
    /// The authorization endpoint (RFC 6749 §3.1).
    Authorization,
    /// The token endpoint (RFC 6749 §3.2).
    Token,
    /// The introspection endpoint (RFC 7662).
    Introspection,
    /// The revocation endpoint (RFC 7009).
    Revocation,
    /// The UserInfo endpoint (OpenID Connect Core §5.3).
    UserInfo,
    /// The device authorization endpoint (RFC 8628).
    DeviceAuthorization,
    /// The end-session (logout) endpoint (OpenID Connect RP-Initiated Logout).
    EndSession,
    /// The pushed authorization request endpoint (RFC 9126).
    PushedAuthorization,
    /// The server's JSON Web Key Set (`jwks_uri`), which checks the JWTs it signs.
    Jwks,
}
