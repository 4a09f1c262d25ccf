//! Keeping the secrets a request carried out of everything built from its answer.
//!
//! A server may echo a credential back ("invalid refresh token: rt-…", a `WWW-Authenticate`
//! quoting the `Authorization` header, a body that repeats the form). Every text an error or a
//! log line takes from an answer is therefore searched for the request's secrets, in every
//! spelling a server could plausibly produce, before it is cut to size:
//!
//! - as sent, in any ASCII case;
//! - form-urlencoded or percent-encoded (any hex case, `+` or `%20` for a space), once or twice;
//! - JSON-escaped (`\"`, `\\`, `\/`, `\n`, `\u00e9`, surrogate pairs), alone or percent-encoded;
//! - HTML-escaped (`&quot;`, `&#34;`, `&#x22;`, ...), alone or percent-encoded;
//! - with control characters or bidirectional overrides slipped in (which a one-line text drops);
//! - in ISO-8859-1 (Latin-1) bytes, as Java servers write header values;
//! - the `Authorization: Basic` credential: base64 (standard or URL-safe, padded or not) of
//!   `urlencode(id):urlencode(secret)`, and of `id:secret` for servers that skip the encoding.
//!
//! The search works on bytes, so a header value that is not valid UTF-8 is redacted as well.
//! Secrets split by the server into pieces (one half in each member) are not recognised.
//!
//! Nothing is computed on the success path: the request's secrets are moved here (the request's
//! body and the client credentials, by reference count), and the spellings are derived only
//! when an error text is built.

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use memchr::memmem::Finder;
use zeroize::Zeroizing;

use crate::client_auth::ClientAuth;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// Shorter values are not searched for: they would blank out ordinary words.
const MIN_CHARS: usize = 4;

/// How many bytes of text one byte of a secret can take in the longest spelling searched (a
/// JSON escape, percent-encoded: `%5Cu0041` and more for a character of four bytes).
const MAX_EXPANSION: usize = 24;

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
    /// What to search for, derived on first use.
    patterns: OnceLock<Patterns>,
}

/// The byte patterns to search for (ASCII lower case), and the secrets made of digits only
/// (which a JSON number may carry, rounded).
#[derive(Default)]
struct Patterns {
    bytes: Vec<Zeroizing<Vec<u8>>>,
    digits: Vec<Zeroizing<String>>,
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

