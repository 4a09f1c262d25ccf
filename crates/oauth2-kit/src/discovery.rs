//! Where an authorization server keeps its endpoints: OAuth 2.0 Authorization Server Metadata
//! (RFC 8414) and OpenID Connect Discovery 1.0, with the issuer check both require.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use url::Url;

use crate::decode::{DecodeError, JsonObject};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::exchange::{Answer, Operation, Transport};
use crate::http::HttpClient;
use crate::issuer::Issuer;

/// Which well-known document to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataKind {
    /// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
    OpenIdConfiguration,
    /// `{origin}/.well-known/oauth-authorization-server{issuer path}` (RFC 8414 §3.1).
    OAuthAuthorizationServer,
}

impl MetadataKind {
    /// The document's URL for `issuer`.
    ///
    /// ```
    /// use oauth2_kit::discovery::MetadataKind;
    ///
    /// let issuer = url::Url::parse("https://auth.example.com/tenant1")?;
    /// assert_eq!(
    ///     MetadataKind::OAuthAuthorizationServer.url(&issuer).as_str(),
    ///     "https://auth.example.com/.well-known/oauth-authorization-server/tenant1"
    /// );
    /// assert_eq!(
    ///     MetadataKind::OpenIdConfiguration.url(&issuer).as_str(),
    ///     "https://auth.example.com/tenant1/.well-known/openid-configuration"
    /// );
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn url(self, issuer: &Url) -> Url {
        let path = issuer.path().trim_end_matches('/');
        let mut url = issuer.clone();
        url.set_query(None);
        url.set_fragment(None);
        match self {
            Self::OpenIdConfiguration => url.set_path(&format!("{path}/.well-known/openid-configuration")),
            Self::OAuthAuthorizationServer => {
                url.set_path(&format!("/.well-known/oauth-authorization-server{path}"))
            }
        }
        url
    }
}

/// An authorization server's metadata: its issuer, endpoints and capabilities. Members this
/// type does not name are kept in [`extra`](Self::extra).
///
/// A `*_supported` list is `None` when the server did not send it, which is not the same as an
/// empty list: RFC 8414 gives some lists a default, which the accessors of the same name without
/// `_supported` apply ([`grant_types`](Self::grant_types),
/// [`token_endpoint_auth_methods`](Self::token_endpoint_auth_methods),
/// [`response_modes`](Self::response_modes),
/// [`code_challenge_methods`](Self::code_challenge_methods)).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// The issuer identifier, exactly as the document gives it; [`discover`](Self::discover)
    /// checks that it is, character for character, the one asked for.
    pub issuer: Issuer,
    /// The authorization endpoint (RFC 6749 §3.1).
    pub authorization_endpoint: Option<Url>,
    /// The token endpoint (RFC 6749 §3.2).
    pub token_endpoint: Option<Url>,
    /// The introspection endpoint (RFC 7662).
    pub introspection_endpoint: Option<Url>,
    /// The revocation endpoint (RFC 7009).
    pub revocation_endpoint: Option<Url>,
    /// The UserInfo endpoint (OpenID Connect Core §5.3).
    pub userinfo_endpoint: Option<Url>,
    /// The device authorization endpoint (RFC 8628).
    pub device_authorization_endpoint: Option<Url>,
    /// The end-session endpoint (OpenID Connect RP-Initiated Logout).
    pub end_session_endpoint: Option<Url>,
    /// The pushed authorization request endpoint (RFC 9126).
    pub pushed_authorization_request_endpoint: Option<Url>,
    /// Whether the server accepts authorization requests only through its pushed authorization
    /// request endpoint (RFC 9126 §5; absent means `false`).
    pub require_pushed_authorization_requests: bool,
    /// The dynamic client registration endpoint (RFC 7591).
    pub registration_endpoint: Option<Url>,
    /// The JSON Web Key Set document.
    pub jwks_uri: Option<Url>,
    /// The scopes the server supports, if it says (no default).
    pub scopes_supported: Option<Vec<String>>,
    /// The grant types it supports, if it says (default: see [`grant_types`](Self::grant_types)).
    pub grant_types_supported: Option<Vec<String>>,
    /// The response types it supports (required by RFC 8414; `None` if missing all the same).
    pub response_types_supported: Option<Vec<String>>,
    /// The response modes it supports, if it says (default: see
    /// [`response_modes`](Self::response_modes)).
    pub response_modes_supported: Option<Vec<String>>,
    /// The client authentication methods of its token endpoint, if it says (default: see
    /// [`token_endpoint_auth_methods`](Self::token_endpoint_auth_methods)).
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The signing algorithms it accepts in signed client assertions at its token endpoint
    /// (`private_key_jwt`, `client_secret_jwt`), if it says.
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// The client authentication methods of its introspection endpoint, if it says (no default).
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The signing algorithms of signed client assertions at its introspection endpoint.
    pub introspection_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// The client authentication methods of its revocation endpoint, if it says (no default).
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The signing algorithms of signed client assertions at its revocation endpoint.
    pub revocation_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// The PKCE methods it supports (RFC 7636), if it says (absent: no PKCE support).
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// The endpoints a client presenting a TLS client certificate uses instead (RFC 8705 §5),
    /// if the server has such aliases.
    pub mtls_endpoint_aliases: Option<MtlsEndpointAliases>,
    /// Whether the server binds access tokens to the client's TLS certificate (RFC 8705 §3.3;
    /// absent means `false`).
    pub tls_client_certificate_bound_access_tokens: bool,
    /// The algorithms it accepts in DPoP proofs (RFC 9449 §5.1), if it says.
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Every other member, as sent.
    pub extra: Map<String, Value>,
}

