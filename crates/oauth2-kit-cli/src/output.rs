//! Results printed for people (aligned `name  value` lines) or scripts (one JSON object), with
//! tokens redacted unless asked for.

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
    #[allow(clippy::print_stdout)]
    pub(crate) fn print(&self, fields: Fields, raw: Option<&str>) {
        match self.output {
            Output::Json => println!("{}", fields.into_json()),
            Output::Raw => match raw {
                Some(raw) => println!("{raw}"),
                None => println!("{}", fields.into_json()),
            },
            Output::Human => {
                let width = fields.0.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
                for (name, value) in &fields.0 {
                    let shown = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    println!("{name:<width$}  {shown}");
                }
            }
        }
    }
}
