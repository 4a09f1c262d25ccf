//! `application/x-www-form-urlencoded` request bodies.

use url::form_urlencoded;
use zeroize::Zeroize as _;

/// Form parameters in the order they were added. The encoded body is UTF-8, spaces as `+`
/// (the WHATWG `application/x-www-form-urlencoded` serializer of the `url` crate).
///
/// Values may be secrets (a client secret, a token), so they are zeroized when the form is
/// dropped. The encoded body handed to the HTTP client is a copy the form cannot reach.
#[derive(Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, name: &str, value: &str) {
        self.pairs.push((name.to_owned(), value.to_owned()));
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `token=…[&token_type_hint=…]`, the body of introspection and revocation requests.
    pub(crate) fn token(token: &str, hint: Option<&crate::introspection::TokenTypeHint>) -> Self {
        let mut form = Self::new();
        form.push("token", token);
        if let Some(hint) = hint {
            form.push("token_type_hint", hint.as_str());
        }
        form
    }

    /// The values of the parameters whose names say they are secrets (`client_secret`,
    /// `refresh_token`, `password`, `code`, `code_verifier`, `device_code`, `token`, ...).
    pub(crate) fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(|(name, _)| crate::excerpt::is_sensitive(name))
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn encode(&self) -> String {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(self.pairs.iter()).finish()
    }
}

/// Checks extra parameters a user adds to a request: none may be one the client sets itself
/// (`reserved`), none may be given twice.
pub(crate) fn check_extra_params(extra: &[(String, String)], reserved: &[&str]) -> crate::Result<()> {
    for (index, (name, _)) in extra.iter().enumerate() {
        if reserved.contains(&name.as_str()) {
            return Err(crate::Error::config(format!(
                "extra parameter `{name}` is set by the client itself"
            )));
        }
        if extra.iter().take(index).any(|(earlier, _)| earlier == name) {
            return Err(crate::Error::config(format!("extra parameter `{name}` is given twice")));
        }
    }
    Ok(())
}

impl Drop for Form {
    fn drop(&mut self) {
        for (_, value) in &mut self.pairs {
            value.zeroize();
        }
    }
}

// Form values include client secrets: never print them.
impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.pairs.iter().map(|(name, _)| name)).finish()
    }
}