impl ServerMetadata {
    /// Decodes a metadata document (a JSON object with at least `issuer`). Endpoint members must
    /// be absolute URLs; `*_supported` members arrays of strings.
    ///
    /// ```
    /// use oauth2_kit::discovery::ServerMetadata;
    ///
    /// let metadata = ServerMetadata::from_json(br#"{
    ///     "issuer": "https://server.example.com",
    ///     "token_endpoint": "https://server.example.com/token",
    ///     "grant_types_supported": ["authorization_code", "client_credentials"],
    ///     "ui_locales_supported": ["en-US"]
    /// }"#)?;
    /// assert_eq!(metadata.issuer, "https://server.example.com");
    /// assert_eq!(metadata.token_endpoint.as_ref().unwrap().as_str(), "https://server.example.com/token");
    /// assert_eq!(metadata.grant_types(), ["authorization_code", "client_credentials"]);
    /// // Not sent: RFC 8414's default.
    /// assert_eq!(metadata.token_endpoint_auth_methods_supported, None);
    /// assert_eq!(metadata.token_endpoint_auth_methods(), ["client_secret_basic"]);
    /// assert!(metadata.extra.contains_key("ui_locales_supported"));
    /// # Ok::<(), oauth2_kit::DecodeError>(())
    /// ```
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        Self::from_object(JsonObject::parse(body)?)
    }

    fn from_object(mut object: JsonObject<'_>) -> Result<Self, DecodeError> {
        let issuer = Issuer::new(object.required_string("issuer")?)
            .map_err(|e| DecodeError::new(Some("issuer"), format!("`issuer` is not an issuer URL: {e}")))?;
        let mut url = |key: &'static str| url_member(object.optional_string(key)?, key);
        let authorization_endpoint = url("authorization_endpoint")?;
        let token_endpoint = url("token_endpoint")?;
        let introspection_endpoint = url("introspection_endpoint")?;
        let revocation_endpoint = url("revocation_endpoint")?;
        let userinfo_endpoint = url("userinfo_endpoint")?;
        let device_authorization_endpoint = url("device_authorization_endpoint")?;
        let end_session_endpoint = url("end_session_endpoint")?;
        let pushed_authorization_request_endpoint = url("pushed_authorization_request_endpoint")?;
        let registration_endpoint = url("registration_endpoint")?;
        let jwks_uri = url("jwks_uri")?;
        let require_pushed_authorization_requests =
            object.lenient_bool("require_pushed_authorization_requests")?.unwrap_or(false);
        let tls_client_certificate_bound_access_tokens =
            object.lenient_bool("tls_client_certificate_bound_access_tokens")?.unwrap_or(false);
        let mtls_endpoint_aliases = match object.take_if(|_| true, "mtls_endpoint_aliases") {
            None | Some(Value::Null) => None,
            Some(Value::Object(aliases)) => Some(MtlsEndpointAliases::from_map(&aliases)?),
            Some(_) => {
                return Err(DecodeError::new(
                    Some("mtls_endpoint_aliases"),
                    "`mtls_endpoint_aliases` is not a JSON object",
                ));
            }
        };
        let mut list = |key: &'static str| object.string_or_array(key);
        Ok(Self {
            issuer,
            authorization_endpoint,
            token_endpoint,
            introspection_endpoint,
            revocation_endpoint,
            userinfo_endpoint,
            device_authorization_endpoint,
            end_session_endpoint,
            pushed_authorization_request_endpoint,
            require_pushed_authorization_requests,
            registration_endpoint,
            jwks_uri,
            scopes_supported: list("scopes_supported")?,
            grant_types_supported: list("grant_types_supported")?,
            response_types_supported: list("response_types_supported")?,
            response_modes_supported: list("response_modes_supported")?,
            token_endpoint_auth_methods_supported: list("token_endpoint_auth_methods_supported")?,
            token_endpoint_auth_signing_alg_values_supported: list(
                "token_endpoint_auth_signing_alg_values_supported",
            )?,
            introspection_endpoint_auth_methods_supported: list(
                "introspection_endpoint_auth_methods_supported",
            )?,
            introspection_endpoint_auth_signing_alg_values_supported: list(
                "introspection_endpoint_auth_signing_alg_values_supported",
            )?,
            revocation_endpoint_auth_methods_supported: list("revocation_endpoint_auth_methods_supported")?,
            revocation_endpoint_auth_signing_alg_values_supported: list(
                "revocation_endpoint_auth_signing_alg_values_supported",
            )?,
            code_challenge_methods_supported: list("code_challenge_methods_supported")?,
            mtls_endpoint_aliases,
            tls_client_certificate_bound_access_tokens,
            dpop_signing_alg_values_supported: list("dpop_signing_alg_values_supported")?,
            extra: object.into_rest(),
        })
    }

    /// The grant types the server supports: the list it sent, or RFC 8414 §2's default
    /// (`authorization_code`, `implicit`).
    pub fn grant_types(&self) -> Vec<&str> {
        or_default(self.grant_types_supported.as_ref(), &["authorization_code", "implicit"])
    }

    /// The client authentication methods of the token endpoint: the list the server sent, or
    /// RFC 8414 §2's default (`client_secret_basic`).
    pub fn token_endpoint_auth_methods(&self) -> Vec<&str> {
        or_default(self.token_endpoint_auth_methods_supported.as_ref(), &["client_secret_basic"])
    }

    /// The response modes: the list the server sent, or RFC 8414 §2's default (`query`,
    /// `fragment`).
    pub fn response_modes(&self) -> Vec<&str> {
        or_default(self.response_modes_supported.as_ref(), &["query", "fragment"])
    }

    /// The PKCE code challenge methods: the list the server sent, or none (RFC 8414 §2: a server
    /// that omits the list does not support PKCE).
    pub fn code_challenge_methods(&self) -> Vec<&str> {
        or_default(self.code_challenge_methods_supported.as_ref(), &[])
    }

    /// Reads the metadata of `issuer`: the OpenID configuration, or, if the server has none
    /// (`404`), the RFC 8414 document. Fails unless the document's `issuer` is `issuer` itself,
    /// compared as strings (RFC 8414 §3.3, OpenID Connect Discovery §4.3: not even a trailing
    /// `/` may differ), so that a document served for another issuer is never trusted.
    pub async fn discover(issuer: &Issuer, http: impl HttpClient + 'static) -> Result<Self> {
        let transport = transport(http);
        match fetch(&transport, issuer, MetadataKind::OpenIdConfiguration).await {
            Err(error) if error.status() == Some(http::StatusCode::NOT_FOUND) => {
                fetch(&transport, issuer, MetadataKind::OAuthAuthorizationServer).await
            }
            other => other,
        }
    }

    /// Reads one kind of metadata document of `issuer`, with the same issuer check.
    pub async fn fetch(issuer: &Issuer, kind: MetadataKind, http: impl HttpClient + 'static) -> Result<Self> {
        fetch(&transport(http), issuer, kind).await
    }
}

