//! Access token scope (RFC 6749 §3.3).
//!
//! ```text
//! scope       = scope-token *( SP scope-token )
//! scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid scope: a non-empty set of scope-tokens.
///
/// Parsing checks the RFC 6749 §3.3 grammar and names the first bad character. A `Scope` is a
/// *set*: the order of its tokens and repeated tokens do not matter for equality or hashing, so
/// caches can key on it. It is stored in canonical form (tokens sorted and de-duplicated, joined
/// by single spaces); that form is what [`Display`](fmt::Display) and [`Scope::as_str`] show and
/// what requests send. Cloning is cheap (a reference count).
///
/// ```
/// use oauth2_kit::Scope;
///
/// let a: Scope = "write read read".parse()?;
/// let b: Scope = "read write".parse()?;
/// assert_eq!(a, b);
/// assert_eq!(a.as_str(), "read write");
/// assert!(a.contains("write"));
///
/// let err = "read  write".parse::<Scope>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid scope: empty scope-token at position 5 (two spaces in a row)");
/// # Ok::<(), oauth2_kit::ScopeError>(())
/// ```
#[derive(Clone)]
pub struct Scope {
    text: Arc<str>,
    /// A hash of `text`, computed once, so that looking a scope up in a cache does not hash the
    /// string again on every call.
    hash: u64,
}

impl PartialEq for Scope {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.text, &other.text) || (self.hash == other.hash && self.text == other.text)
    }
}

impl Eq for Scope {}

impl std::hash::Hash for Scope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl Scope {
    /// Parses a space-separated scope string. Same as [`str::parse`].
    pub fn new(scope: &str) -> Result<Self, ScopeError> {
        scope.parse()
    }

    /// Builds a scope from individual scope-tokens, checking each one.
    ///
    /// ```
    /// use oauth2_kit::Scope;
    ///
    /// let scope = Scope::from_tokens(["profile", "email"])?;
    /// assert_eq!(scope.to_string(), "email profile");
    /// # Ok::<(), oauth2_kit::ScopeError>(())
    /// ```
    pub fn from_tokens<I, S>(tokens: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        let mut position = 0;
        for token in tokens {
            let token = token.as_ref();
            if token.is_empty() {
                return Err(ScopeError::new(ScopeErrorKind::EmptyToken, position));
            }
            check_token(token, position)?;
            position += token.chars().count() + 1;
            set.insert(token.to_owned());
        }
        if set.is_empty() {
            return Err(ScopeError::new(ScopeErrorKind::Empty, 0));
        }
        Ok(Self::from_set(&set))
    }

    fn from_set(set: &BTreeSet<String>) -> Self {
        Self::from_joined(&set.iter().map(String::as_str).collect::<Vec<_>>().join(" "))
    }

    /// A scope from its canonical form, already checked.
    fn from_joined(joined: &str) -> Self {
        // FNV-1a: stable, fast, and enough for keys chosen by the application.
        let hash = joined
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        Self { text: Arc::from(joined), hash }
    }

    /// `value` as a scope without sorting anything, when it already is one in canonical form
    /// (valid tokens, sorted, distinct, single spaces): what most servers send back.
    fn from_canonical(value: &str) -> Option<Self> {
        let mut previous: Option<&str> = None;
        for token in value.split(' ') {
            if token.is_empty() || !token.chars().all(is_scope_char) || previous.is_some_and(|p| p >= token) {
                return None;
            }
            previous = Some(token);
        }
        Some(Self::from_joined(value))
    }

    /// The canonical form: tokens sorted, de-duplicated and joined by single spaces.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The scope-tokens, in canonical (sorted) order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.text.split(' ')
    }

    /// Whether the set contains this scope-token.
    pub fn contains(&self, token: &str) -> bool {
        self.iter().any(|t| t == token)
    }

    /// Whether every token of `other` is also in `self`.
    pub fn is_superset_of(&self, other: &Scope) -> bool {
        other.iter().all(|t| self.contains(t))
    }

    /// The union of two scopes.
    #[must_use]
    pub fn union(&self, other: &Scope) -> Scope {
        let set: BTreeSet<String> = self.iter().chain(other.iter()).map(str::to_owned).collect();
        Self::from_set(&set)
    }

    /// Reads a scope sent by a server, leniently but without changing what it says: any run of
    /// ASCII whitespace separates tokens, and a token outside the RFC 6749 §3.3 grammar (a
    /// non-ASCII letter, a quote) is kept verbatim, since it is what the server granted. A token
    /// with a control character or a bidirectional override (which would make a log line read
    /// other than it is) is refused: the response is then undecodable rather than reported with
    /// a scope it did not grant. `None` when there is no token, an empty string included.
    pub(crate) fn from_server(value: &str) -> Result<Option<Self>, ScopeError> {
        if let Some(canonical) = Self::from_canonical(value) {
            return Ok(Some(canonical));
        }
        let mut set = BTreeSet::new();
        for token in value.split_ascii_whitespace() {
            if let Some(bad) = token.chars().find(|c| is_unprintable(*c)) {
                let start = (token.as_ptr() as usize).saturating_sub(value.as_ptr() as usize);
                let position = value.get(..start).map_or(0, |before| before.chars().count());
                let offset = token.chars().take_while(|c| *c != bad).count();
                return Err(ScopeError::new(ScopeErrorKind::InvalidCharacter(bad), position + offset));
            }
            set.insert(token.to_owned());
        }
        Ok(if set.is_empty() { None } else { Some(Self::from_set(&set)) })
    }
}

