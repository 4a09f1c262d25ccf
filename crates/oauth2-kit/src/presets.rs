//! Where well-known servers keep their endpoints, relative to a base URL whose own path is kept
//! (sttp-oauth2 replaced it, which breaks servers mounted under a path).

use url::Url;

use crate::config_error::{ConfigError, ConfigErrorKind};

/// The endpoints of an authorization server, from a preset layout (or from
/// [discovery](crate::discovery)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerEndpoints {
    /// Where users log in (the authorization endpoint, RFC 6749 §3.1).
    pub authorization: Url,
    /// The token endpoint (RFC 6749 §3.2).
    pub token: Url,
    /// Where users log out, if the layout has such an endpoint.
    pub logout: Option<Url>,
    /// The UserInfo endpoint, if the layout has one.
    pub userinfo: Option<Url>,
    /// The introspection endpoint (RFC 7662), if the layout has one.
    pub introspection: Option<Url>,
    /// The revocation endpoint (RFC 7009), if the layout has one.
    pub revocation: Option<Url>,
}

impl ServerEndpoints {
    /// sttp-oauth2's default layout under `base`: `oauth2/login`, `logout`, `oauth2/token`.
    ///
    /// ```
    /// use oauth2_kit::presets::ServerEndpoints;
    ///
    /// let base = url::Url::parse("https://auth.example.com/sso")?;
    /// let endpoints = ServerEndpoints::sttp_default(&base)?;
    /// assert_eq!(endpoints.authorization.as_str(), "https://auth.example.com/sso/oauth2/login");
    /// assert_eq!(endpoints.token.as_str(), "https://auth.example.com/sso/oauth2/token");
    /// assert_eq!(endpoints.logout.unwrap().as_str(), "https://auth.example.com/sso/logout");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sttp_default(base: &Url) -> Result<Self, ConfigError> {
        Ok(Self {
            authorization: under(base, &["oauth2", "login"])?,
            token: under(base, &["oauth2", "token"])?,
            logout: Some(under(base, &["logout"])?),
            userinfo: None,
            introspection: None,
            revocation: None,
        })
    }

    /// GitHub's layout under `base` (`https://github.com` for github.com, your server for GitHub
    /// Enterprise): `login/oauth/authorize`, `login/oauth/access_token`.
    pub fn github(base: &Url) -> Result<Self, ConfigError> {
        Ok(Self {
            authorization: under(base, &["login", "oauth", "authorize"])?,
            token: under(base, &["login", "oauth", "access_token"])?,
            logout: None,
            userinfo: None,
            introspection: None,
            revocation: None,
        })
    }

    /// Keycloak's layout for `realm` under `base` (`https://kc.example.com`, or with its
    /// context path, `https://kc.example.com/auth` for older versions):
    /// `realms/<realm>/protocol/openid-connect/{auth,token,logout,userinfo,token/introspect,revoke}`.
    /// The realm is one path segment (percent-encoded as needed).
    ///
    /// ```
    /// use oauth2_kit::presets::ServerEndpoints;
    ///
    /// let base = url::Url::parse("https://kc.example.com/auth/")?;
    /// let endpoints = ServerEndpoints::keycloak(&base, "my realm")?;
    /// assert_eq!(
    ///     endpoints.token.as_str(),
    ///     "https://kc.example.com/auth/realms/my%20realm/protocol/openid-connect/token"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keycloak(base: &Url, realm: &str) -> Result<Self, ConfigError> {
        if matches!(realm, "" | "." | "..") {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidSetting,
                "the Keycloak realm must be a name, not empty, `.` or `..`",
            ));
        }
        let at = |tail: &[&str]| {
            let mut segments = vec!["realms", realm, "protocol", "openid-connect"];
            segments.extend_from_slice(tail);
            under(base, &segments)
        };
        Ok(Self {
            authorization: at(&["auth"])?,
            token: at(&["token"])?,
            logout: Some(at(&["logout"])?),
            userinfo: Some(at(&["userinfo"])?),
            introspection: Some(at(&["token", "introspect"])?),
            revocation: Some(at(&["revoke"])?),
        })
    }
}

/// `base` with `segments` appended to its path (its own path kept, a trailing slash or not;
/// query and fragment dropped).
fn under(base: &Url, segments: &[&str]) -> Result<Url, ConfigError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut path = url.path_segments_mut().map_err(|()| {
            ConfigError::new(
                ConfigErrorKind::InvalidSetting,
                "the base URL cannot have a path (not http or https)",
            )
        })?;
        path.pop_if_empty();
        path.extend(segments);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_base_path_is_kept_with_or_without_a_slash() {
        for base in
            ["https://a.example.com/base", "https://a.example.com/base/", "https://a.example.com/base?x=1#f"]
        {
            let e = ServerEndpoints::sttp_default(&url(base)).unwrap();
            assert_eq!(e.token.as_str(), "https://a.example.com/base/oauth2/token", "{base}");
        }
        let e = ServerEndpoints::sttp_default(&url("https://a.example.com")).unwrap();
        assert_eq!(e.authorization.as_str(), "https://a.example.com/oauth2/login");
    }

    #[test]
    fn github_layout() {
        let e = ServerEndpoints::github(&url("https://github.com")).unwrap();
        assert_eq!(e.authorization.as_str(), "https://github.com/login/oauth/authorize");
        assert_eq!(e.token.as_str(), "https://github.com/login/oauth/access_token");
        let ghe = ServerEndpoints::github(&url("https://git.corp.example/ghe/")).unwrap();
        assert_eq!(ghe.token.as_str(), "https://git.corp.example/ghe/login/oauth/access_token");
    }

    #[test]
    fn keycloak_layout() {
        let e = ServerEndpoints::keycloak(&url("https://kc.example.com"), "demo").unwrap();
        let base = "https://kc.example.com/realms/demo/protocol/openid-connect";
        assert_eq!(e.authorization.as_str(), format!("{base}/auth"));
        assert_eq!(e.token.as_str(), format!("{base}/token"));
        assert_eq!(e.logout.unwrap().as_str(), format!("{base}/logout"));
        assert_eq!(e.userinfo.unwrap().as_str(), format!("{base}/userinfo"));
        assert_eq!(e.introspection.unwrap().as_str(), format!("{base}/token/introspect"));
        assert_eq!(e.revocation.unwrap().as_str(), format!("{base}/revoke"));
        // A realm is one segment: no path traversal.
        let odd = ServerEndpoints::keycloak(&url("https://kc.example.com"), "../admin").unwrap();
        assert_eq!(
            odd.token.as_str(),
            "https://kc.example.com/realms/..%2Fadmin/protocol/openid-connect/token"
        );
        assert!(ServerEndpoints::keycloak(&url("https://kc.example.com"), "").is_err());
        for dots in [".", ".."] {
            assert!(ServerEndpoints::keycloak(&url("https://kc.example.com/base"), dots).is_err(), "{dots}");
        }
    }

    #[test]
    fn a_base_without_a_path_is_refused() {
        assert!(ServerEndpoints::sttp_default(&url("mailto:someone@example.com")).is_err());
    }
}
