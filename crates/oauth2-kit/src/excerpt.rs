//! Short, secret-free excerpts of response bodies for error messages.

use std::borrow::Cow;

use serde_json::Value;

/// How many characters of a body an error message shows.
const EXCERPT_CHARS: usize = 200;

/// Parts of member names whose values may be credentials: any key containing one of them
/// (case-insensitive, `_` and `-` ignored), such as `access_token`, `accessToken`, `id-token`,
/// `client_secret`, `password`, `code_verifier` or `client_assertion`, is never shown.
const SENSITIVE_PARTS: &[&str] =
    &["token", "secret", "password", "passwd", "assertion", "code", "jwt", "key", "credential"];

pub(crate) fn is_sensitive(key: &str) -> bool {
    let folded: String =
        key.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect();
    SENSITIVE_PARTS.iter().any(|part| folded.contains(part))
}

const REDACTED: &str = "[redacted]";

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn clip(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", text.get(..end).unwrap_or(text))),
    }
}

/// The secret values a request carried (client secret, token, refresh token, password, code,
/// PKCE verifier, device code), so that a server echoing one back in its answer ("invalid
/// refresh token: ...") cannot put it into an error message or a log line. Zeroized on drop.
#[derive(Default)]
pub(crate) struct SentSecrets(Vec<zeroize::Zeroizing<String>>);

impl SentSecrets {
    /// Shorter values are not searched for: they would blank out ordinary words.
    const MIN_CHARS: usize = 4;

    /// Adds `value`, and its JSON-escaped and form-urlencoded spellings.
    pub(crate) fn push(&mut self, value: &str) {
        if value.chars().count() < Self::MIN_CHARS {
            return;
        }
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_owned();
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for spelling in [value.to_owned(), json, form] {
            if !spelling.is_empty() && !self.0.iter().any(|known| **known == spelling) {
                self.0.push(zeroize::Zeroizing::new(spelling));
            }
        }
        // Longest first, so that no part of a longer secret survives a shorter one's replacement.
        self.0.sort_by_key(|known| std::cmp::Reverse(known.len()));
    }

    /// `text` with every sent secret replaced by `[redacted]`.
    pub(crate) fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), REDACTED));
            }
        }
        text
    }

    /// [`scrub`](Self::scrub) in place.
    pub(crate) fn scrub_string(&self, text: &mut String) {
        if let Cow::Owned(scrubbed) = self.scrub(text) {
            *text = scrubbed;
        }
    }
}

/// A one-line excerpt of an error response body (a non-2xx status) that never contains a
/// credential.
///
/// JSON bodies are shown with the values of credential-like members replaced by `[redacted]`.
/// Other bodies are shown as text, unless they mention a credential-like name anywhere (a
/// form-encoded token response, say), in which case they are withheld.
pub(crate) fn safe_excerpt(body: &[u8], sent: &SentSecrets) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(mut json) = serde_json::from_slice::<Value>(body) {
        redact(&mut json);
        return clip(&sent.scrub(&json.to_string()), EXCERPT_CHARS).into_owned();
    }
    let text = String::from_utf8_lossy(body);
    if mentions_sensitive(&text) {
        return withheld(body.len());
    }
    clip(&sent.scrub(&one_line(&text)), EXCERPT_CHARS).into_owned()
}

/// A one-line description of a *successful* (2xx) body that could not be decoded. Such a body
/// may well be a token in an unexpected shape, so no value is shown: for JSON, the member names
/// and the kinds of their values; for markup (an HTML login page), the text; anything else is
/// withheld.
pub(crate) fn success_excerpt(body: &[u8], sent: &SentSecrets) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        return clip(&sent.scrub(&shape(&json)), EXCERPT_CHARS).into_owned();
    }
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('<') && !mentions_sensitive(&text) {
        return clip(&sent.scrub(&one_line(&text)), EXCERPT_CHARS).into_owned();
    }
    withheld(body.len())
}

fn withheld(len: usize) -> String {
    format!("[{len} bytes withheld: may contain credentials]")
}

fn mentions_sensitive(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["token", "secret", "password", "assertion", "code="].iter().any(|part| lower.contains(part))
}