/// Characters no scope may hold, even one a server sent: control characters and bidirectional
/// overrides.
fn is_unprintable(ch: char) -> bool {
    ch.is_control()
        || matches!(ch, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn check_token(token: &str, start: usize) -> Result<(), ScopeError> {
    for (offset, ch) in token.chars().enumerate() {
        if !is_scope_char(ch) {
            return Err(ScopeError::new(ScopeErrorKind::InvalidCharacter(ch), start + offset));
        }
    }
    Ok(())
}

/// `%x21 / %x23-5B / %x5D-7E`: printable ASCII except space, `"` and `\`.
fn is_scope_char(ch: char) -> bool {
    matches!(ch, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ScopeError::new(ScopeErrorKind::Empty, 0));
        }
        let mut set = BTreeSet::new();
        let mut position = 0;
        for token in s.split(' ') {
            if token.is_empty() {
                // Report the position of the offending space.
                let error = if position == 0 {
                    ScopeError::new(ScopeErrorKind::LeadingSpace, 0)
                } else if position == s.chars().count() {
                    ScopeError::new(ScopeErrorKind::TrailingSpace, position - 1)
                } else {
                    ScopeError::new(ScopeErrorKind::DoubleSpace, position)
                };
                return Err(error);
            }
            check_token(token, position)?;
            position += token.chars().count() + 1;
            set.insert(token.to_owned());
        }
        Ok(Self::from_set(&set))
    }
}

impl TryFrom<&str> for Scope {
    type Error = ScopeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scope").field(&&*self.text).finish()
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.parse::<Scope>() {
            // A scope a server granted may hold tokens outside the grammar, kept verbatim (see
            // `from_server`): read back what was written, tokens separated by single spaces, as
            // its canonical form is.
            Err(error)
                if s.split(' ').all(|token| !token.is_empty() && !token.contains(char::is_whitespace)) =>
            {
                Scope::from_server(&s)
                    .map_err(serde::de::Error::custom)?
                    .ok_or(error)
                    .map_err(serde::de::Error::custom)
            }
            parsed => parsed.map_err(serde::de::Error::custom),
        }
    }
}

/// Why a string is not a valid [`Scope`], and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope: {kind} at position {position}{hint}", hint = self.kind.hint())]
pub struct ScopeError {
    kind: ScopeErrorKind,
    position: usize,
}

impl ScopeError {
    fn new(kind: ScopeErrorKind, position: usize) -> Self {
        Self { kind, position }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ScopeErrorKind {
        &self.kind
    }

    /// Where: the 0-based index, in characters, of the offending character.
    pub fn position(&self) -> usize {
        self.position
    }
}

/// What is wrong with a scope string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeErrorKind {
    /// The whole scope is empty.
    Empty,
    /// The scope starts with a space.
    LeadingSpace,
    /// The scope ends with a space.
    TrailingSpace,
    /// Two spaces in a row.
    DoubleSpace,
    /// An empty scope-token was given to [`Scope::from_tokens`].
    EmptyToken,
    /// A character outside `%x21 / %x23-5B / %x5D-7E`.
    InvalidCharacter(char),
}

impl ScopeErrorKind {
    fn hint(&self) -> &'static str {
        match self {
            Self::LeadingSpace => " (leading space)",
            Self::TrailingSpace => " (trailing space)",
            Self::DoubleSpace => " (two spaces in a row)",
            _ => "",
        }
    }
}

