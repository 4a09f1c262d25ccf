//! Field-by-field decoding of JSON response objects.
//!
//! Responses are decoded by hand from a JSON object rather than with `#[derive(Deserialize)]`:
//! the error then names the field at fault without echoing its value (which may be a credential),
//! and lenient rules (numeric strings, empty scopes) stay in one place.

use std::borrow::Cow;
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
///
/// Kept as a list in the order sent: a response has a handful of members, and looking them up
/// in a short list costs less than building and unbuilding a tree. A repeated member counts
/// once, with its last value, as in a map (and as `serde_json` reads it); every operation is
/// linear in the number of members, whatever a hostile body holds.
#[derive(Debug)]
pub(crate) struct JsonObject<'a>(Vec<(Cow<'a, str>, Value)>);

impl<'a> JsonObject<'a> {
    /// Parses a body that must be one JSON object. Member names are borrowed from the body
    /// (unless escaped).
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let parsed =
            serde::de::Deserializer::deserialize_any(&mut deserializer, TopLevel(std::marker::PhantomData))
                .and_then(|top| deserializer.end().map(|()| top));
        match parsed {
            Ok(Ok(members)) => Ok(Self(members)),
            Ok(Err(kind)) => Err(DecodeError::new(None, format!("expected a JSON object, got {kind}"))),
            // serde_json's syntax errors say where, not what: no value is echoed.
            Err(e) => Err(DecodeError::new(None, format!("body is not JSON: {e}"))),
        }
    }

    /// Takes a member, treating `null` as absent.
    fn take(&mut self, key: &str) -> Option<Value> {
        match self.take_last(key, |_| true)? {
            Value::Null => None,
            value => Some(value),
        }
    }

    /// Takes the last value of `key` (and drops the earlier ones) if `accept` says it has the
    /// right shape; otherwise the member stays.
    fn take_last(&mut self, key: &str, accept: impl Fn(&Value) -> bool) -> Option<Value> {
        let index = self.0.iter().rposition(|(name, _)| name == key)?;
        if !self.0.get(index).is_some_and(|(_, value)| accept(value)) {
            return None;
        }
        let (_, value) = self.0.remove(index);
        if self.0.iter().take(index).any(|(name, _)| name == key) {
            self.0.retain(|(name, _)| name != key);
        }
        Some(value)
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
        self.take_last(key, accept)
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
        self.0.into_iter().map(|(name, value)| (name.into_owned(), value)).collect()
    }
}

/// The top level of a body: an object's members, or what else it was.
struct TopLevel<'a>(std::marker::PhantomData<&'a ()>);

/// A member name, borrowed from the body when it has no escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Borrowed(name)))
            }
            fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(name.to_owned())))
            }
            fn visit_string<E>(self, name: String) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(name)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

impl<'de> serde::de::Visitor<'de> for TopLevel<'de> {
    type Value = Result<Vec<(Cow<'de, str>, Value)>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((Name(name), value)) = map.next_entry::<Name<'de>, Value>()? {
            members.push((name, value));
        }
        Ok(Ok(members))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }
}

/// Shows the keys of a map, not its values (which may hold credentials).
pub(crate) struct KeysOnly<'a>(pub(crate) &'a Map<String, Value>);

impl fmt::Debug for KeysOnly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_members_count_once_with_their_last_value() {
        let mut object = super::JsonObject::parse(br#"{"a":"1","b":2,"a":"3","c":null,"a":"4"}"#).unwrap();
        assert_eq!(object.optional_string("a").unwrap().as_deref(), Some("4"));
        assert_eq!(object.optional_string("a").unwrap(), None, "taken with every copy");
        let rest = object.into_rest();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest["b"], 2);
        for (body, kind) in
            [(&b"[1]"[..], "an array"), (b"null", "null"), (b"7", "a number"), (b"\"x\"", "a string")]
        {
            let err = super::JsonObject::parse(body).unwrap_err();
            assert!(err.reason().ends_with(kind), "{err}");
        }
        assert!(super::JsonObject::parse(br#"{"a":1} {}"#).is_err(), "one value only");
    }
}