/// Text on one line, without control characters or bidirectional overrides (which could make a
/// log line read other than it is).
pub(crate) fn one_line(text: &str) -> String {
    let bidi =
        |c: char| matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !bidi(*c))
        .collect()
}

/// `{"access_token": string, "expires_in": number}`: names and kinds, no values.
fn shape(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> =
                map.iter().map(|(key, v)| format!("{:?}: {}", one_line(key), kind(v))).collect();
            format!("{{{}}}", members.join(", "))
        }
        other => kind(other).to_owned(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_sensitive(key) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_credentials_are_redacted() {
        let body = br#"{"access_token":"at-123","token_type":7,"nested":{"refresh_token":"rt-9"}}"#;
        let shown = safe_excerpt(body, &SentSecrets::default());
        assert!(!shown.contains("at-123") && !shown.contains("rt-9"), "{shown}");
        assert!(shown.contains("token_type"), "{shown}");
    }

    #[test]
    fn credential_like_keys_in_any_spelling_are_redacted() {
        let body = br#"{"accessToken":"A1","id-token":"A2","clientSecret":"A3","api_key":"A4","error":"x","items":[{"refreshToken":"A5"}]}"#;
        let shown = safe_excerpt(body, &SentSecrets::default());
        for secret in ["A1", "A2", "A3", "A4", "A5"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"error\":\"x\""), "{shown}");
    }

    #[test]
    fn success_bodies_show_only_their_shape() {
        let shown =
            success_excerpt(br#"{"accessToken":"eyJ-secret","expiresIn":3600}"#, &SentSecrets::default());
        assert_eq!(shown, r#"{"accessToken": string, "expiresIn": number}"#);
        assert_eq!(
            success_excerpt(b"eyJhbGciOiJIUzI1NiJ9.e30.sig", &SentSecrets::default()),
            "[28 bytes withheld: may contain credentials]"
        );
        assert_eq!(
            success_excerpt(b"<html>\n<b>Log in</b></html>", &SentSecrets::default()),
            "<html> <b>Log in</b></html>"
        );
        assert_eq!(success_excerpt(b"\"bare-token\"", &SentSecrets::default()), "string");
    }

    #[test]
    fn form_bodies_with_credentials_are_withheld() {
        let shown = safe_excerpt(b"access_token=at-123&token_type=bearer", &SentSecrets::default());
        assert_eq!(shown, "[37 bytes withheld: may contain credentials]");
    }

    #[test]
    fn html_is_clipped_to_one_line() {
        let page = format!("<html>\n<body>Bad Gateway{}</body></html>", "x".repeat(500));
        let shown = safe_excerpt(page.as_bytes(), &SentSecrets::default());
        assert!(shown.starts_with("<html> <body>Bad Gateway"));
        assert!(shown.chars().count() <= EXCERPT_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("ab", 2), "ab");
    }

    #[test]
    fn echoed_secrets_are_redacted_in_every_spelling_before_clipping() {
        let mut sent = SentSecrets::default();
        sent.push("rt-0123456789");
        sent.push("p@ss word\"x");
        sent.push("abc"); // too short to search for
        let body = "Invalid grant rt-0123456789 for user p%40ss+word%22x".to_owned();
        let shown = safe_excerpt(body.as_bytes(), &sent);
        assert_eq!(shown, "Invalid grant [redacted] for user [redacted]");
        let json = r#"{"detail":"refresh token rt-0123456789 and p@ss word\"x were revoked"}"#;
        let shown = safe_excerpt(json.as_bytes(), &sent);
        assert!(!shown.contains("rt-0123") && !shown.contains("ss word"), "{shown}");
        // A secret straddling the clip point leaves no prefix behind.
        let long = format!("{}rt-0123456789", "x".repeat(EXCERPT_CHARS - 5));
        assert!(!safe_excerpt(long.as_bytes(), &sent).contains("rt-"));
        assert_eq!(sent.scrub("abc abc"), "abc abc");
    }

    #[test]
    fn bidirectional_overrides_are_dropped() {
        assert_eq!(one_line("abc\u{202E}fed\u{2066}x"), "abcfedx");
    }
}
