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

fn is_sensitive(key: &str) -> bool {
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

/// A one-line excerpt of an error response body (a non-2xx status) that never contains a
/// credential.
///
/// JSON bodies are shown with the values of credential-like members replaced by `[redacted]`.
/// Other bodies are shown as text, unless they mention a credential-like name anywhere (a
/// form-encoded token response, say), in which case they are withheld.
pub(crate) fn safe_excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(mut json) = serde_json::from_slice::<Value>(body) {
        redact(&mut json);
        return clip(&json.to_string(), EXCERPT_CHARS).into_owned();
    }
    let text = String::from_utf8_lossy(body);
    if mentions_sensitive(&text) {
        return withheld(body.len());
    }
    clip(&one_line(&text), EXCERPT_CHARS).into_owned()
}

/// A one-line description of a *successful* (2xx) body that could not be decoded. Such a body
/// may well be a token in an unexpected shape, so no value is shown: for JSON, the member names
/// and the kinds of their values; for markup (an HTML login page), the text; anything else is
/// withheld.
pub(crate) fn success_excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        return clip(&shape(&json), EXCERPT_CHARS).into_owned();
    }
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('<') && !mentions_sensitive(&text) {
        return clip(&one_line(&text), EXCERPT_CHARS).into_owned();
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

/// Text on one line, without control characters.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).collect()
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
        let shown = safe_excerpt(body);
        assert!(!shown.contains("at-123") && !shown.contains("rt-9"), "{shown}");
        assert!(shown.contains("token_type"), "{shown}");
    }

    #[test]
    fn credential_like_keys_in_any_spelling_are_redacted() {
        let body = br#"{"accessToken":"A1","id-token":"A2","clientSecret":"A3","api_key":"A4","error":"x","items":[{"refreshToken":"A5"}]}"#;
        let shown = safe_excerpt(body);
        for secret in ["A1", "A2", "A3", "A4", "A5"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"error\":\"x\""), "{shown}");
    }

    #[test]
    fn success_bodies_show_only_their_shape() {
        let shown = success_excerpt(br#"{"accessToken":"eyJ-secret","expiresIn":3600}"#);
        assert_eq!(shown, r#"{"accessToken": string, "expiresIn": number}"#);
        assert_eq!(
            success_excerpt(b"eyJhbGciOiJIUzI1NiJ9.e30.sig"),
            "[28 bytes withheld: may contain credentials]"
        );
        assert_eq!(success_excerpt(b"<html>\n<b>Log in</b></html>"), "<html> <b>Log in</b></html>");
        assert_eq!(success_excerpt(b"\"bare-token\""), "string");
    }

    #[test]
    fn form_bodies_with_credentials_are_withheld() {
        let shown = safe_excerpt(b"access_token=at-123&token_type=bearer");
        assert_eq!(shown, "[37 bytes withheld: may contain credentials]");
    }

    #[test]
    fn html_is_clipped_to_one_line() {
        let page = format!("<html>\n<body>Bad Gateway{}</body></html>", "x".repeat(500));
        let shown = safe_excerpt(page.as_bytes());
        assert!(shown.starts_with("<html> <body>Bad Gateway"));
        assert!(shown.chars().count() <= EXCERPT_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("ab", 2), "ab");
    }
}