fn or_default<'a>(sent: Option<&'a Vec<String>>, default: &[&'static str]) -> Vec<&'a str> {
    match sent {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => default.to_vec(),
    }
}

fn transport(http: impl HttpClient + 'static) -> Transport {
    Transport::new(Arc::new(http))
}

async fn fetch(transport: &Transport, issuer: &Issuer, kind: MetadataKind) -> Result<ServerMetadata> {
    let document = Endpoint::new(kind.url(issuer.url()))?;
    read(transport.get_json(Operation::Discovery, &document).await?, issuer)
}

/// Classifies a metadata answer and checks its issuer.
pub(crate) fn read(answer: Answer, issuer: &Issuer) -> Result<ServerMetadata> {
    let status = answer.status;
    let metadata = answer.json(|object, _| ServerMetadata::from_object(object))?;
    if metadata.issuer.as_str() != issuer.as_str() {
        return Err(Error::Decode {
            status,
            field: Some("issuer"),
            reason: format!(
                "the document is for issuer `{}`, not the `{}` asked for (issuers are compared exactly)",
                crate::excerpt::clip(&crate::excerpt::one_line(metadata.issuer.as_str()), 200),
                issuer
            ),
            body_excerpt: String::new(),
        });
    }
    Ok(metadata)
}

/// The endpoints of a server for clients that present a TLS client certificate (RFC 8705 §5):
/// each, when set, replaces the endpoint of the same name for such clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MtlsEndpointAliases {
    /// The token endpoint.
    pub token_endpoint: Option<Url>,
    /// The revocation endpoint.
    pub revocation_endpoint: Option<Url>,
    /// The introspection endpoint.
    pub introspection_endpoint: Option<Url>,
    /// The device authorization endpoint.
    pub device_authorization_endpoint: Option<Url>,
    /// The UserInfo endpoint.
    pub userinfo_endpoint: Option<Url>,
    /// The pushed authorization request endpoint.
    pub pushed_authorization_request_endpoint: Option<Url>,
}

