//! The one error type of every operation, and the OAuth 2.0 error response (RFC 6749 §5.2).

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value};

pub(crate) mod bearer;
pub(crate) mod callback;
pub(crate) mod jwt;

pub use crate::error::bearer::{BearerError, OriginText};
use crate::error::callback::CallbackError;
pub use crate::error::jwt::JwtError;

use crate::config_error::{ConfigError, ConfigErrorKind};
use crate::http::{TransportError, TransportErrorKind};
use crate::redact::{REDACTED, SentSecrets};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in an OAuth 2.0 operation.
///
/// Every variant for which there was an HTTP response carries its status
/// ([`Error::status`]), and every variant says whether a retry can help
/// ([`Error::is_retryable`]). Messages are one line, fit for a log, and never contain a secret:
/// body excerpts have credential-bearing fields removed.
///
/// Cloning is cheap: a failed token request can be handed to every caller that waited for it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an OAuth 2.0 error response (RFC 6749 §5.2), whatever the status,
    /// including a `200 OK` carrying `{"error": ...}`.
    #[error("authorization server error (HTTP {}): {}", .0.status.as_u16(), .0.response)]
    OAuth2(Box<OAuth2Error>),

    /// The server answered with a status the operation does not expect and no OAuth 2.0 error
    /// body.
    #[error("unexpected HTTP status {status}{}", excerpt_suffix(.body_excerpt))]
    #[non_exhaustive]
    UnexpectedStatus {
        /// The response status.
        status: StatusCode,
        /// The start of the body, with credential-like members removed.
        body_excerpt: String,
        /// The response's `Retry-After` as a delay (either form; see [`Error::retry_after`]).
        retry_after: Option<Duration>,
        /// The response headers that explain an unexpected status: `Location` (without its
        /// query or fragment), `Retry-After`, `WWW-Authenticate`, `Content-Type` and `Date`,
        /// with any secret the request carried taken out.
        headers: Box<HeaderMap>,
    },

    /// A successful status, but the body is not the expected response.
    #[error("undecodable response (HTTP {}): {}{}", .status.as_u16(), .reason, excerpt_suffix(.body_excerpt))]
    #[non_exhaustive]
    Decode {
        /// The response status.
        status: StatusCode,
        /// The field at fault, if one is (`access_token`, `expires_in`, ...).
        field: Option<&'static str>,
        /// Why decoding failed, naming the field.
        reason: String,
        /// The body's shape (member names and kinds of values, never values), or the start of an
        /// HTML page.
        body_excerpt: String,
    },

    /// The request or response could not be moved over the network.
    #[error("HTTP transport failed: {0}")]
    Transport(#[from] TransportError),

    /// The input or configuration was refused before anything was sent; match on its
    /// [`kind`](ConfigError::kind).
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),

    /// A bearer client refused to attach the token: the destination is not trusted with it, or
    /// the token cannot be sent as a bearer token. Nothing was sent.
    #[error("bearer token not sent: {0}")]
    Bearer(#[from] BearerError),

    /// A bearer client had no token to attach, so nothing was sent: the token provider's error
    /// is inside (the token endpoint's answer, a transport failure of the token request, ...).
    /// Retryable when that error is. A refused destination or token type is
    /// [`Bearer`](Self::Bearer) instead, and a failure of the request itself is
    /// [`Transport`](Self::Transport): the three never mix.
    #[error("no access token, request not sent: {0}")]
    NoToken(#[source] Box<Error>),

    /// A login callback was refused (wrong `state`, an error from the server, another issuer):
    /// nothing was sent to the token endpoint.
    #[error("login callback refused: {0}")]
    Callback(#[from] CallbackError),

    /// A token fetch ended without a result: the token provider panicked (`panicked`), or the
    /// async runtime running the fetch stopped before it finished. The next call starts a new
    /// fetch, which may well succeed: the error is [retryable](Error::is_retryable).
    #[error("the token fetch ended without a result: {}", if *.panicked { "the token provider panicked" } else { "the async runtime running it stopped first" })]
    #[non_exhaustive]
    FetchAborted {
        /// Whether the token provider panicked (else the runtime dropped the fetch).
        panicked: bool,
    },

    /// The device authorization's codes expired before the user approved or denied (RFC 8628
    /// §3.5): start a new one.
    #[error("the device code expired before the user answered ({polls} token requests sent)")]
    #[non_exhaustive]
    DeviceCodeExpired {
        /// How many token requests were sent while waiting.
        polls: u32,
    },

    /// A signed client assertion could not be made (a KMS that refused or could not be reached,
    /// a key that cannot sign, the random source failing): nothing was sent.
    #[error("the client assertion could not be signed: {0}")]
    Signing(#[from] crate::signing::SigningError),

    /// A JWT from the server was refused (an ID token, a signed introspection response): its
    /// signature, issuer, audience, times or nonce. Match on the [`JwtError`].
    #[error("JWT refused: {0}")]
    Jwt(#[from] JwtError),
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() { String::new() } else { format!("; body: {excerpt}") }
}

impl Error {
    /// The HTTP status of the response, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::OAuth2(e) => Some(e.status),
            Self::UnexpectedStatus { status, .. } | Self::Decode { status, .. } => Some(*status),
            Self::Transport(e) => e.status(),
            Self::Config(_)
            | Self::Bearer(_)
            | Self::NoToken(_)
            | Self::Callback(_)
            | Self::DeviceCodeExpired { .. }
            | Self::Signing(_)
            | Self::Jwt(_)
            | Self::FetchAborted { .. } => None,
        }
    }

    /// The longest delay [`retry_after`](Self::retry_after) returns: a server asking for more
    /// (or for a number of seconds too large to read) is read as asking for this long.
    pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

    /// How long the server asked to wait before retrying, if it did: `Retry-After` in seconds,
    /// or as an HTTP date (counted from the response's `Date`, or from the time the response was
    /// read when it has none). At most [`MAX_RETRY_AFTER`](Self::MAX_RETRY_AFTER), so adding it
    /// to an `Instant` cannot overflow.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::OAuth2(e) => e.retry_after,
            Self::UnexpectedStatus { retry_after, .. } => *retry_after,
            Self::NoToken(e) => e.retry_after(),
            _ => None,
        }
    }

    /// Whether the same request, sent again later, could succeed.
    ///
    /// Yes for `temporarily_unavailable` and `server_error` responses, statuses 408, 429, 500,
    /// 502, 503 and 504, transport failures the transport calls retryable (connect failures,
    /// timeouts, resets), and a fetch that ended without a result. No for everything else: a wrong secret or a malformed response does not
    /// mend itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::OAuth2(e) => {
                matches!(e.response.error, ErrorCode::TemporarilyUnavailable | ErrorCode::ServerError)
                    || is_retryable_status(e.status)
            }
            Self::UnexpectedStatus { status, .. } => is_retryable_status(*status),
            Self::Transport(e) => e.is_retryable(),
            Self::FetchAborted { .. } => true,
            Self::NoToken(e) => e.is_retryable(),
            Self::Jwt(JwtError::KeysUnavailable(e)) => e.is_retryable(),
            Self::Jwt(_) => false,
            Self::Decode { .. }
            | Self::Config(_)
            | Self::Bearer(_)
            | Self::Callback(_)
            | Self::DeviceCodeExpired { .. }
            | Self::Signing(_) => false,
        }
    }

    /// The OAuth 2.0 error response, if the server sent one.
    pub fn oauth2(&self) -> Option<&OAuth2Error> {
        match self {
            Self::OAuth2(e) => Some(e),
            _ => None,
        }
    }

    /// The transport failure kind, if the error is a transport failure.
    pub fn transport_kind(&self) -> Option<TransportErrorKind> {
        match self {
            Self::Transport(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// The kind of configuration error, if this is one.
    pub fn config_kind(&self) -> Option<ConfigErrorKind> {
        match self {
            Self::Config(e) => Some(e.kind()),
            _ => None,
        }
    }
}

/// `Retry-After` (RFC 9110 §10.2.3) as a delay of at most [`Error::MAX_RETRY_AFTER`]: a number
/// of seconds, or an HTTP date counted from the response's `Date` (the server's own clock, so
/// clock skew does not matter) or, without one, from `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds: "not for a very long time", not "no advice".
        value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let date = headers
            .get(http::header::DATE)
            .and_then(|date| httpdate::parse_http_date(date.to_str().ok()?).ok())
            .unwrap_or(now);
        at.duration_since(date).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(Error::MAX_RETRY_AFTER))
}

