//! `application/x-www-form-urlencoded` request bodies.

use bytes::Bytes;
use url::form_urlencoded;

/// An `application/x-www-form-urlencoded` body, encoded as parameters are added (UTF-8, spaces
/// as `+`: the WHATWG serializer of the `url` crate), in one buffer.
///
/// Values may be secrets (a client secret, a token): the form keeps no copy of them but the
/// encoded body, which becomes the request body. What a request carried is read back from that
/// body only when an error needs it (see `redact::SentSecrets`).
pub(crate) struct Form {
    body: String,
}

impl Form {
    pub(crate) fn new() -> Self {
        // Room for a typical token request, so the buffer is not grown (and copied) on the way.
        Self { body: String::with_capacity(160) }
    }

    pub(crate) fn push(&mut self, name: &str, value: &str) {
        // At most three bytes out per byte in, plus `&` and `=`.
        self.reserve(name.len().saturating_add(value.len()).saturating_mul(3).saturating_add(2));
        if !self.body.is_empty() {
            self.body.push('&');
        }
        append_encoded(&mut self.body, name);
        self.body.push('=');
        append_encoded(&mut self.body, value);
    }

    /// Room for `additional` bytes. Growing moves the body to a new buffer and wipes the old
    /// one, so no copy of a secret already in the form is left in freed memory.
    fn reserve(&mut self, additional: usize) {
        if self.body.capacity() - self.body.len() >= additional {
            return;
        }
        let capacity = self.body.len().saturating_add(additional).max(self.body.capacity().saturating_mul(2));
        let mut grown = String::with_capacity(capacity);
        grown.push_str(&self.body);
        zeroize::Zeroize::zeroize(&mut std::mem::replace(&mut self.body, grown));
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// The encoded body so far.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> &str {
        &self.body
    }

    /// `token=…[&token_type_hint=…]`, the body of introspection and revocation requests.
    pub(crate) fn token(token: &str, hint: Option<&crate::token_type::TokenTypeHint>) -> Self {
        let mut form = Self::new();
        form.push("token", token);
        if let Some(hint) = hint {
            form.push("token_type_hint", hint.as_str());
        }
        form
    }

    /// The request body (no copy).
    pub(crate) fn into_body(mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.body))
    }
}

/// The bytes form-urlencoding keeps as they are, as a table (one load per byte, no branches).
#[allow(clippy::indexing_slicing)] // `byte` runs through the table's length, at compile time
const KEPT: [bool; 256] = {
    let mut kept = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        kept[byte] = b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_');
        byte += 1;
    }
    kept
};

/// Appends `text` form-urlencoded. Text made only of the bytes the encoding keeps as they are
/// (`A-Z a-z 0-9 * - . _`: tokens, base64url, a signed JWT) is copied in one go; anything else
/// goes through the `url` crate's serializer.
fn append_encoded(body: &mut String, text: &str) {
    if text.bytes().all(|b| KEPT.get(usize::from(b)).copied().unwrap_or(false)) {
        body.push_str(text);
    } else {
        body.extend(form_urlencoded::byte_serialize(text.as_bytes()));
    }
}

/// The values of the parameters of an encoded form whose names say they are secrets
/// (`client_secret`, `refresh_token`, `password`, `code`, `code_verifier`, `device_code`,
/// `token`, ...), decoded.
pub(crate) fn secret_values(body: &[u8]) -> impl Iterator<Item = zeroize::Zeroizing<String>> + '_ {
    form_urlencoded::parse(body)
        .filter(|(name, _)| is_sensitive(name))
        .map(|(_, value)| zeroize::Zeroizing::new(value.into_owned()))
}

/// Checks extra parameters a user adds to a request: none may be one the client sets itself
/// (`reserved`), none may be given twice.
pub(crate) fn check_extra_params(
    extra: &[(String, String)],
    reserved: &[&str],
) -> Result<(), crate::config_error::ConfigError> {
    for (index, (name, _)) in extra.iter().enumerate() {
        if reserved.contains(&name.as_str()) {
            return Err(crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::ReservedParameter,
                format!("extra parameter `{name}` is set by the client itself"),
            ));
        }
        if extra.iter().take(index).any(|(earlier, _)| earlier == name) {
            return Err(crate::config_error::ConfigError::new(
                crate::config_error::ConfigErrorKind::ReservedParameter,
                format!("extra parameter `{name}` is given twice"),
            ));
        }
    }
    Ok(())
}

impl Drop for Form {
    /// A form dropped before it became a request body (a request refused on the way) is wiped.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.body);
    }
}

// Form values include client secrets: never print them.
impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Form({} bytes)", self.body.len())
    }
}
/// Parts of member names whose values may be credentials: any key containing one of them
/// (case-insensitive, `_` and `-` ignored), such as `access_token`, `accessToken`, `id-token`,
/// `client_secret`, `password`, `code_verifier` or `client_assertion`, is never shown.
const SENSITIVE_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "assertion",
    "code",
    "jwt",
    "key",
    "credential",
    "state",
    "nonce",
];

/// Whether a member or field named `key` may hold a credential.
pub(crate) fn is_sensitive(key: &str) -> bool {
    let folded: String =
        key.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect();
    SENSITIVE_PARTS.iter().any(|part| folded.contains(part)) && !NOT_SENSITIVE.contains(&folded.as_str())
}

/// Names that contain a sensitive part but hold no credential (folded as in [`is_sensitive`]):
/// the numeric error codes some servers add to error responses.
const NOT_SENSITIVE: &[&str] = &["errorcode", "errorcodes", "statuscode"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_as_the_url_crate_encodes_them_whatever_their_length() {
        let values = [
            "plain-token_1.2*3",
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIn0.c2ln-_",
            "s3cr:t%+ é/ü",
            "",
            "a b&c=d",
        ];
        let mut form = Form::new();
        let mut expected = String::new();
        for (index, value) in values.iter().enumerate() {
            // Long enough, over the rounds, to grow the buffer several times.
            let value = value.repeat(index * 40 + 1);
            form.push("name_ü", &value);
            if !expected.is_empty() {
                expected.push('&');
            }
            expected.extend(form_urlencoded::byte_serialize("name_ü".as_bytes()));
            expected.push('=');
            expected.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        }
        assert_eq!(form.encode(), expected);
        assert!(form.body.capacity() > 160, "the buffer grew");
    }
}
