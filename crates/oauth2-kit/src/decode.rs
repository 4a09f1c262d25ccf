//! Field-by-field decoding of JSON response objects.
//!
//! Responses are decoded by hand from a JSON object rather than with `#[derive(Deserialize)]`:
//! the error then names the field at fault without echoing its value (which may be a credential),
//! and lenient rules (numeric strings, empty scopes) stay in one place.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::scope::Scope;

/// The longest lifetime read from a response: ten years. Servers that mean "never expires" send
/// huge numbers; this keeps every expiry computable.
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Why a response body could not be decoded: the field at fault, if one is, and the reason.
/// Never contains a value from the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DecodeError {
    field: Option<&'static str>,
    reason: String,
}

impl DecodeError {
    pub(crate) fn new(field: Option<&'static str>, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }

    /// The response member at fault, if the problem is with one member.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// Why decoding failed.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON object whose members are taken out one by one; what is left is the "extra" members.
#[derive(Debug)]
pub(crate) struct JsonObject(Map<String, Value>);

impl JsonObject {
    /// Parses a body that must be one JSON object.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(other) => {
                Err(DecodeError::new(None, format!("expected a JSON object, got {}", kind_of(&other))))
            }
            // serde_json's syntax errors say where, not what: no value is echoed.
            Err(e) => Err(DecodeError::new(None, format!("body is not JSON: {e}"))),
        }
    }

    /// Takes a member, treating `null` as absent.
    fn take(&mut self, key: &str) -> Option<Value> {
        match self.0.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    fn wrong_type(key: &'static str, expected: &str, got: &Value) -> DecodeError {
        DecodeError::new(Some(key), format!("`{key}` must be {expected}, got {}", kind_of(got)))
    }

    pub(crate) fn required_string(&mut self, key: &'static str) -> Result<String, DecodeError> {
        self.optional_string(key)?
            .ok_or_else(|| DecodeError::new(Some(key), format!("missing required field `{key}`")))
    }

    pub(crate) fn optional_string(&mut self, key: &'static str) -> Result<Option<String>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Self::wrong_type(key, "a string", &other)),
        }
    }

    /// A required JSON boolean, strictly: `"true"` is not `true`. For members a security
    /// decision rests on (`active`).
    pub(crate) fn required_bool(&mut self, key: &'static str) -> Result<bool, DecodeError> {
        match self.take(key) {
            None => Err(DecodeError::new(Some(key), format!("missing required field `{key}`"))),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(Self::wrong_type(key, "a JSON boolean", &other)),
        }
    }

    /// An optional boolean, leniently: `"true"`/`"false"` strings too, as some servers send
    /// UserInfo's `*_verified` flags.
    pub(crate) fn lenient_bool(&mut self, key: &'static str) -> Result<Option<bool>, DecodeError> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(Self::wrong_type(key, "a boolean", &other)),
        }
    }

    /// Takes a member only if `accept` says it has the right shape; otherwise it stays among the
    /// extra members.
    pub(crate) fn take_if(&mut self, accept: impl Fn(&Value) -> bool, key: &str) -> Option<Value> {
        if self.0.get(key).is_some_and(accept) { self.0.remove(key) } else { None }
    }

    /// A number of seconds, given as a JSON number or a numeric string. Fractions are dropped.
    fn seconds(&mut self, key: &'static str) -> Result<Option<f64>, DecodeError> {
        let value = match self.take(key) {
            None => return Ok(None),
            Some(value) => value,
        };
        let number = match &value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            _ => None,
        };
        number
            .map(Some)
            .ok_or_else(|| Self::wrong_type(key, "a number of seconds or a numeric string", &value))
    }

    /// A lifetime in seconds; zero or negative means unknown; more than [`MAX_LIFETIME`] is
    /// read as [`MAX_LIFETIME`], so that an expiry instant can always be computed.
    pub(crate) fn lifetime(&mut self, key: &'static str) -> Result<Option<Duration>, DecodeError> {
        Ok(self.seconds(key)?.filter(|secs| *secs >= 1.0).map(|secs| {
            // `as` saturates for values past u64::MAX; the clamp does the rest.
            Duration::from_secs(secs as u64).min(MAX_LIFETIME)
        }))
    }

    /// A NumericDate (RFC 7519 §2): seconds since the Unix epoch.
    pub(crate) fn timestamp(&mut self, key: &'static str) -> Result<Option<i64>, DecodeError> {
        // `as` saturates for out-of-range values.
        Ok(self.seconds(key)?.map(|secs| secs as i64))
    }

    /// A scope sent by a server, read leniently ([`Scope::from_server`]); an empty string means
    /// none.
    pub(crate) fn scope(&mut self, key: &'static str) -> Result<Option<Scope>, DecodeError> {
        match self.optional_string(key)? {
            None => Ok(None),
            Some(text) => Scope::from_server(&text).map_err(|e| {
                DecodeError::new(Some(key), format!("`{key}` holds an unprintable character: {e}"))
            }),
        }
    }

    /// A string or an array of strings (the JWT `aud` claim).
    pub(crate) fn string_or_array(&mut self, key: &'static str) -> Result<Option<Vec<String>>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s])),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    other => Err(Self::wrong_type(key, "a string or an array of strings", &other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(Self::wrong_type(key, "a string or an array of strings", &other)),
        }
    }

    /// The members not taken.
    pub(crate) fn into_rest(self) -> Map<String, Value> {
        self.0
    }
}

/// Shows the keys of a map, not its values (which may hold credentials).
pub(crate) struct KeysOnly<'a>(pub(crate) &'a Map<String, Value>);

impl fmt::Debug for KeysOnly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