/// The response headers an error keeps: those that explain it, and never a cookie or another
/// credential. A `Location` loses its query and fragment; every value loses the secrets the
/// request carried (searched on bytes, so a value that is not UTF-8 is redacted too).
pub(crate) fn kept_headers(all: &HeaderMap, sent: &SentSecrets) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in [
        http::header::RETRY_AFTER,
        http::header::WWW_AUTHENTICATE,
        http::header::CONTENT_TYPE,
        http::header::DATE,
        http::header::LOCATION,
    ] {
        for value in all.get_all(&name) {
            let mut bytes = value.as_bytes();
            if name == http::header::LOCATION {
                let end = bytes.iter().position(|b| matches!(b, b'?' | b'#')).unwrap_or(bytes.len());
                bytes = bytes.get(..end).unwrap_or_default();
            }
            let redacted = sent.redact_bytes(bytes);
            let kept = HeaderValue::from_bytes(&redacted).unwrap_or(HeaderValue::from_static(REDACTED));
            headers.append(name.clone(), kept);
        }
    }
    headers
}

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// An OAuth 2.0 error response with the parts of the HTTP response that matter for it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuth2Error {
    /// The response status (400 or 401 for most errors, but any status is possible).
    pub status: StatusCode,
    /// The decoded error body.
    pub response: ErrorResponse,
    /// The response's `Retry-After`, `WWW-Authenticate`, `Content-Type`, `Date` and `Location`
    /// headers (only these, so that no cookie or other credential is kept).
    pub headers: HeaderMap,
    /// `Retry-After` as a delay, read when the response arrived.
    retry_after: Option<Duration>,
}

