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

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub(crate) fn encode(&self) -> String {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(self.pairs.iter()).finish()
    }
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
