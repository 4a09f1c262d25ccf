//! Logout links: sttp-oauth2's, and OpenID Connect RP-Initiated Logout 1.0.

use url::Url;

use crate::secret::{ClientId, IdToken};

/// sttp-oauth2's logout link: `logout_endpoint` with `client_id` and, if given, `redirect_uri`
/// (where the server sends the user afterwards). Query parameters already on the endpoint are
/// kept.
///
/// ```
/// use oauth2_kit::ClientId;
/// use oauth2_kit::logout::logout_link;
///
/// let endpoint = url::Url::parse("https://auth.example.com/logout")?;
/// let back = url::Url::parse("https://app.example.com/bye")?;
/// let link = logout_link(&endpoint, &ClientId::new("web-app"), Some(&back));
/// assert_eq!(
///     link.as_str(),
///     "https://auth.example.com/logout?client_id=web-app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye"
/// );
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn logout_link(logout_endpoint: &Url, client_id: &ClientId, redirect_uri: Option<&Url>) -> Url {
    let mut url = logout_endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("client_id", client_id.as_str());
        if let Some(redirect_uri) = redirect_uri {
            query.append_pair("redirect_uri", redirect_uri.as_str());
        }
    }
    url
}

/// The parameters of an OpenID Connect RP-Initiated Logout request (§2), all optional.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RpLogout<'a> {
    /// The ID token the user logged in with (`id_token_hint`): tells the server who logs out.
    pub id_token_hint: Option<&'a IdToken>,
    /// The client (`client_id`); needed with `post_logout_redirect_uri` when there is no hint.
    pub client_id: Option<&'a ClientId>,
    /// Where to send the user afterwards; must be registered for the client.
    pub post_logout_redirect_uri: Option<&'a Url>,
    /// Opaque value handed back with the redirect.
    pub state: Option<&'a str>,
}

impl<'a> RpLogout<'a> {
    /// A request with no parameter; set the ones you need.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `id_token_hint`.
    #[must_use]
    pub fn id_token_hint(mut self, id_token: &'a IdToken) -> Self {
        self.id_token_hint = Some(id_token);
        self
    }

    /// Sets `client_id`.
    #[must_use]
    pub fn client_id(mut self, client_id: &'a ClientId) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// Sets `post_logout_redirect_uri`.
    #[must_use]
    pub fn post_logout_redirect_uri(mut self, uri: &'a Url) -> Self {
        self.post_logout_redirect_uri = Some(uri);
        self
    }

    /// Sets `state`.
    #[must_use]
    pub fn state(mut self, state: &'a str) -> Self {
        self.state = Some(state);
        self
    }

    /// The logout URL at `end_session_endpoint` (from discovery: `end_session_endpoint`), the
    /// parameters in the order of the specification; query parameters already on the endpoint
    /// are kept. The URL carries the ID token when a hint is given: send it to the browser, do
    /// not log it.
    ///
    /// ```
    /// use oauth2_kit::{ClientId, logout::RpLogout};
    ///
    /// let endpoint = url::Url::parse("https://op.example.com/session/end")?;
    /// let back = url::Url::parse("https://app.example.com/")?;
    /// let client = ClientId::new("web-app");
    /// let url = RpLogout::new().client_id(&client).post_logout_redirect_uri(&back).state("xyz").url(&endpoint);
    /// assert_eq!(
    ///     url.as_str(),
    ///     "https://op.example.com/session/end?client_id=web-app&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2F&state=xyz"
    /// );
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn url(&self, end_session_endpoint: &Url) -> Url {
        let mut url = end_session_endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = self.id_token_hint {
                query.append_pair("id_token_hint", hint.expose_secret());
            }
            if let Some(client_id) = self.client_id {
                query.append_pair("client_id", client_id.as_str());
            }
            if let Some(uri) = self.post_logout_redirect_uri {
                query.append_pair("post_logout_redirect_uri", uri.as_str());
            }
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
        }
        // An empty `?` for a request without parameters on an endpoint without a query.
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_query_is_kept_and_values_encoded() {
        let endpoint = Url::parse("https://auth.example.com/logout?tenant=a%26b").unwrap();
        let link = logout_link(&endpoint, &ClientId::new("id with space"), None);
        assert_eq!(link.as_str(), "https://auth.example.com/logout?tenant=a%26b&client_id=id+with+space");
    }

    #[test]
    fn rp_logout_with_hint_and_without_anything() {
        let endpoint = Url::parse("https://op.example.com/end").unwrap();
        let token = IdToken::new("eyJ.hdr.sig");
        let url = RpLogout::new().id_token_hint(&token).url(&endpoint);
        assert_eq!(url.as_str(), "https://op.example.com/end?id_token_hint=eyJ.hdr.sig");
        assert_eq!(RpLogout::new().url(&endpoint).as_str(), "https://op.example.com/end");
        // The builder's Debug never shows the token.
        let debug = format!("{:?}", RpLogout::new().id_token_hint(&token));
        assert!(!debug.contains("eyJ.hdr.sig"), "{debug}");
    }
}
