//! Keeping the secrets a request carried out of everything built from its answer.
//!
//! A server may echo a credential back ("invalid refresh token: rt-…", a `WWW-Authenticate`
//! quoting the `Authorization` header, a body that repeats the form). Every text an error or a
//! log line takes from an answer is therefore searched for the request's secrets, in every
//! spelling a server could plausibly produce, before it is cut to size:
//!
//! - as sent, and form-urlencoded or percent-encoded (any hex case, `+` or `%20` for a space);
//! - JSON-escaped (`\"`, `\\`, `\/`, `\n`, `\u00e9`, surrogate pairs);
//! - the `Authorization: Basic` credential: base64 (standard or URL-safe, padded or not) of
//!   `urlencode(id):urlencode(secret)`, and of `id:secret` for servers that skip the encoding.
//!
//! The search works on bytes, so a header value that is not valid UTF-8 is redacted as well.
//!
//! Nothing is computed on the success path: the request's secrets are moved here (the form the
//! request was encoded from, and the client credentials by reference count), and the spellings
//! are derived only when an error text is built.

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use bytes::Bytes;

use crate::client_auth::ClientAuth;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// Shorter values are not searched for: they would blank out ordinary words.
const MIN_CHARS: usize = 4;

/// The secrets a request carried (client secret, token, refresh token, password, code, PKCE
/// verifier, device code), so that a server echoing one back in its answer cannot put it into
/// an error message or a log line. Zeroized on drop.
#[derive(Default)]
pub(crate) struct SentSecrets {
    /// The request's form body (shared with the request, not copied); its credential-like
    /// values are secrets. Wiped when dropped, if no one else holds it any more.
    form: Option<Bytes>,
    /// The client's credentials (the secret, and the `Basic` credential made from it).
    client: Option<ClientAuth>,
    /// Other values, such as the bearer token of a UserInfo request.
    others: Vec<Zeroizing<String>>,
    /// Every byte pattern to search for, derived on first use.
    patterns: OnceLock<Vec<Zeroizing<Vec<u8>>>>,
}

impl SentSecrets {
    /// The secrets of a form request: the credential-like values of its body and the client's
    /// secret.
    pub(crate) fn of_request(form: Bytes, client: &ClientAuth) -> Self {
        Self { form: Some(form), client: Some(client.clone()), others: Vec::new(), patterns: OnceLock::new() }
    }

    /// Adds one more secret value.
    pub(crate) fn push(&mut self, value: &str) {
        self.others.push(Zeroizing::new(value.to_owned()));
        self.patterns = OnceLock::new();
    }

    fn patterns(&self) -> &[Zeroizing<Vec<u8>>] {
        self.patterns.get_or_init(|| {
            let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
            let mut add = |pattern: &[u8]| {
                if !pattern.is_empty() && !patterns.iter().any(|known| known.as_slice() == pattern) {
                    patterns.push(Zeroizing::new(pattern.to_vec()));
                }
            };
            let long_enough = |value: &str| value.chars().count() >= MIN_CHARS;
            let form_values = self.form.iter().flat_map(|body| crate::form::secret_values(body));
            let others = self.others.iter().cloned();
            for value in form_values.chain(others).filter(|v| long_enough(v)) {
                add(value.as_bytes());
            }
            if let Some(client) = &self.client {
                let secret = client.secret();
                if long_enough(secret) {
                    add(secret.as_bytes());
                    let id = client.client_id().as_str();
                    for credential in [client.basic_credential(), Zeroizing::new(format!("{id}:{secret}"))] {
                        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                            add(Zeroizing::new(engine.encode(credential.as_bytes())).as_bytes());
                        }
                    }
                }
            }
            patterns
        })
    }

    /// `text` with every sent secret, in any spelling, replaced by `[redacted]`.
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// [`redact`](Self::redact) in place.
    pub(crate) fn redact_string(&self, text: &mut String) {
        if let Cow::Owned(redacted) = self.redact(text) {
            *text = redacted;
        }
    }

    /// `bytes` with every sent secret, in any spelling, replaced by `[redacted]`.
    pub(crate) fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let patterns = self.patterns();
        if patterns.is_empty() || bytes.is_empty() {
            return Cow::Borrowed(bytes);
        }
        let mut ranges = Vec::new();
        for view in [
            View::Raw,
            View::Percent { plus_is_space: true },
            View::Percent { plus_is_space: false },
            View::Json,
        ] {
            let decoded = view.decode(bytes);
            for pattern in patterns {
                find_all(&decoded, pattern, &mut ranges);
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(bytes);
        }
        ranges.sort_unstable();
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for (start, end) in ranges {
            if end <= at {
                continue;
            }
            if start >= at {
                out.extend_from_slice(bytes.get(at..start).unwrap_or_default());
                out.extend_from_slice(REDACTED.as_bytes());
            }
            at = end;
        }
        out.extend_from_slice(bytes.get(at..).unwrap_or_default());
        Cow::Owned(out)
    }
}

impl Drop for SentSecrets {
    fn drop(&mut self) {
        // The body is wiped by the last of the request and this to let go of it.
        if let Some(body) = self.form.take() {
            if let Ok(mut body) = body.try_into_mut() {
                zeroize::Zeroize::zeroize(&mut body[..]);
            }
        }
    }
}

/// A reading of the text in which an encoded secret appears as its plain bytes.
#[derive(Clone, Copy)]
enum View {
    Raw,
    Percent { plus_is_space: bool },
    Json,
}

