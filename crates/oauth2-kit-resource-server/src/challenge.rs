//! The answers RFC 6750 §3 (and RFC 9449 §7.1 for DPoP) gives a request whose token is missing,
//! invalid or short of scope: a status and a `WWW-Authenticate` challenge, an empty body, no
//! detail that would help an attacker.

use http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use oauth2_kit::Scope;

/// The DPoP algorithms a resource server accepts, for its challenges.
const DPOP_ALGS: &str = "ES256 EdDSA RS256 PS256";

/// How a token came: the scheme of the challenge that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    DPoP,
}

/// What went wrong, as the client is told.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// No token: `401`, a challenge without an error.
    NoToken,
    /// `400 invalid_request`: two tokens, a token in the query string where none is taken.
    InvalidRequest,
    /// `401 invalid_token`.
    InvalidToken(Scheme),
    /// `401 invalid_dpop_proof`.
    InvalidProof,
    /// `403 insufficient_scope`, naming the scope needed.
    InsufficientScope(Scheme, Scope),
    /// `503`: the token could not be checked now.
    Unavailable,
}

/// The settings every answer needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Challenger {
    pub(crate) realm: Option<String>,
    pub(crate) dpop: bool,
}

impl Challenger {
    /// The answer to `refusal`.
    pub(crate) fn answer<B: Default>(&self, refusal: &Refusal) -> Response<B> {
        let (status, challenges) = match refusal {
            Refusal::NoToken => (StatusCode::UNAUTHORIZED, self.both(None, None)),
            Refusal::InvalidRequest => {
                (StatusCode::BAD_REQUEST, vec![self.challenge(Scheme::Bearer, Some("invalid_request"), None)])
            }
            Refusal::InvalidToken(scheme) => {
                (StatusCode::UNAUTHORIZED, vec![self.challenge(*scheme, Some("invalid_token"), None)])
            }
            Refusal::InvalidProof => (
                StatusCode::UNAUTHORIZED,
                vec![self.challenge(Scheme::DPoP, Some("invalid_dpop_proof"), None)],
            ),
            Refusal::InsufficientScope(scheme, scope) => (
                StatusCode::FORBIDDEN,
                vec![self.challenge(*scheme, Some("insufficient_scope"), Some(scope.as_str()))],
            ),
            Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Vec::new()),
        };
        let mut response = Response::new(B::default());
        *response.status_mut() = status;
        let headers = response.headers_mut();
        for challenge in challenges {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.append(WWW_AUTHENTICATE, value);
            }
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// A `Bearer` challenge, and a `DPoP` one when DPoP tokens are taken.
    fn both(&self, error: Option<&str>, scope: Option<&str>) -> Vec<String> {
        let mut challenges = vec![self.challenge(Scheme::Bearer, error, scope)];
        if self.dpop {
            challenges.push(self.challenge(Scheme::DPoP, error, scope));
        }
        challenges
    }

    fn challenge(&self, scheme: Scheme, error: Option<&str>, scope: Option<&str>) -> String {
        let mut params = Vec::new();
        if let Some(realm) = &self.realm {
            params.push(format!("realm=\"{}\"", quoted(realm)));
        }
        if scheme == Scheme::DPoP {
            params.push(format!("algs=\"{DPOP_ALGS}\""));
        }
        if let Some(error) = error {
            params.push(format!("error=\"{error}\""));
        }
        if let Some(scope) = scope {
            params.push(format!("scope=\"{}\"", quoted(scope)));
        }
        let name = match scheme {
            Scheme::Bearer => "Bearer",
            Scheme::DPoP => "DPoP",
        };
        if params.is_empty() { name.to_owned() } else { format!("{name} {}", params.join(", ")) }
    }
}

/// `text` fit for a quoted-string in a header value: quotes and backslashes escaped, anything
/// but printable ASCII dropped.
fn quoted(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}