impl OAuth2Error {
    /// An error response as received: `status`, the decoded body, and the response headers (of
    /// which only `Retry-After`, `WWW-Authenticate`, `Content-Type`, `Date` and `Location` are
    /// kept; a `Retry-After` date is counted from the response's `Date`, or from now).
    pub fn new(status: StatusCode, response: ErrorResponse, all_headers: &HeaderMap) -> Self {
        Self::received(status, response, all_headers, &SentSecrets::default(), std::time::SystemTime::now())
    }

    pub(crate) fn received(
        status: StatusCode,
        response: ErrorResponse,
        all_headers: &HeaderMap,
        sent: &SentSecrets,
        now: std::time::SystemTime,
    ) -> Self {
        let headers = kept_headers(all_headers, sent);
        let retry_after = retry_after(&headers, now);
        Self { status, response, headers, retry_after }
    }

    /// How long the server asked to wait before retrying, if it did (see
    /// [`Error::retry_after`]).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The `WWW-Authenticate` header, if the server sent one.
    pub fn www_authenticate(&self) -> Option<&HeaderValue> {
        self.headers.get(http::header::WWW_AUTHENTICATE)
    }
}

/// An OAuth 2.0 error response body (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The error code.
    pub error: ErrorCode,
    /// Human-readable text from the server.
    pub error_description: Option<String>,
    /// A page about the error.
    pub error_uri: Option<String>,
    /// The body's other members, as sent (servers add their own: `error_codes`, `trace_id`,
    /// `correlation_id`, ...), except that members whose names say they hold a credential are
    /// replaced by `"[redacted]"`, the secrets the request carried are taken out of every name,
    /// string and number, strings are cut to one line of 500 characters, and no more than 8 KiB
    /// of members are kept (so that cloning an error stays cheap).
    pub extra: Map<String, Value>,
}

