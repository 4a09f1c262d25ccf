//! Short, secret-free excerpts of response bodies for error messages.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::form::is_sensitive;
use crate::redact::{REDACTED, SentSecrets};

/// How many characters of a body an error message shows.
const EXCERPT_CHARS: usize = 200;

/// What of a server's `text` may be shown: one line, at most `max_chars` characters, without
/// the secrets the request carried.
///
/// The secrets are taken out before anything else (so that one straddling the cut, or holding
/// spaces the folding would change, is still found), and once more after the folding (so that
/// control characters slipped into one cannot hide it). Only as much of `text` is searched as
/// can reach the shown part: a hostile megabyte costs no more than a short text.
pub(crate) fn shown(text: &str, sent: &SentSecrets, max_chars: usize) -> String {
    let reach = sent.reach();
    let boundary = |mut end: usize| {
        end = end.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        end
    };
    // A spelling that starts in `text[..end - reach]` ends in `text[..end]`. Redaction shortens
    // the text, which may bring later characters into view: the window grows until what is
    // surely redacted in it fills the shown part, or it holds the whole text.
    let mut end = boundary(shown_prefix(text, max_chars).saturating_add(reach));
    while end < text.len() {
        let surely = text.get(..boundary(end.saturating_sub(reach))).unwrap_or_default();
        if one_line(&sent.redact(surely)).chars().nth(max_chars).is_some() {
            break;
        }
        end = boundary(end.saturating_mul(2));
    }
    let folded = one_line(&sent.redact(text.get(..end).unwrap_or(text)));
    clip(&sent.redact(&folded), max_chars).into_owned()
}

/// How many bytes of `text` make the first `max_chars` characters of its one-line form, and one
/// more.
fn shown_prefix(text: &str, max_chars: usize) -> usize {
    let mut shown = 0;
    let mut in_space = true;
    for (index, c) in text.char_indices() {
        if c.is_whitespace() {
            if !in_space {
                shown += 1;
                in_space = true;
            }
        } else if !c.is_control() {
            shown += 1;
            in_space = false;
        }
        // One character more than is shown, so that the cut is marked.
        if shown > max_chars {
            return index + c.len_utf8();
        }
    }
    text.len()
}

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
pub(crate) fn safe_excerpt(body: &[u8], sent: &SentSecrets) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(mut json) = serde_json::from_slice::<Value>(body) {
        // Credential-named members go whole; the request's secrets are searched in the part of
        // the text that is shown (a spelling inside JSON is escaped: the search reads escapes).
        mask_sensitive_members(&mut json);
        return shown(&json.to_string(), sent, EXCERPT_CHARS);
    }
    let text = String::from_utf8_lossy(body);
    if mentions_sensitive(&text) {
        return withheld(body.len());
    }
    shown(&text, sent, EXCERPT_CHARS)
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
        return shown(&shape(&json), sent, EXCERPT_CHARS);
    }
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('<') && !mentions_sensitive(&text) {
        return shown(&text, sent, EXCERPT_CHARS);
    }
    withheld(body.len())
}

/// Replaces the values of members whose names say they hold a credential by `"[redacted]"`.
fn mask_sensitive_members(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_sensitive(key) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    mask_sensitive_members(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_sensitive_members),
        _ => {}
    }
}

/// How many characters of a server's string an error keeps.
const STRING_CHARS: usize = 500;

/// Takes credentials out of a JSON value: members whose names say they hold one become
/// `"[redacted]"`, the secrets the request carried leave every name, string and number (a
/// number that carries one becomes `"[redacted]"`), and strings are kept to one line of at most
/// `max_chars` characters.
pub(crate) fn redact_value(value: &mut Value, sent: &SentSecrets, max_chars: usize) {
    match value {
        Value::Object(map) => {
            let members = std::mem::take(map);
            *map = members
                .into_iter()
                .map(|(key, mut v)| {
                    if is_sensitive(&key) {
                        v = Value::String(REDACTED.to_owned());
                    } else {
                        redact_value(&mut v, sent, max_chars);
                    }
                    (shown(&key, sent, max_chars.min(STRING_CHARS)), v)
                })
                .collect::<Map<String, Value>>();
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_value(item, sent, max_chars)),
        Value::String(text) => *text = shown(text, sent, max_chars),
        Value::Number(number) if sent.number_reveals(number) => *value = Value::String(REDACTED.to_owned()),
        _ => {}
    }
}

/// An OAuth 2.0 error body's other members, for an error to keep: redacted as
/// [`redact_value`] does (strings cut to 500 characters), and no more than 8 KiB of them, in the
/// order of their names: a member that would pass the budget is left out.
pub(crate) fn kept_members(
    object: &Map<String, Value>,
    skip: &[&str],
    sent: &SentSecrets,
) -> Map<String, Value> {
    const BUDGET: usize = 8 * 1024;
    let mut kept = Map::new();
    let mut used = 0;
    for (name, value) in object {
        if skip.contains(&name.as_str()) || name.len() > BUDGET || used >= BUDGET {
            continue;
        }
        let mut member = Value::Object(Map::from_iter([(name.clone(), value.clone())]));
        redact_value(&mut member, sent, STRING_CHARS);
        let size = member.to_string().len();
        if used + size > BUDGET {
            continue;
        }
        used += size;
        if let Value::Object(member) = member {
            kept.extend(member);
        }
    }
    kept
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
        sent.push("p@ss  word\"x");
        sent.push("abc"); // too short to search for
        let body = "Invalid grant rt-0123456789 for user p%40ss++word%22x".to_owned();
        let shown = safe_excerpt(body.as_bytes(), &sent);
        assert_eq!(shown, "Invalid grant [redacted] for user [redacted]");
        // Two spaces in the secret: found before the text is folded onto one line.
        let shown = safe_excerpt("user p@ss  word\"x\n".as_bytes(), &sent);
        assert_eq!(shown, "user [redacted]");
        let json = r#"{"detail":"refresh token rt-0123456789 and p@ss  word\"x were revoked"}"#;
        let shown = safe_excerpt(json.as_bytes(), &sent);
        assert!(!shown.contains("rt-0123") && !shown.contains("ss  word"), "{shown}");
        // A secret straddling the clip point leaves no prefix behind.
        for spelling in ["rt-0123456789", "rt%2D0123456789"] {
            let long = format!("{}{spelling}", "x".repeat(EXCERPT_CHARS - 5));
            assert!(!safe_excerpt(long.as_bytes(), &sent).contains("rt"));
        }
        assert_eq!(sent.redact("abc abc"), "abc abc");
    }

    #[test]
    fn echoes_that_shorten_the_text_bring_no_partial_secret_into_view() {
        let mut sent = SentSecrets::default();
        sent.push("wxyz");
        // Ten echoes percent-encoded twice (20 characters each) shrink to ten "[redacted]"s,
        // which brings into view what lay past the first window searched: an echo there, cut
        // by that window's end, must be found whole.
        let twice = "%2577%2578%2579%257A";
        let echoes = [twice; 10].join(" ");
        let text = format!("{echoes} {} {twice} end", "x".repeat(70));
        let shown = shown(&text, &sent, 200);
        assert!(!shown.contains("%25"), "{shown}");
        assert!(shown.ends_with("x [redacted] end"), "{shown}");
    }

    #[test]
    fn bidirectional_overrides_are_dropped() {
        assert_eq!(one_line("abc\u{202E}fed\u{2066}x"), "abcfedx");
    }
}
