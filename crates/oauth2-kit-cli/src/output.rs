//! Results printed for people (aligned `name  value` lines) or scripts (one JSON object), with
//! tokens redacted unless asked for.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::cli::Output;

/// A result's fields, in the order they are shown.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, Value)>);

impl Fields {
    /// Adds a field (after the others).
    pub(crate) fn insert(&mut self, name: String, value: Value) {
        self.0.push((name, value));
    }

    /// Adds `value` as text (after the others), if there is one.
    pub(crate) fn text(&mut self, name: &str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.insert(name.into(), Value::String(value.to_string()));
        }
    }

    fn into_json(self) -> Value {
        Value::Object(self.0.into_iter().collect::<Map<String, Value>>())
    }
}

/// How a command prints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) output: Output,
    pub(crate) reveal: bool,
}

impl Printer {
    /// `secret` as shown: itself with `--reveal`, else its length only.
    pub(crate) fn secret(&self, secret: &str) -> Value {
        if self.reveal {
            Value::String(secret.to_owned())
        } else {
            Value::String(format!("<redacted: {} bytes; --reveal shows it>", secret.len()))
        }
    }

    /// Prints `fields` (in order) as lines or as one JSON object; `raw`, when given, is what
    /// `--output raw` prints (the token alone).
    pub(crate) fn print(&self, fields: Fields, raw: Option<&str>) {
        match self.output {
            Output::Json => out!("{}", fields.into_json()),
            Output::Raw => match raw {
                Some(raw) => out!("{}", printable(raw)),
                None => out!("{}", fields.into_json()),
            },
            Output::Human => {
                let width = fields.0.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
                for (name, value) in &fields.0 {
                    let shown = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    out!("{:<width$}  {}", printable(name), printable(&shown));
                }
            }
        }
    }
}

/// `text` with its control characters escaped (`\u{1b}`, `\n`), and the invisible ones that
/// reorder or break a line (bidirectional overrides and isolates, line and paragraph
/// separators, zero-width characters): what a server sent cannot move the cursor, clear the
/// screen, fake a line of the result or make it read differently than it is.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if hidden(c) { c.escape_default().collect() } else { String::from(c) })
            .collect(),
    )
}

/// A character a terminal does not show as itself.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(printable("alice"), "alice");
        assert_eq!(printable("Bob\nemail_verified  true"), "Bob\\nemail_verified  true");
        assert_eq!(printable("\u{1b}[2Kactive true"), "\\u{1b}[2Kactive true");
        assert_eq!(printable("tab\there"), "tab\\there");
        assert_eq!(printable("abc\u{202E}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("one\u{2028}two"), "one\\u{2028}two");
        assert_eq!(printable("caf\u{e9} \u{1F600}"), "caf\u{e9} \u{1F600}");
    }
}
