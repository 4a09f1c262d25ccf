//! Where well-known servers keep their endpoints, relative to a base URL whose own path is kept
//! (sttp-oauth2 replaced it, which breaks servers mounted under a path).

use url::Url;

use crate::client::AuthorizationServer;
use crate::config_error::{ConfigError, ConfigErrorKind, EndpointKind};

/// sttp-oauth2's default layout under `base`: `oauth2/login`, `logout`, `oauth2/token`.
///
/// ```
/// use oauth2_kit::EndpointKind;
///
/// let base = url::Url::parse("https://auth.example.com/sso")?;
/// let server = oauth2_kit::presets::sttp_default(&base)?;
/// let token = server.endpoint(EndpointKind::Token)?;
/// assert_eq!(token.as_str(), "https://auth.example.com/sso/oauth2/token");
/// assert_eq!(
///     server.endpoint(EndpointKind::EndSession)?.as_str(),
///     "https://auth.example.com/sso/logout"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sttp_default(base: &Url) -> Result<AuthorizationServer, ConfigError> {
    Ok(AuthorizationServer::new()
        .advertised(EndpointKind::Authorization, under(base, &["oauth2", "login"])?)
        .advertised(EndpointKind::Token, under(base, &["oauth2", "token"])?)
        .advertised(EndpointKind::EndSession, under(base, &["logout"])?))
}

/// GitHub's layout under `base` (`https://github.com` for github.com, your server for GitHub
/// Enterprise): `login/oauth/authorize`, `login/oauth/access_token`.
pub fn github(base: &Url) -> Result<AuthorizationServer, ConfigError> {
    Ok(AuthorizationServer::new()
        .advertised(EndpointKind::Authorization, under(base, &["login", "oauth", "authorize"])?)
        .advertised(EndpointKind::Token, under(base, &["login", "oauth", "access_token"])?))
}

/// Keycloak's layout for `realm` under `base` (`https://kc.example.com`, or with its context
/// path, `https://kc.example.com/auth` for older versions):
/// `realms/<realm>/protocol/openid-connect/{auth,token,logout,userinfo,token/introspect,revoke}`.
/// The realm is one path segment (percent-encoded as needed).
///
/// No issuer is set: Keycloak names its issuer after its public (frontend) URL, which a
/// service may not reach it by. To have login callbacks' `iss` checked (RFC 9207), give it:
/// `.issuer("https://kc.example.com/realms/my-realm".parse()?, true)`, or use discovery.
///
/// ```
/// use oauth2_kit::EndpointKind;
///
/// let base = url::Url::parse("https://kc.example.com/auth/")?;
/// let server = oauth2_kit::presets::keycloak(&base, "my realm")?;
/// assert_eq!(
///     server.endpoint(EndpointKind::Token)?.as_str(),
///     "https://kc.example.com/auth/realms/my%20realm/protocol/openid-connect/token"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn keycloak(base: &Url, realm: &str) -> Result<AuthorizationServer, ConfigError> {
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
    Ok(AuthorizationServer::new()
        .advertised(EndpointKind::Authorization, at(&["auth"])?)
        .advertised(EndpointKind::Token, at(&["token"])?)
        .advertised(EndpointKind::UserInfo, at(&["userinfo"])?)
        .advertised(EndpointKind::Introspection, at(&["token", "introspect"])?)
        .advertised(EndpointKind::Revocation, at(&["revoke"])?)
        .advertised(EndpointKind::EndSession, at(&["logout"])?))
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

    fn at(server: &AuthorizationServer, kind: EndpointKind) -> String {
        server.endpoint(kind).unwrap().as_str().to_owned()
    }

    #[test]
    fn the_base_path_is_kept_with_or_without_a_slash() {
        for base in
            ["https://a.example.com/base", "https://a.example.com/base/", "https://a.example.com/base?x=1#f"]
        {
            let server = sttp_default(&url(base)).unwrap();
            assert_eq!(at(&server, EndpointKind::Token), "https://a.example.com/base/oauth2/token", "{base}");
        }
        let server = sttp_default(&url("https://a.example.com")).unwrap();
        assert_eq!(at(&server, EndpointKind::Authorization), "https://a.example.com/oauth2/login");
        assert_eq!(at(&server, EndpointKind::EndSession), "https://a.example.com/logout");
    }

    #[test]
    fn github_layout() {
        let server = github(&url("https://github.com")).unwrap();
        assert_eq!(at(&server, EndpointKind::Authorization), "https://github.com/login/oauth/authorize");
        assert_eq!(at(&server, EndpointKind::Token), "https://github.com/login/oauth/access_token");
        assert!(!server.has(EndpointKind::Introspection));
        let ghe = github(&url("https://git.corp.example/ghe/")).unwrap();
        assert_eq!(at(&ghe, EndpointKind::Token), "https://git.corp.example/ghe/login/oauth/access_token");
    }

    #[test]
    fn keycloak_layout() {
        let server = keycloak(&url("https://kc.example.com"), "demo").unwrap();
        let base = "https://kc.example.com/realms/demo/protocol/openid-connect";
        assert_eq!(at(&server, EndpointKind::Authorization), format!("{base}/auth"));
        assert_eq!(at(&server, EndpointKind::Token), format!("{base}/token"));
        assert_eq!(at(&server, EndpointKind::EndSession), format!("{base}/logout"));
        assert_eq!(at(&server, EndpointKind::UserInfo), format!("{base}/userinfo"));
        assert_eq!(at(&server, EndpointKind::Introspection), format!("{base}/token/introspect"));
        assert_eq!(at(&server, EndpointKind::Revocation), format!("{base}/revoke"));
        assert_eq!(server.issuer_identifier(), None, "Keycloak's issuer is its public URL: not guessed");
        // A realm is one segment: no path traversal.
        let odd = keycloak(&url("https://kc.example.com"), "../admin").unwrap();
        assert_eq!(
            at(&odd, EndpointKind::Token),
            "https://kc.example.com/realms/..%2Fadmin/protocol/openid-connect/token"
        );
        assert!(keycloak(&url("https://kc.example.com"), "").is_err());
        for dots in [".", ".."] {
            assert!(keycloak(&url("https://kc.example.com/base"), dots).is_err(), "{dots}");
        }
    }

    #[test]
    fn a_base_without_a_path_is_refused() {
        assert!(sttp_default(&url("mailto:someone@example.com")).is_err());
    }

    #[test]
    fn a_plain_http_base_fails_only_when_an_endpoint_is_used() {
        let server = keycloak(&url("http://kc.example.com"), "demo").unwrap();
        let error = server.endpoint(EndpointKind::Token).unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::InvalidEndpoint);
    }
}
