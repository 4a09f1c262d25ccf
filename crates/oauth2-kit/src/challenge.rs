//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1), and what a 401 says about a bearer token
//! (RFC 6750 §3).

use std::fmt;

use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;

/// One authentication challenge of a `WWW-Authenticate` header: a scheme with either a token68
/// or a list of parameters.
///
/// ```
/// use oauth2_kit::bearer::Challenge;
///
/// let challenges = Challenge::parse(
///     br#"Basic realm="api", Bearer realm="api", error="invalid_token", error_description="expired""#,
/// )?;
/// assert_eq!(challenges.len(), 2);
/// let bearer = challenges.iter().find(|c| c.is_bearer()).unwrap();
/// assert_eq!(bearer.param("error"), Some("invalid_token"));
/// assert_eq!(bearer.param("Error_Description"), Some("expired"));
/// # Ok::<(), oauth2_kit::bearer::ChallengeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    scheme: String,
    token68: Option<String>,
    params: Vec<(String, String)>,
}

impl Challenge {
    /// Parses a header value: one or more comma-separated challenges. Quoted strings are
    /// unescaped; parameter names are lowercased (they are case-insensitive). Fails on the first
    /// syntax error, naming its byte position.
    pub fn parse(value: &[u8]) -> Result<Vec<Challenge>, ChallengeError> {
        let (challenges, error) = parse_prefix(value);
        match error {
            Some(error) => Err(error),
            None => Ok(challenges),
        }
    }

    /// The auth-scheme, as sent (compare case-insensitively).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether the scheme is `Bearer` (in any case).
    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }

    /// Whether the scheme is `DPoP` (RFC 9449 §7.1; compared case-insensitively).
    pub fn is_dpop(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("dpop")
    }

    /// A challenge of a scheme that carries access tokens: `Bearer` or `DPoP`.
    fn is_token_scheme(&self) -> bool {
        self.is_bearer() || self.is_dpop()
    }

    /// The token68 form's value (`Negotiate <blob>`), if the challenge has one.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }

    /// The first parameter named `name` (case-insensitive), unquoted.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every parameter, in order, names lowercased.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// A `WWW-Authenticate` value that is not a list of challenges.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed WWW-Authenticate challenge at byte {position}: expected {expected}")]
pub struct ChallengeError {
    /// Where the syntax breaks, in bytes from the start of the value.
    pub position: usize,
    /// What the grammar wanted there.
    pub expected: &'static str,
}

/// Whether a `401` invites a retry with a new token: a `Bearer` (or `DPoP`) challenge with
/// `error="invalid_token"` or no error (RFC 6750 §3.1: the token expired, was revoked, or none
/// was accepted).
///
/// Not for `insufficient_scope` or `invalid_request` (a new token of the same scope would fare
/// no better), nor when only other schemes are challenged. A `401` with no `WWW-Authenticate` at
/// all (or only empty ones), which RFC 6750 forbids but real servers send, counts as a rejected
/// token. Of a malformed header, what can be read counts: the challenges before the fault, and
/// the parameters of the broken one read before it.
///
/// For a request that carried a DPoP proof (`proven`), only the `DPoP` challenges count when
/// there are any (RFC 9449 §7.2 lets a server offer both schemes: its error-less `Bearer`
/// challenge says nothing about a DPoP token).
pub(crate) fn invites_new_token(headers: &HeaderMap, proven: bool) -> bool {
    let mut values = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
        .peekable();
    if values.peek().is_none() {
        return true;
    }
    let challenges: Vec<Challenge> =
        values.flat_map(|value| readable(value.as_bytes())).filter(Challenge::is_token_scheme).collect();
    let dpop_only = proven && challenges.iter().any(Challenge::is_dpop);
    challenges.iter().filter(|challenge| !dpop_only || challenge.is_dpop()).any(|challenge| {
        match challenge.param("error") {
            None => true,
            Some(error) => error == "invalid_token",
        }
    })
}

/// Whether a `401`'s `WWW-Authenticate` asks for a DPoP proof with the server's nonce (RFC 9449
/// §9: `DPoP error="use_dpop_nonce"`).
pub(crate) fn asks_for_dpop_nonce(headers: &HeaderMap) -> bool {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .flat_map(|value| readable(value.as_bytes()))
        .any(|challenge| challenge.is_dpop() && challenge.param("error") == Some("use_dpop_nonce"))
}

/// The challenges up to the first syntax error, and that error.
fn parse_prefix(value: &[u8]) -> (Vec<Challenge>, Option<ChallengeError>) {
    let (challenges, failure) = parse_lenient(value);
    (challenges, failure.map(|(error, _)| error))
}

/// What a sender meant, as far as it can be read: every whole challenge, and the one broken by
/// a syntax error with the parameters read before the fault (`Bearer realm="api"
/// error="invalid_token"`, without its comma, still says `invalid_token`).
fn readable(value: &[u8]) -> Vec<Challenge> {
    let (mut challenges, failure) = parse_lenient(value);
    challenges.extend(failure.and_then(|(_, partial)| partial));
    challenges
}