/// A text as one [`View`] reads it: the decoded bytes, and for each the range of the text it
/// was read from.
struct Decoded {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl View {
    fn decode(self, text: &[u8]) -> Decoded {
        let mut decoded =
            Decoded { bytes: Vec::with_capacity(text.len()), spans: Vec::with_capacity(text.len()) };
        let mut i = 0;
        while let Some(&byte) = text.get(i) {
            let mut buf = [byte, 0, 0, 0];
            let (len, used) = match self {
                Self::Raw => (1, 1),
                Self::Percent { plus_is_space } => match byte {
                    b'%' => match hex_value(text.get(i + 1..i + 3)) {
                        Some(value) => {
                            buf[0] = value as u8;
                            (1, 3)
                        }
                        None => (1, 1),
                    },
                    b'+' if plus_is_space => {
                        buf[0] = b' ';
                        (1, 1)
                    }
                    _ => (1, 1),
                },
                Self::Json => json_unescape(text, i, &mut buf).unwrap_or((1, 1)),
            };
            let end = i + used;
            for b in buf.iter().take(len) {
                decoded.bytes.push(*b);
                decoded.spans.push((i, end));
            }
            i = end;
        }
        decoded
    }
}

/// The value of hex digits, if `digits` is all hex.
fn hex_value(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Decodes the JSON escape at `text[i..]` into `buf`: how many bytes it stands for and how many
/// bytes of text it takes.
fn json_unescape(text: &[u8], i: usize, buf: &mut [u8; 4]) -> Option<(usize, usize)> {
    if text.get(i) != Some(&b'\\') {
        return None;
    }
    let simple = match text.get(i + 1)? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let unit = hex_value(text.get(i + 2..i + 6))?;
            let (code, used) = if (0xD800..0xDC00).contains(&unit) {
                // A high surrogate: only meaningful with the low one after it.
                let low = match (text.get(i + 6), text.get(i + 7)) {
                    (Some(b'\\'), Some(b'u')) => hex_value(text.get(i + 8..i + 12))?,
                    _ => return None,
                };
                if !(0xDC00..0xE000).contains(&low) {
                    return None;
                }
                (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12)
            } else {
                (unit, 6)
            };
            return Some((char::from_u32(code)?.encode_utf8(buf).len(), used));
        }
        _ => return None,
    };
    buf[0] = simple;
    Some((1, 2))
}

/// Adds to `ranges` the text range of every occurrence of `pattern` in `decoded`.
fn find_all(decoded: &Decoded, pattern: &[u8], ranges: &mut Vec<(usize, usize)>) {
    // Overlapping occurrences too: each must be covered to its end.
    let finder = memchr::memmem::Finder::new(pattern);
    let mut at = 0;
    while let Some(found) = decoded.bytes.get(at..).and_then(|rest| finder.find(rest)) {
        let start = at + found;
        let from = decoded.spans.get(start).map_or(0, |span| span.0);
        let to = decoded.spans.get(start + pattern.len().saturating_sub(1)).map_or(from, |span| span.1);
        ranges.push((from, to));
        at = start + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(values: &[&str]) -> SentSecrets {
        let mut sent = SentSecrets::default();
        for value in values {
            sent.push(value);
        }
        sent
    }

    #[test]
    fn every_spelling_is_redacted() {
        let sent = sent(&["p@ss word/\"é+x", "rt-0123456789"]);
        for echo in [
            "p@ss word/\"é+x",
            "p%40ss+word%2F%22%C3%A9%2Bx",
            "p%40ss%20word%2f%22%c3%a9%2bx",
            "p@ss%20word/\"é+x",
            r#"p@ss word\/\"\u00e9+x"#,
            r#"p\u0040ss word/\"\u00E9+x"#,
            "rt-0123456789",
            "rt%2D0123456789",
        ] {
            let text = format!("error for <{echo}> here");
            let shown = sent.redact(&text);
            assert!(shown.ends_with("> here") && shown.contains("<[redacted]>"), "{echo}: {shown}");
        }
        assert_eq!(sent.redact("abc abc"), "abc abc");
    }

    #[test]
    fn surrogate_pairs_are_read() {
        let sent = sent(&["key-😀-x"]);
        assert_eq!(sent.redact(r#"a key-\ud83d\ude00-x b"#), "a [redacted] b");
    }

    #[test]
    fn the_basic_credential_is_redacted() {
        let mut form = crate::form::Form::new();
        form.push("grant_type", "client_credentials");
        form.push("refresh_token", "rt-sent in the form");
        let auth = ClientAuth::new("my client", "s3cr:t+/é");
        let sent = SentSecrets::of_request(form.into_body(), &auth);
        assert_eq!(sent.redact("echo: rt-sent in the form"), "echo: [redacted]");
        let basic = auth.basic_credential();
        for engine in [&base64::engine::general_purpose::STANDARD, &URL_SAFE_NO_PAD] {
            let echoed = format!("bad header: Basic {}", engine.encode(basic.as_bytes()));
            let shown = sent.redact(&echoed);
            assert!(shown.starts_with("bad header: Basic [redacted]"), "{shown}");
        }
        let raw = base64::engine::general_purpose::STANDARD.encode("my client:s3cr:t+/é");
        assert!(!sent.redact(&format!("x {raw}")).contains(&raw[..8]));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_redacted() {
        let sent = sent(&["tok-secret"]);
        let value = b"Bearer error=\"invalid_token\", \xff tok-secret";
        assert_eq!(sent.redact_bytes(value).as_ref(), b"Bearer error=\"invalid_token\", \xff [redacted]");
    }

    #[test]
    fn overlapping_matches_leave_nothing_behind() {
        let sent = sent(&["abcdabcd", "cdab"]);
        assert_eq!(sent.redact("xabcdabcdabx"), "x[redacted]x");
        assert_eq!(sent.redact("xcdabcdabx"), "x[redacted][redacted]x");
    }
}