    fn patterns(&self) -> &Patterns {
        self.patterns.get_or_init(|| {
            let mut patterns = Patterns::default();
            let mut add = |pattern: &[u8]| {
                let pattern = Zeroizing::new(pattern.to_ascii_lowercase());
                if !pattern.is_empty() && !patterns.bytes.iter().any(|known| **known == *pattern) {
                    patterns.bytes.push(pattern);
                }
            };
            let long_enough = |value: &str| value.chars().count() >= MIN_CHARS;
            let form_values = self.form.iter().flat_map(|body| crate::form::secret_values(body));
            let client_secret = self.client.iter().map(|client| Zeroizing::new(client.secret().to_owned()));
            let others = self.others.iter().cloned();
            for value in form_values.chain(client_secret).chain(others).filter(|v| long_enough(v)) {
                add(value.as_bytes());
                // ISO-8859-1, when every character has a byte there and one is not ASCII.
                if !value.is_ascii() && value.chars().all(|c| u32::from(c) <= 0xFF) {
                    let latin1: Zeroizing<Vec<u8>> = Zeroizing::new(
                        value.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect(),
                    );
                    add(&latin1);
                }
                // A signed JWT (a client assertion): its signature alone, too.
                if let [_, _, signature] = value.split('.').collect::<Vec<_>>()[..] {
                    if long_enough(signature) {
                        add(signature.as_bytes());
                    }
                }
                if value.bytes().all(|b| b.is_ascii_digit()) {
                    patterns.digits.push(value.clone());
                }
            }
            // The Basic credential is long even when the secret is short: always searched.
            if let Some(client) = self.client.as_ref().filter(|client| !client.secret().is_empty()) {
                let (id, secret) = (client.client_id().as_str(), client.secret());
                for credential in [client.basic_credential(), Zeroizing::new(format!("{id}:{secret}"))] {
                    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                        add(Zeroizing::new(engine.encode(credential.as_bytes())).as_bytes());
                    }
                }
            }
            patterns
        })
    }

    /// How many bytes of text a secret's longest spelling may take: how far past the shown part
    /// of a text the search must look.
    pub(crate) fn reach(&self) -> usize {
        self.patterns().bytes.iter().map(|p| p.len()).max().unwrap_or(0).saturating_mul(MAX_EXPANSION)
    }

    /// Whether a JSON number carries a secret made of digits: as written, or rounded (a number
    /// too long for a float keeps its first 15 to 17 digits).
    pub(crate) fn number_reveals(&self, number: &serde_json::Number) -> bool {
        let text = number.to_string();
        if matches!(self.redact(&text), Cow::Owned(_)) {
            return true;
        }
        let digits: String =
            text.split(['e', 'E']).next().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
        let digits = digits.trim_end_matches('0');
        digits.len() >= 8 && self.patterns().digits.iter().any(|secret| secret.starts_with(digits))
    }

    /// `text` with every sent secret, in any spelling, replaced by `[redacted]`.
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// `bytes` with every sent secret, in any spelling, replaced by `[redacted]`.
    pub(crate) fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let patterns = &self.patterns().bytes;
        // No spelling is shorter than the pattern it spells.
        let shortest = patterns.iter().map(|p| p.len()).min().unwrap_or(usize::MAX);
        if bytes.len() < shortest {
            return Cow::Borrowed(bytes);
        }
        let finders: Vec<Finder<'_>> = patterns.iter().map(|p| Finder::new(p.as_slice())).collect();
        let raw = Decoded::raw(bytes);
        let mut ranges = Vec::new();
        for views in VIEWS {
            let mut decoded = Cow::Borrowed(&raw);
            for view in *views {
                decoded = Cow::Owned(view.decode(&decoded));
            }
            let mut lowered = decoded.into_owned();
            lowered.bytes.make_ascii_lowercase();
            for finder in &finders {
                find_all(&lowered, finder, &mut ranges);
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

/// The readings searched, each a sequence of decodings applied in turn.
const VIEWS: &[&[View]] = &[
    &[],
    &[View::Percent { plus_is_space: true }],
    &[View::Percent { plus_is_space: false }],
    &[View::Json],
    &[View::Html],
    &[View::Printable],
    &[View::Percent { plus_is_space: true }, View::Percent { plus_is_space: true }],
    &[View::Percent { plus_is_space: true }, View::Json],
    &[View::Json, View::Percent { plus_is_space: true }],
    &[View::Percent { plus_is_space: true }, View::Html],
    &[View::Html, View::Percent { plus_is_space: true }],
];

/// A reading of the text in which an encoded secret appears as its plain bytes.
#[derive(Clone, Copy)]
enum View {
    Percent {
        plus_is_space: bool,
    },
    Json,
    Html,
    /// Without control characters and bidirectional overrides.
    Printable,
}

/// A text as read through views: the decoded bytes, and for each the range of the original
/// text it was read from (32-bit offsets: texts searched are bounded well below 4 GiB).
#[derive(Clone)]
struct Decoded {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl Decoded {
    fn raw(text: &[u8]) -> Self {
        let spans = (0..text.len()).map(|i| (offset(i), offset(i + 1))).collect();
        Self { bytes: text.to_vec(), spans }
    }
}

fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl View {
    /// Reads `input` through this view; spans still point into the original text.
    fn decode(self, input: &Decoded) -> Decoded {
        let text = input.bytes.as_slice();
        let mut decoded =
            Decoded { bytes: Vec::with_capacity(text.len()), spans: Vec::with_capacity(text.len()) };
        let mut i = 0;
        while let Some(&byte) = text.get(i) {
            let mut buf = [byte, 0, 0, 0];
            let (len, used) = match self {
                Self::Percent { plus_is_space } => match byte {
                    b'%' => match hex_value(text.get(i + 1..i + 3)) {
                        Some(value) => {
                            buf[0] = u8::try_from(value).unwrap_or(b'%');
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
                Self::Html => html_unescape(text, i, &mut buf).unwrap_or((1, 1)),
                Self::Printable => match unprintable_len(text, i) {
                    0 => (1, 1),
                    skip => (0, skip),
                },
            };
            let end = i + used;
            let from = input.spans.get(i).map_or(0, |span| span.0);
            let to = input.spans.get(end.saturating_sub(1)).map_or(from, |span| span.1);
            for b in buf.iter().take(len) {
                decoded.bytes.push(*b);
                decoded.spans.push((from, to));
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

/// Decodes the HTML character reference at `text[i..]` (`&quot;`, `&#34;`, `&#x22;`, ...) into
/// `buf`: how many bytes it stands for and how many bytes of text it takes.
fn html_unescape(text: &[u8], i: usize, buf: &mut [u8; 4]) -> Option<(usize, usize)> {
    if text.get(i) != Some(&b'&') {
        return None;
    }
    let rest = text.get(i + 1..text.len().min(i + 12))?;
    let end = rest.iter().position(|b| *b == b';')?;
    let name = rest.get(..end)?;
    let code = match name {
        b"quot" => 0x22,
        b"amp" => 0x26,
        b"apos" => 0x27,
        b"lt" => 0x3C,
        b"gt" => 0x3E,
        b"nbsp" => 0xA0,
        [b'#', b'x' | b'X', hex @ ..] => hex_value(Some(hex))?,
        [b'#', decimal @ ..] if !decimal.is_empty() && decimal.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(decimal).ok()?.parse().ok()?
        }
        _ => return None,
    };
    Some((char::from_u32(code)?.encode_utf8(buf).len(), end + 2))
}

/// The length of the control character or bidirectional override at `text[i..]`, or 0.
fn unprintable_len(text: &[u8], i: usize) -> usize {
    match (text.get(i), text.get(i + 1), text.get(i + 2)) {
        (Some(b), _, _) if *b < 0x20 || *b == 0x7F => 1,
        // U+0080..U+009F (C1 controls).
        (Some(0xC2), Some(0x80..=0x9F), _) => 2,
        // U+200E, U+200F, U+202A..U+202E, U+2066..U+2069.
        (Some(0xE2), Some(0x80), Some(0x8E | 0x8F | 0xAA..=0xAE))
        | (Some(0xE2), Some(0x81), Some(0xA6..=0xA9)) => 3,
        _ => 0,
    }
}

/// Adds to `ranges` the text range of every occurrence the finder's pattern has in `decoded`.
fn find_all(decoded: &Decoded, finder: &Finder<'_>, ranges: &mut Vec<(usize, usize)>) {
    let length = finder.needle().len();
    // Overlapping occurrences too: each must be covered to its end.
    let mut at = 0;
    while let Some(found) = decoded.bytes.get(at..).and_then(|rest| finder.find(rest)) {
        let start = at + found;
        let from = decoded.spans.get(start).map_or(0, |span| span.0);
        let to = decoded.spans.get(start + length.saturating_sub(1)).map_or(from, |span| span.1);
        ranges.push((from as usize, to as usize));
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
    fn a_signed_jwt_and_its_signature_alone_are_redacted() {
        let sent = sent(&["eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJjbGllbnQifQ.c2lnbmF0dXJlLW9mLXRoZS1hc3NlcnRpb24"]);
        for echo in [
            "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJjbGllbnQifQ.c2lnbmF0dXJlLW9mLXRoZS1hc3NlcnRpb24",
            "c2lnbmF0dXJlLW9mLXRoZS1hc3NlcnRpb24",
        ] {
            let text = format!("bad <{echo}>");
            assert_eq!(sent.redact(&text), "bad <[redacted]>", "{echo}");
        }
        // The header and claims alone are not secrets.
        assert_eq!(sent.redact("<eyJhbGciOiJIUzI1NiJ9>"), "<eyJhbGciOiJIUzI1NiJ9>");
    }

    #[test]
    fn more_spellings_servers_produce() {
        let sent = sent(&["p@ss\"w<rd&x", "pässwort1", "rt-0123456789", "AbCdEf-xyz-Z9"]);
        for echo in [
            "p@ss&quot;w&lt;rd&amp;x",
            "p@ss&#34;w&#60;rd&#x26;x",
            "p%40ss%26quot%3Bw%26lt%3Brd%26amp%3Bx",
            "p%E4sswort1",
            "rt%252D0123456789",
            r#"rt%2D01234\u00356789"#,
            "ABCDEF-XYZ-Z9",
            "rt-01234\u{7}\u{202e}56789",
        ] {
            let text = format!("<{echo}>");
            let shown = sent.redact(&text);
            assert_eq!(shown, "<[redacted]>", "{echo}");
        }
        // ISO-8859-1 bytes, as a Java server writes a header value.
        assert_eq!(sent.redact_bytes(b"x p\xe4sswort1 y").as_ref(), b"x [redacted] y");
    }

    #[test]
    fn numbers_that_carry_a_secret() {
        let sent = sent(&["12345678", "123456789012345678901"]);
        let number = |text: &str| serde_json::from_str::<serde_json::Number>(text).unwrap();
        assert!(sent.number_reveals(&number("12345678")));
        assert!(sent.number_reveals(&number("123456789012345678901")), "rounded to a float");
        assert!(!sent.number_reveals(&number("7000215")));
        assert!(!sent.number_reveals(&number("1234")));
    }

    #[test]
    fn a_short_client_secret_still_hides_its_basic_credential() {
        let auth = ClientAuth::new("my-client-id", "s3c");
        let sent = SentSecrets::of_request(Bytes::new(), &auth);
        let echo = base64::engine::general_purpose::STANDARD.encode("my-client-id:s3c");
        assert!(sent.redact(&format!("Basic {echo}")).starts_with("Basic [redacted]"));
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