type Failure = (ChallengeError, Option<Challenge>);

fn parse_lenient(value: &[u8]) -> (Vec<Challenge>, Option<Failure>) {
    let mut cursor = Cursor { bytes: value, pos: 0 };
    let mut challenges = Vec::new();
    loop {
        match cursor.challenge() {
            Ok(Some(challenge)) => challenges.push(challenge),
            Ok(None) => return (challenges, None),
            Err(failure) => return (challenges, Some(failure)),
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn error(&self, expected: &'static str) -> ChallengeError {
        ChallengeError { position: self.pos, expected }
    }

    /// Optional whitespace; returns how much there was.
    fn skip_ows(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Whitespace and empty list elements.
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        // Only ASCII bytes are accepted, so the slice is UTF-8.
        self.bytes.get(start..self.pos).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }

    fn token(&mut self) -> Option<String> {
        let token = self.take_while(is_tchar);
        (!token.is_empty()).then(|| token.to_owned())
    }

    /// Whether an `auth-param` (`name = value`) starts here, looking ahead without moving.
    fn at_param(&self) -> bool {
        let mut probe = Cursor { bytes: self.bytes, pos: self.pos };
        if probe.take_while(is_tchar).is_empty() {
            return false;
        }
        probe.skip_ows();
        if probe.peek() != Some(b'=') {
            return false;
        }
        probe.pos += 1;
        probe.skip_ows();
        // `abc==` or `abc=` at the end is a token68 with padding, not a parameter.
        probe.peek().is_some_and(|b| b == b'"' || is_tchar(b))
    }

    /// The next challenge, `None` at the end of the list. On a syntax error, the challenge
    /// read so far, if its scheme was.
    fn challenge(&mut self) -> Result<Option<Challenge>, Failure> {
        self.skip_separators();
        if self.at_end() {
            return Ok(None);
        }
        let scheme = self.token().ok_or_else(|| (self.error("an auth-scheme"), None))?;
        let mut challenge = Challenge { scheme, token68: None, params: Vec::new() };
        let spaces = self.skip_ows();
        if self.at_end() || self.peek() == Some(b',') {
            return Ok(Some(challenge));
        }
        if spaces == 0 {
            return Err((self.error("a space or a comma after the auth-scheme"), Some(challenge)));
        }
        if self.at_param() {
            if let Err(error) = self.params(&mut challenge.params) {
                return Err((error, Some(challenge)));
            }
        } else {
            let body = self.take_while(is_token68_char).len();
            if body == 0 {
                return Err((self.error("a token68 or an auth-param"), Some(challenge)));
            }
            let start = self.pos - body;
            self.take_while(|b| b == b'=');
            challenge.token68 =
                self.bytes.get(start..self.pos).map(|b| String::from_utf8_lossy(b).into_owned());
            self.skip_ows();
            if !self.at_end() && self.peek() != Some(b',') {
                return Err((self.error("a comma after the token68"), Some(challenge)));
            }
        }
        Ok(Some(challenge))
    }

    /// `#auth-param`: parameters until the list moves on to the next challenge.
    fn params(&mut self, params: &mut Vec<(String, String)>) -> Result<(), ChallengeError> {
        loop {
            let name = self.token().ok_or_else(|| self.error("a parameter name"))?;
            self.skip_ows();
            if self.peek() != Some(b'=') {
                return Err(self.error("`=` after the parameter name"));
            }
            self.pos += 1;
            self.skip_ows();
            let value = if self.peek() == Some(b'"') {
                self.quoted_string()?
            } else {
                self.token().ok_or_else(|| self.error("a token or a quoted string"))?
            };
            params.push((name.to_ascii_lowercase(), value));
            self.skip_ows();
            if self.at_end() {
                return Ok(());
            }
            if self.peek() != Some(b',') {
                return Err(self.error("a comma between parameters"));
            }
            let before_comma = self.pos;
            self.skip_separators();
            if self.at_end() {
                return Ok(());
            }
            if !self.at_param() {
                // The next challenge starts here.
                self.pos = before_comma;
                return Ok(());
            }
        }
    }

    fn quoted_string(&mut self) -> Result<String, ChallengeError> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("a closing quote")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if b == b'\t' || b == b' ' || b.is_ascii_graphic() || b >= 0x80 => {
                            out.push(b)
                        }
                        _ => return Err(self.error("an escaped character")),
                    }
                }
                Some(b) if b == b'\t' || b == b' ' || (b.is_ascii_graphic() && b != b'\\') || b >= 0x80 => {
                    out.push(b)
                }
                Some(_) => return Err(self.error("a character allowed in a quoted string")),
            }
            self.pos += 1;
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(token68) = &self.token68 {
            write!(f, " {token68}")?;
        }
        for (i, (name, value)) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{name}=\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params().collect()
    }

    #[test]
    fn rfc6750_examples() {
        let c = Challenge::parse(br#"Bearer realm="example""#).unwrap();
        assert_eq!(c.len(), 1);
        assert!(c[0].is_bearer());
        assert_eq!(params(&c[0]), [("realm", "example")]);

        let c = Challenge::parse(
            br#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        )
        .unwrap();
        assert_eq!(c[0].param("error"), Some("invalid_token"));
        assert_eq!(c[0].param("error_description"), Some("The access token expired"));
    }

    #[test]
    fn several_challenges_token68_and_bare_schemes() {
        let c = Challenge::parse(b"Negotiate abc+/def==, Basic realm=x , Bearer,NTLM").unwrap();
        let schemes: Vec<_> = c.iter().map(Challenge::scheme).collect();
        assert_eq!(schemes, ["Negotiate", "Basic", "Bearer", "NTLM"]);
        assert_eq!(c[0].token68(), Some("abc+/def=="));
        assert_eq!(params(&c[1]), [("realm", "x")]);
        assert!(c[2].params().next().is_none() && c[2].token68().is_none());
    }

    #[test]
    fn quoted_strings_unescape_and_may_hold_commas() {
        let c = Challenge::parse(br#"Bearer realm="a, \"b\"", scope="read write",  ,Basic"#).unwrap();
        assert_eq!(params(&c[0]), [("realm", r#"a, "b""#), ("scope", "read write")]);
        assert_eq!(c[1].scheme(), "Basic");
    }

    #[test]
    fn names_are_case_insensitive_and_bws_is_allowed() {
        let c = Challenge::parse(b"bEaReR ERROR = invalid_token").unwrap();
        assert!(c[0].is_bearer());
        assert_eq!(c[0].param("error"), Some("invalid_token"));
    }

    #[test]
    fn malformed_values_name_the_position() {
        for (value, position) in [
            (&b"Bearer realm=\"open"[..], 18),
            (b"Bearer realm = ", 13),
            (b"Bearer a b", 9),
            (b"Bearer realm=\"x\" error=y", 17),
            (b"=oops", 0),
            (b"Bearer realm=\"a\x01\"", 15),
            (b"Bearer\"x\"", 6),
        ] {
            let err = Challenge::parse(value).unwrap_err();
            assert_eq!(err.position, position, "{:?}: {err}", String::from_utf8_lossy(value));
        }
        // A bare word after the scheme is a token68, padding included.
        assert_eq!(Challenge::parse(b"Bearer realm=").unwrap()[0].token68(), Some("realm="));
        assert_eq!(Challenge::parse(b"").unwrap(), []);
        assert_eq!(Challenge::parse(b" , ,").unwrap(), []);
    }

    #[test]
    fn display_round_trips() {
        let value = br#"Bearer realm="a \"q\"", error="invalid_token""#;
        let c = Challenge::parse(value).unwrap();
        assert_eq!(Challenge::parse(c[0].to_string().as_bytes()).unwrap(), c);
    }

    fn invites_new_token_plain(headers: &HeaderMap) -> bool {
        invites_new_token(headers, false)
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(WWW_AUTHENTICATE, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn which_401s_invite_a_new_token() {
        assert!(invites_new_token_plain(&headers(&[])));
        assert!(invites_new_token_plain(&headers(&["Bearer"])));
        assert!(invites_new_token_plain(&headers(&[r#"Bearer realm="x""#])));
        assert!(invites_new_token_plain(&headers(&[r#"Bearer error="invalid_token""#])));
        assert!(invites_new_token_plain(&headers(&["Basic realm=x", r#"Bearer realm="x""#])));
        assert!(invites_new_token_plain(&headers(&[r#"Bearer realm="x", Basic realm="y", broken="#])));
        assert!(invites_new_token_plain(&headers(&[""])));
        assert!(invites_new_token_plain(&headers(&[r#"Bearer realm="api" error="invalid_token""#])));
        assert!(invites_new_token_plain(&headers(&[
            r#"Bearer error="invalid_token", error_uri=https://x/y"#
        ])));

        assert!(!invites_new_token_plain(&headers(&[r#"Bearer error="insufficient_scope", scope="admin""#])));
        assert!(!invites_new_token_plain(&headers(&[r#"Bearer error="invalid_request""#])));
        assert!(!invites_new_token_plain(&headers(&["Basic realm=x"])));
        assert!(
            invites_new_token_plain(&headers(&["Bearer realm=\"unterminated"])),
            "a Bearer challenge without error"
        );
        assert!(!invites_new_token_plain(&headers(&[r#"Bearer error="insufficient_scope" scope="a""#])));
        assert!(!invites_new_token_plain(&headers(&["garbage ===="])));
        // A proven request: the DPoP challenges decide when there are any.
        let both = [r#"Bearer realm="api", DPoP error="use_dpop_nonce""#];
        assert!(invites_new_token(&headers(&both), false), "as a bearer request");
        assert!(!invites_new_token(&headers(&both), true), "a nonce challenge drops no DPoP token");
        assert!(invites_new_token(&headers(&[r#"DPoP error="invalid_token""#]), true));
        assert!(invites_new_token(&headers(&[r#"Bearer error="invalid_token""#]), true), "no DPoP challenge");
    }
}