impl fmt::Display for ScopeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty scope"),
            Self::LeadingSpace | Self::TrailingSpace | Self::DoubleSpace | Self::EmptyToken => {
                f.write_str("empty scope-token")
            }
            Self::InvalidCharacter(ch) => {
                write!(f, "character {ch:?} (U+{:04X}) is not allowed in a scope-token", u32::from(*ch))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    use super::*;

    fn hash(scope: &Scope) -> u64 {
        let mut h = DefaultHasher::new();
        scope.hash(&mut h);
        h.finish()
    }

    #[test]
    fn valid_scopes() {
        let cases = [
            ("read", "read"),
            ("read write", "read write"),
            ("write read", "read write"),
            ("read read", "read"),
            ("openid profile email", "email openid profile"),
            ("https://graph.microsoft.com/.default", "https://graph.microsoft.com/.default"),
            ("repo,user", "repo,user"),
            ("a:b#c[d]e!f~g", "a:b#c[d]e!f~g"),
            ("!", "!"),
            ("~", "~"),
        ];
        for (input, canonical) in cases {
            let scope: Scope = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(scope.as_str(), canonical, "{input:?}");
        }
    }

    #[test]
    fn invalid_scopes_name_character_and_position() {
        use ScopeErrorKind::*;
        let cases: &[(&str, ScopeErrorKind, usize)] = &[
            ("", Empty, 0),
            (" read", LeadingSpace, 0),
            ("read ", TrailingSpace, 4),
            ("read  write", DoubleSpace, 5),
            (" ", LeadingSpace, 0),
            ("read\twrite", InvalidCharacter('\t'), 4),
            ("read\nwrite", InvalidCharacter('\n'), 4),
            ("re\"ad", InvalidCharacter('"'), 2),
            ("re\\ad", InvalidCharacter('\\'), 2),
            ("read écrire", InvalidCharacter('é'), 5),
            ("lesen schreib€n", InvalidCharacter('€'), 13),
            ("read\u{7f}", InvalidCharacter('\u{7f}'), 4),
            ("read\u{0}", InvalidCharacter('\u{0}'), 4),
        ];
        for (input, kind, position) in cases {
            let err = input.parse::<Scope>().expect_err(input);
            assert_eq!(err.kind(), kind, "{input:?}");
            assert_eq!(err.position(), *position, "{input:?}");
        }
    }

    #[test]
    fn error_messages_read_well() {
        let err = "read\twrite".parse::<Scope>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid scope: character '\\t' (U+0009) is not allowed in a scope-token at position 4"
        );
        let err = "".parse::<Scope>().unwrap_err();
        assert_eq!(err.to_string(), "invalid scope: empty scope at position 0");
    }

    #[test]
    fn set_semantics_for_equality_and_hash() {
        let a: Scope = "b a c a".parse().unwrap();
        let b: Scope = "c b a".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(hash(&a), hash(&b));
        let c: Scope = "a b".parse().unwrap();
        assert_ne!(a, c);
        assert!(a.is_superset_of(&c));
        assert!(!c.is_superset_of(&a));
        assert_eq!(c.union(&"c".parse().unwrap()), a);
    }

    #[test]
    fn from_tokens_checks_each_token() {
        assert_eq!(Scope::from_tokens(["b", "a"]).unwrap().as_str(), "a b");
        assert_eq!(
            Scope::from_tokens(["a", "b c"]).unwrap_err().kind(),
            &ScopeErrorKind::InvalidCharacter(' ')
        );
        assert_eq!(Scope::from_tokens(["a", ""]).unwrap_err().kind(), &ScopeErrorKind::EmptyToken);
        assert_eq!(Scope::from_tokens(Vec::<&str>::new()).unwrap_err().kind(), &ScopeErrorKind::Empty);
    }

    #[test]
    fn server_scopes_are_read_leniently_and_never_changed() {
        let read = |s: &str| Scope::from_server(s).unwrap().map(|scope| scope.as_str().to_owned());
        assert_eq!(read("read  write\t").unwrap(), "read write");
        // Tokens outside the grammar are kept, never dropped.
        assert_eq!(read(" read é write ").unwrap(), "read write é");
        assert_eq!(read("lire:données \"q\" back\\slash").unwrap(), "\"q\" back\\slash lire:données");
        assert_eq!(read(""), None);
        assert_eq!(read(" \n "), None);
        let err = Scope::from_server("read wr\u{1}ite").unwrap_err();
        assert_eq!((err.kind(), err.position()), (&ScopeErrorKind::InvalidCharacter('\u{1}'), 7));
        assert!(Scope::from_server("admin\u{202E}resu").is_err());
        // What was kept reads back from its stored form.
        let kept = Scope::from_server("read é").unwrap().unwrap();
        let again: Scope = serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
        assert_eq!(again, kept);
        // Read back whatever the order of the tokens; what no canonical form has stays refused.
        for accepted in [r#""é read""#, r#""read é""#] {
            assert!(serde_json::from_str::<Scope>(accepted).is_ok(), "{accepted}");
        }
        for refused in [r#""é  read""#, r#""read  é""#, r#""é ""#, r#"" é""#, r#""a\u0001é""#] {
            assert!(serde_json::from_str::<Scope>(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let scope: Scope = serde_json::from_str("\"write read\"").unwrap();
        assert_eq!(serde_json::to_string(&scope).unwrap(), "\"read write\"");
        assert!(serde_json::from_str::<Scope>("\"read  write\"").is_err());
    }
}