impl MtlsEndpointAliases {
    fn from_map(aliases: &Map<String, Value>) -> Result<Self, DecodeError> {
        let url = |key: &'static str| -> Result<Option<Url>, DecodeError> {
            match aliases.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => url_member(Some(text.clone()), "mtls_endpoint_aliases"),
                Some(_) => Err(DecodeError::new(
                    Some("mtls_endpoint_aliases"),
                    format!("the `{key}` of `mtls_endpoint_aliases` is not a string"),
                )),
            }
        };
        Ok(Self {
            token_endpoint: url("token_endpoint")?,
            revocation_endpoint: url("revocation_endpoint")?,
            introspection_endpoint: url("introspection_endpoint")?,
            device_authorization_endpoint: url("device_authorization_endpoint")?,
            userinfo_endpoint: url("userinfo_endpoint")?,
            pushed_authorization_request_endpoint: url("pushed_authorization_request_endpoint")?,
        })
    }
}

fn url_member(value: Option<String>, key: &'static str) -> Result<Option<Url>, DecodeError> {
    value
        .map(|text| {
            Url::parse(&text)
                .map_err(|e| DecodeError::new(Some(key), format!("`{key}` is not an absolute URL: {e}")))
        })
        .transpose()
}

impl fmt::Debug for ServerMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerMetadata")
            .field("issuer", &self.issuer)
            .field("token_endpoint", &self.token_endpoint.as_ref().map(Url::as_str))
            .field("grant_types_supported", &self.grant_types_supported)
            .field("extra", &crate::decode::KeysOnly(&self.extra))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8414_example_decodes() {
        // RFC 8414 §3.2, abridged.
        let body = br#"{
          "issuer": "https://server.example.com",
          "authorization_endpoint": "https://server.example.com/authorize",
          "token_endpoint": "https://server.example.com/token",
          "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
          "jwks_uri": "https://server.example.com/jwks.json",
          "registration_endpoint": "https://server.example.com/register",
          "scopes_supported": ["openid", "profile", "email"],
          "response_types_supported": ["code", "code token"],
          "service_documentation": "http://server.example.com/service_documentation.html"
        }"#;
        let m = ServerMetadata::from_json(body).unwrap();
        assert_eq!(m.issuer.as_str(), "https://server.example.com");
        assert_eq!(m.registration_endpoint.as_ref().unwrap().as_str(), "https://server.example.com/register");
        assert_eq!(
            m.scopes_supported.as_deref(),
            Some(&["openid".to_owned(), "profile".into(), "email".into()][..])
        );
        assert_eq!(m.grant_types_supported, None);
        assert_eq!(m.grant_types(), ["authorization_code", "implicit"]);
        assert_eq!(m.response_modes(), ["query", "fragment"]);
        assert!(m.code_challenge_methods().is_empty());
        let server = crate::AuthorizationServer::from_metadata(&m);
        assert_eq!(
            server.endpoint(crate::EndpointKind::Token).unwrap().as_str(),
            "https://server.example.com/token"
        );
        assert_eq!(m.token_endpoint_auth_methods(), ["client_secret_basic", "private_key_jwt"]);
        assert_eq!(m.response_types_supported.clone().unwrap(), ["code", "code token"]);
        assert!(!m.extra.contains_key("registration_endpoint"));
        assert!(m.revocation_endpoint.is_none());
        assert!(!server.has(crate::EndpointKind::Revocation));
    }

    #[test]
    fn bad_documents_name_the_member() {
        for (body, field) in [
            (&br#"{"token_endpoint":"https://a/token"}"#[..], "issuer"),
            (br#"{"issuer":"not a url"}"#, "issuer"),
            (br#"{"issuer":"https://a","token_endpoint":"/relative"}"#, "token_endpoint"),
            (br#"{"issuer":"https://a","scopes_supported":[1]}"#, "scopes_supported"),
        ] {
            let err = ServerMetadata::from_json(body).unwrap_err();
            assert_eq!(err.field(), Some(field), "{err}");
        }
        assert!(ServerMetadata::from_json(b"[]").is_err());
        // An empty list is not an absent one.
        let m = ServerMetadata::from_json(br#"{"issuer":"https://a","grant_types_supported":[]}"#).unwrap();
        assert_eq!(m.grant_types_supported, Some(vec![]));
        assert!(m.grant_types().is_empty());
    }

    #[test]
    fn mutual_tls_aliases_are_used_only_by_clients_that_present_a_certificate() {
        let m = ServerMetadata::from_json(
            br#"{"issuer":"https://a","token_endpoint":"https://a/token",
                "introspection_endpoint":"https://a/introspect",
                "tls_client_certificate_bound_access_tokens":true,
                "dpop_signing_alg_values_supported":["ES256"],
                "mtls_endpoint_aliases":{"token_endpoint":"https://mtls.a/token","unknown":"x"}}"#,
        )
        .unwrap();
        let aliases = m.mtls_endpoint_aliases.clone().unwrap();
        assert_eq!(aliases.token_endpoint.unwrap().as_str(), "https://mtls.a/token");
        assert_eq!(aliases.introspection_endpoint, None);
        assert!(m.tls_client_certificate_bound_access_tokens);
        assert_eq!(m.dpop_signing_alg_values_supported, Some(vec!["ES256".to_owned()]));
        let server = crate::AuthorizationServer::from_metadata(&m);
        let token = |mtls| server.endpoint_for(crate::EndpointKind::Token, mtls).unwrap();
        assert_eq!(token(true).as_str(), "https://mtls.a/token");
        assert_eq!(token(false).as_str(), "https://a/token");
        let introspection = server.endpoint_for(crate::EndpointKind::Introspection, true).unwrap();
        assert_eq!(introspection.as_str(), "https://a/introspect", "no alias: the endpoint itself");
        for bad in [
            &br#"{"issuer":"https://a","mtls_endpoint_aliases":"https://mtls.a"}"#[..],
            br#"{"issuer":"https://a","mtls_endpoint_aliases":{"token_endpoint":"/relative"}}"#,
            br#"{"issuer":"https://a","mtls_endpoint_aliases":{"token_endpoint":7}}"#,
        ] {
            assert_eq!(ServerMetadata::from_json(bad).unwrap_err().field(), Some("mtls_endpoint_aliases"));
        }
        let explicit = crate::AuthorizationServer::new()
            .token("https://a/token".parse().unwrap())
            .mtls_alias(crate::EndpointKind::Token, "https://mtls.a/token".parse().unwrap());
        assert_eq!(
            explicit.endpoint_for(crate::EndpointKind::Token, true).unwrap().as_str(),
            "https://mtls.a/token"
        );
    }

    #[test]
    fn well_known_urls_keep_the_issuer_path() {
        let root = Url::parse("https://auth.example.com").unwrap();
        assert_eq!(
            MetadataKind::OpenIdConfiguration.url(&root).as_str(),
            "https://auth.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            MetadataKind::OAuthAuthorizationServer.url(&root).as_str(),
            "https://auth.example.com/.well-known/oauth-authorization-server"
        );
        let realm = Url::parse("https://kc.example.com/realms/demo/").unwrap();
        assert_eq!(
            MetadataKind::OpenIdConfiguration.url(&realm).as_str(),
            "https://kc.example.com/realms/demo/.well-known/openid-configuration"
        );
    }
}
