//! Short, secret-free excerpts of response bodies for error messages.

use std::borrow::Cow;

use serde_json::Value;

/// How many characters of a body an error message shows.
const EXCERPT_CHARS: usize = 200;

/// Keys whose values are credentials (or personal data) and never shown.
const SENSITIVE_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "password",
    "code",
    "code_verifier",
    "device_code",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
];

const REDACTED: &str = "[redacted]";

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn clip(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", text.get(..end).unwrap_or(text))),
    }
}

/// A one-line excerpt of a response body that never contains a credential.
///
/// JSON bodies are shown with the values of credential-bearing keys replaced by `[redacted]`.
/// Other bodies are shown as text, unless they mention a credential-bearing key anywhere (a
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
    let lower = text.to_ascii_lowercase();
    if SENSITIVE_KEYS.iter().any(|key| lower.contains(key)) {
        return format!("[{} bytes withheld: may contain credentials]", body.len());
    }
    let one_line: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).collect();
    clip(&one_line, EXCERPT_CHARS).into_owned()
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if SENSITIVE_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
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