impl ErrorResponse {
    /// An error response with only a code.
    pub fn new(error: ErrorCode) -> Self {
        Self { error, error_description: None, error_uri: None, extra: Map::new() }
    }

    /// Reads an error response from a JSON object that has a string `error` member; `None` when
    /// the object is not an error response. Every text loses the secrets the request carried
    /// first, on the whole text, and is then made one line and cut to size.
    pub(crate) fn from_object(object: &Map<String, Value>, sent: &SentSecrets) -> Option<Self> {
        let code = object.get("error")?.as_str()?;
        // Server text goes into log lines: no secret, one line, no control characters, bounded.
        let text =
            |key: &str| object.get(key).and_then(Value::as_str).map(|v| crate::excerpt::shown(v, sent, 500));
        Some(Self {
            error: ErrorCode::from(crate::excerpt::shown(code, sent, 100).as_str()),
            error_description: text("error_description"),
            error_uri: text("error_uri"),
            extra: crate::excerpt::kept_members(object, &["error", "error_description", "error_uri"], sent),
        })
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(description) = &self.error_description {
            write!(f, ": {}", crate::excerpt::clip(description, 200))?;
        }
        Ok(())
    }
}

/// An OAuth 2.0 error code: the registered ones of RFC 6749 §5.2 (and §4.1.2.1, RFC 6750,
/// RFC 7009, RFC 8628) by name, any other kept as a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `unsupported_token_type` (RFC 7009)
    UnsupportedTokenType,
    /// `authorization_pending` (RFC 8628)
    AuthorizationPending,
    /// `slow_down` (RFC 8628)
    SlowDown,
    /// `expired_token` (RFC 8628)
    ExpiredToken,
    /// `invalid_token` (RFC 6750, from a resource server or UserInfo endpoint)
    InvalidToken,
    /// `insufficient_scope` (RFC 6750)
    InsufficientScope,
    /// Any other code, as sent.
    Other(String),
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::Other(code) => code,
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "unsupported_token_type" => Self::UnsupportedTokenType,
            "authorization_pending" => Self::AuthorizationPending,
            "slow_down" => Self::SlowDown,
            "expired_token" => Self::ExpiredToken,
            "invalid_token" => Self::InvalidToken,
            "insufficient_scope" => Self::InsufficientScope,
            other => Self::Other(crate::excerpt::clip(&crate::excerpt::one_line(other), 100).into_owned()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<crate::scope::ScopeError> for Error {
    fn from(error: crate::scope::ScopeError) -> Self {
        Self::Config(ConfigError::new(ConfigErrorKind::InvalidScope, error.to_string()))
    }
}

#[cfg(test)]
mod docs_tests {
    /// The variants of `Error`, read from this file's source, so that the check below cannot
    /// fall behind the enum.
    fn variants() -> Vec<String> {
        let source = include_str!("mod.rs");
        let body = source.split("pub enum Error {").nth(1).and_then(|rest| rest.split("\n}\n").next());
        body.unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix("    "))
            .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|line| line.chars().take_while(char::is_ascii_alphanumeric).collect())
            .collect()
    }

    /// The variants `docs/errors.md` lists: the first column of its table.
    fn documented() -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("guide/errors.md");
        let page = std::fs::read_to_string(path).unwrap_or_default();
        page.lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .map(|line| line.chars().take_while(char::is_ascii_alphanumeric).collect())
            .collect()
    }

    #[test]
    fn the_errors_page_lists_every_variant_and_no_other() {
        let variants = variants();
        assert!(variants.len() >= 10, "read {variants:?} from error.rs");
        assert_eq!(documented(), variants, "docs/errors.md's table, in the enum's order");
    }
}
