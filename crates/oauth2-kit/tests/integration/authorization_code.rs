//! The authorization code, refresh and password grants over an in-process HTTP client that
//! records what is sent and answers from a script.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crate::support::Script;
use futures_lite::future::block_on;
use http::StatusCode;
use oauth2_kit::grant::authorization_code::{
    AuthorizationCodeProvider, AuthorizationCodeProviderBuilder, Callback, CallbackError,
};
use oauth2_kit::pkce::{Pkce, PkceMethod};
use oauth2_kit::{
    AccessTokenProvider, AuthorizationServer, ClientAuth, Error, ErrorCode, OAuth2Client, Password,
    RefreshToken, Scope, WithFields,
};
use url::Url;

const TOKEN: &str = r#"{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"refresh_token":"RT-1","scope":"openid read"}"#;

fn client(http: Arc<Script>) -> OAuth2Client {
    let server = AuthorizationServer::new()
        .authorization("https://auth.example.com/authorize".parse().unwrap())
        .token("https://auth.example.com/token".parse().unwrap())
        .revocation("https://auth.example.com/revoke".parse().unwrap())
        .end_session("https://auth.example.com/logout".parse().unwrap())
        .issuer("https://auth.example.com".parse().unwrap(), false);
    OAuth2Client::new(server, ClientAuth::new("web-app", "web-secret"), http)
}

fn provider(http: Arc<Script>) -> AuthorizationCodeProvider {
    client(http)
        .authorization_code(Url::parse("https://app.example.com/callback").unwrap())
        .unwrap()
        .build()
        .unwrap()
}

/// The authorization code grant of a server with only these two endpoints.
fn code_grant(
    authorize: &str,
    token: &str,
    redirect_uri: &str,
    auth: ClientAuth,
    http: Arc<Script>,
) -> AuthorizationCodeProviderBuilder {
    let server =
        AuthorizationServer::new().authorization(authorize.parse().unwrap()).token(token.parse().unwrap());
    OAuth2Client::new(server, auth, http).authorization_code(Url::parse(redirect_uri).unwrap()).unwrap()
}

fn names(form: &[(String, String)]) -> Vec<&str> {
    form.iter().map(|(name, _)| name.as_str()).collect()
}

fn value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn login_link_has_every_parameter_in_order_and_an_s256_challenge() {
    let p = provider(Script::new(&[]));
    let link =
        p.login_link().scope("openid read".parse().unwrap()).nonce().unwrap().extra_param("prompt", "login");
    let link = link.build().unwrap();
    let query: Vec<(String, String)> = link.url().query_pairs().into_owned().collect();
    assert_eq!(
        names(&query),
        [
            "response_type",
            "client_id",
            "redirect_uri",
            "state",
            "scope",
            "code_challenge",
            "code_challenge_method",
            "nonce",
            "prompt"
        ]
    );
    assert_eq!(value(&query, "response_type"), Some("code"));
    assert_eq!(value(&query, "client_id"), Some("web-app"));
    assert_eq!(value(&query, "redirect_uri"), Some("https://app.example.com/callback"));
    assert_eq!(value(&query, "scope"), Some("openid read"));
    assert_eq!(value(&query, "code_challenge_method"), Some("S256"));
    let pending = link.pending();
    assert!(pending.state().verify(value(&query, "state").unwrap()));
    assert_eq!(value(&query, "nonce"), Some(pending.nonce().unwrap().expose_secret()));
    let verifier = pending.pkce_verifier().unwrap().expose_secret();
    let expected = Pkce::from_verifier(verifier, PkceMethod::S256).unwrap();
    assert_eq!(value(&query, "code_challenge"), Some(expected.challenge()));
    assert!(!link.url().as_str().contains(verifier), "the verifier never leaves the client");

    // Two links never share a state or a verifier.
    let other = p.login_link().build().unwrap();
    assert_ne!(other.pending().state(), pending.state());
    assert_ne!(other.pending().pkce_verifier(), pending.pkce_verifier());
}

#[test]
fn pkce_plain_and_off_are_opt_in() {
    let builder = || {
        code_grant(
            "https://as.example/authorize",
            "https://as.example/token",
            "com.example.app:/callback",
            ClientAuth::public("native-app"),
            Script::new(&[]),
        )
    };
    let plain = builder().danger_pkce_plain().build().unwrap().login_link().build().unwrap();
    let query: Vec<(String, String)> = plain.url().query_pairs().into_owned().collect();
    assert_eq!(value(&query, "code_challenge_method"), Some("plain"));
    assert_eq!(
        value(&query, "code_challenge"),
        Some(plain.pending().pkce_verifier().unwrap().expose_secret())
    );
    let off = builder().danger_without_pkce().build().unwrap().login_link().build().unwrap();
    assert!(!off.url().as_str().contains("code_challenge"));
    assert!(off.pending().pkce_verifier().is_none());
    // A pair of the wrong method is refused.
    let s256 = builder().build().unwrap();
    assert!(matches!(
        s256.login_link().with_pkce(Pkce::danger_plain().unwrap()).build(),
        Err(Error::Config(_))
    ));
}

#[test]
fn reserved_and_repeated_extra_parameters_are_refused() {
    let p = provider(Script::new(&[]));
    for name in ["state", "code_challenge", "redirect_uri", "client_id"] {
        assert!(matches!(p.login_link().extra_param(name, "x").build(), Err(Error::Config(_))), "{name}");
    }
    assert!(p.login_link().extra_param("prompt", "a").extra_param("prompt", "b").build().is_err());
}

#[test]
fn complete_login_exchanges_the_code_with_the_verifier() {
    let http = Script::new(&[(200, TOKEN)]);
    let p = provider(http.clone());
    let (_, pending) = p.login_link().build().unwrap().into_parts();
    let query =
        format!("code=CODE-1&state={}&iss=https%3A%2F%2Fauth.example.com", pending.state().expose_secret());
    let token = block_on(p.complete_login(&pending, &Callback::from_query(&query).unwrap())).unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT-1");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "RT-1");

    let sent = http.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].uri(), "https://auth.example.com/token");
    assert_eq!(sent[0].headers()["accept"], "application/json");
    assert!(sent[0].headers()["authorization"].to_str().unwrap().starts_with("Basic "));
    let form = http.form(0);
    assert_eq!(names(&form), ["grant_type", "code", "redirect_uri", "code_verifier"]);
    assert_eq!(value(&form, "grant_type"), Some("authorization_code"));
    assert_eq!(value(&form, "code"), Some("CODE-1"));
    assert_eq!(value(&form, "redirect_uri"), Some("https://app.example.com/callback"));
    assert_eq!(value(&form, "code_verifier"), Some(pending.pkce_verifier().unwrap().expose_secret()));
}

#[test]
fn bad_callbacks_are_refused_before_anything_is_sent() {
    let http = Script::new(&[]);
    let p = provider(http.clone());
    let (_, pending) = p.login_link().build().unwrap().into_parts();
    let state = pending.state().expose_secret().to_owned();
    let cases = [
        ("code=C&state=forged".to_owned(), CallbackError::StateMismatch),
        ("code=C".to_owned(), CallbackError::Missing("state")),
        (format!("state={state}"), CallbackError::Missing("code")),
        (format!("code=C&state={state}&iss=https%3A%2F%2Fevil.example"), CallbackError::IssuerMismatch),
    ];
    for (query, expected) in cases {
        let err = block_on(p.complete_login(&pending, &Callback::from_query(&query).unwrap())).unwrap_err();
        match err {
            Error::Callback(got) => assert_eq!(got, expected, "{query}"),
            other => panic!("{query}: {other}"),
        }
    }
    let denied = format!("error=access_denied&error_description=the+user+said+no&state={state}");
    let err = block_on(p.complete_login(&pending, &Callback::from_query(&denied).unwrap())).unwrap_err();
    let Error::Callback(CallbackError::Refused(response)) = &err else { panic!("{err}") };
    assert_eq!(response.error, ErrorCode::AccessDenied);
    assert!(err.to_string().contains("the user said no"), "{err}");
    assert!(http.sent().is_empty());
}

#[test]
fn exchange_errors_are_oauth2_errors() {
    let http = Script::new(&[(400, r#"{"error":"invalid_grant"}"#)]);
    let p = provider(http);
    let err = block_on(p.exchange_code(&"used-code".into(), None)).unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidGrant);
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
}

#[test]
fn refresh_sends_scope_and_keeps_or_replaces_the_refresh_token() {
    let http = Script::new(&[
        (200, r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":300}"#),
        (200, r#"{"access_token":"AT-3","token_type":"Bearer","refresh_token":"RT-2"}"#),
    ]);
    let p = client(http.clone()).refresh().unwrap();
    let old = RefreshToken::new("RT-1");
    let narrow: Scope = "read".parse().unwrap();
    let kept = block_on(p.refresh(&old, Some(&narrow))).unwrap();
    assert_eq!(kept.access_token().expose_secret(), "AT-2");
    assert_eq!(kept.refresh_token(), Some(&old), "no new refresh token: the old one is kept");
    let form = http.form(0);
    assert_eq!(names(&form), ["grant_type", "refresh_token", "scope"]);
    assert_eq!(value(&form, "grant_type"), Some("refresh_token"));
    assert_eq!(value(&form, "scope"), Some("read"));

    let rotated = block_on(p.refresh(&old, None)).unwrap();
    assert_eq!(rotated.refresh_token().unwrap().expose_secret(), "RT-2");
    assert_eq!(names(&http.form(1)), ["grant_type", "refresh_token"]);
}

#[test]
fn custom_token_fields_are_typed() {
    #[derive(serde::Deserialize)]
    struct Slack {
        team_id: String,
    }
    let http = Script::new(&[(200, r#"{"access_token":"a","token_type":"bearer","team_id":"T1"}"#)]);
    let p = code_grant(
        "https://slack.example/authorize",
        "https://slack.example/token",
        "https://app.example.com/cb",
        ClientAuth::new("a", "b"),
        http,
    )
    .token_response::<WithFields<Slack>>()
    .build()
    .unwrap();
    let token = block_on(p.exchange_code(&"c".into(), None)).unwrap();
    assert_eq!(token.fields.team_id, "T1");
    assert!(format!("{token:?}").contains("Slack"));
}

#[test]
fn public_clients_send_their_id_and_no_secret() {
    let http = Script::new(&[(200, TOKEN)]);
    let p = code_grant(
        "https://as.example/authorize",
        "https://as.example/token",
        "http://127.0.0.1:8123/cb",
        ClientAuth::public("cli"),
        http.clone(),
    )
    .build()
    .unwrap();
    block_on(p.exchange_code(&"c".into(), None)).unwrap();
    assert!(http.sent()[0].headers().get("authorization").is_none());
    assert_eq!(value(&http.form(0), "client_id"), Some("cli"));
}

#[test]
fn revocation_and_logout_links() {
    let http = Script::new(&[(200, ""), (200, "")]);
    let client = client(http.clone());
    let revocation = client.revocation().unwrap();
    block_on(revocation.revoke_refresh_token(&RefreshToken::new("RT-9"))).unwrap();
    assert_eq!(http.sent()[0].uri(), "https://auth.example.com/revoke");
    assert_eq!(value(&http.form(0), "token_type_hint"), Some("refresh_token"));
    block_on(revocation.revoke(&"AT-9".into())).unwrap();
    let p = client
        .authorization_code(Url::parse("https://app.example.com/callback").unwrap())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(value(&http.form(1), "token_type_hint"), Some("access_token"));

    let back = Url::parse("https://app.example.com/").unwrap();
    assert_eq!(
        p.logout_link(Some(&back)).unwrap().as_str(),
        "https://auth.example.com/logout?client_id=web-app&redirect_uri=https%3A%2F%2Fapp.example.com%2F"
    );
}

#[test]
fn redirect_uri_rules() {
    let build = |uri: &str| {
        code_grant(
            "https://as.example/authorize",
            "https://as.example/token",
            uri,
            ClientAuth::new("a", "b"),
            Script::new(&[]),
        )
        .build()
    };
    assert!(build("https://app.example/cb#frag").is_err());
    assert!(build("mailto:someone@example.com").is_err());
    assert!(build("https://app.example/cb").is_ok());
}

#[test]
fn password_grant_sends_the_user_and_never_shows_the_password() {
    let http = Script::new(&[(200, TOKEN), (200, TOKEN)]);
    let server = AuthorizationServer::new().token("https://auth.example.com/token".parse().unwrap());
    let client =
        OAuth2Client::new(server, ClientAuth::new("app", "app-secret"), http.clone()).password().unwrap();
    let token =
        block_on(client.request_token("alice", &Password::new("pw-1"), Some(&"read".parse().unwrap())))
            .unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT-1");
    let form = http.form(0);
    assert_eq!(names(&form), ["grant_type", "username", "password", "scope"]);
    assert_eq!(value(&form, "grant_type"), Some("password"));
    assert_eq!(value(&form, "password"), Some("pw-1"));

    let provider = client.provider("alice", Password::new("pw-1"));
    let token = block_on(AccessTokenProvider::request_token(&provider, None)).unwrap();
    assert_eq!(token.scope().unwrap().as_str(), "openid read");
    assert_eq!(names(&http.form(1)), ["grant_type", "username", "password"]);
    let shown = format!("{provider:?} {client:?}");
    assert!(!shown.contains("pw-1") && !shown.contains("app-secret"), "{shown}");
    assert!(shown.contains("alice"));
}

#[test]
fn review_hardening_of_links_and_callbacks() {
    let http = Script::new(&[]);
    let p = provider(http.clone());
    // The link's Debug shows no state, nonce or challenge.
    let link = p.login_link().nonce().unwrap().build().unwrap();
    let shown = format!("{link:?}");
    assert!(!shown.contains(link.pending().state().expose_secret()), "{shown}");
    assert!(!shown.contains(link.pending().nonce().unwrap().expose_secret()), "{shown}");
    assert!(!shown.contains("code_challenge"), "{shown}");

    // An empty state never matches, even an empty stored one.
    let empty =
        oauth2_kit::grant::authorization_code::PendingLogin::new(oauth2_kit::LoginState::new(""), None, None);
    let err =
        block_on(p.complete_login(&empty, &Callback::from_query("code=c&state=").unwrap())).unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::StateMismatch)), "{err}");
    // A guessable custom state is refused.
    assert!(matches!(
        p.login_link().with_state(oauth2_kit::LoginState::new("1")).build(),
        Err(Error::Config(_))
    ));
    // The issuer is checked on error callbacks too (RFC 9207 §2.4).
    let (_, pending) = p.login_link().build().unwrap().into_parts();
    let query = format!(
        "error=access_denied&iss=https%3A%2F%2Fevil.example&state={}",
        pending.state().expose_secret()
    );
    let err = block_on(p.complete_login(&pending, &Callback::from_query(&query).unwrap())).unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::IssuerMismatch)), "{err}");
    // Compared exactly: the configured issuer with a trailing slash is another issuer.
    let query =
        format!("code=c&iss=https%3A%2F%2Fauth.example.com%2F&state={}", pending.state().expose_secret());
    let err = block_on(p.complete_login(&pending, &Callback::from_query(&query).unwrap())).unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::IssuerMismatch)), "{err}");
    // An empty code is a missing one.
    let query = format!("code=&state={}", pending.state().expose_secret());
    let err = block_on(p.complete_login(&pending, &Callback::from_query(&query).unwrap())).unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::Missing("code"))), "{err}");
    assert!(http.sent().is_empty());
}

#[test]
fn review_hardening_of_the_builder() {
    let builder = |authorize: &str| {
        code_grant(
            authorize,
            "https://as.example/token",
            "https://app.example/cb",
            ClientAuth::new("a", "b"),
            Script::new(&[]),
        )
    };
    // A query that would send a parameter twice is refused; others are kept.
    assert!(matches!(builder("https://as.example/authorize?client_id=x").build(), Err(Error::Config(_))));
    assert!(builder("https://as.example/authorize?tenant=t1").build().is_ok());
    // A pair given to a provider without PKCE is refused, not silently dropped.
    let off = builder("https://as.example/authorize").danger_without_pkce().build().unwrap();
    assert!(matches!(off.login_link().with_pkce(Pkce::s256().unwrap()).build(), Err(Error::Config(_))));
    // An issuer required: a callback without iss is refused.
    let server = AuthorizationServer::new()
        .authorization("https://as.example/authorize".parse().unwrap())
        .token("https://as.example/token".parse().unwrap())
        .issuer("https://as.example".parse().unwrap(), true);
    let strict = OAuth2Client::new(server, ClientAuth::new("a", "b"), Script::new(&[]))
        .authorization_code(Url::parse("https://app.example/cb").unwrap())
        .unwrap()
        .build()
        .unwrap();
    let (_, pending) = strict.login_link().build().unwrap().into_parts();
    let query = format!("code=c&state={}", pending.state().expose_secret());
    let err = block_on(strict.complete_login(&pending, &Callback::from_query(&query).unwrap())).unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::Missing("iss"))), "{err}");
}

/// Pushed authorization requests (RFC 9126): what is posted for each client authentication
/// method, and answers that give no usable `request_uri`.
mod pushed {
    use super::*;

    fn pushing(http: Arc<Script>, auth: ClientAuth) -> AuthorizationCodeProvider {
        let server = AuthorizationServer::new()
            .authorization("https://auth.example.com/authorize".parse().unwrap())
            .token("https://auth.example.com/token".parse().unwrap())
            .pushed_authorization("https://auth.example.com/par".parse().unwrap(), false);
        OAuth2Client::new(server, auth, http)
            .authorization_code(Url::parse("https://app.example.com/callback").unwrap())
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn the_form_carries_client_id_once_whatever_the_method() {
        let created = (201, r#"{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}"#);
        for auth in [
            ClientAuth::new("web-app", "web-secret"),
            ClientAuth::new("web-app", "web-secret").with_method(oauth2_kit::AuthMethod::ClientSecretPost),
            ClientAuth::public("web-app"),
        ] {
            let http = Script::new(&[created]);
            let link = block_on(
                pushing(http.clone(), auth.clone()).login_link().scope("openid".parse().unwrap()).push(),
            )
            .unwrap();
            assert_eq!(
                link.url().as_str(),
                "https://auth.example.com/authorize?client_id=web-app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"
            );
            let form = http.form(0);
            assert_eq!(form.iter().filter(|(name, _)| name == "client_id").count(), 1, "{auth:?}: {form:?}");
            for name in
                ["response_type", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method"]
            {
                assert!(value(&form, name).is_some(), "{auth:?}: {name}");
            }
            assert_eq!(http.sent()[0].uri(), "https://auth.example.com/par");
        }
    }

    #[test]
    fn an_answer_without_a_request_uri_or_an_error_is_an_error() {
        for (answer, field) in [
            ((201, r#"{"expires_in":60}"#), Some("request_uri")),
            ((201, r#"{"request_uri":"","expires_in":60}"#), Some("request_uri")),
            ((400, r#"{"error":"invalid_request","error_description":"bad redirect_uri"}"#), None),
        ] {
            let http = Script::new(&[answer]);
            let error = block_on(pushing(http, ClientAuth::new("web-app", "web-secret")).login_link().push())
                .unwrap_err();
            match (field, &error) {
                (Some(expected), Error::Decode { field, .. }) => assert_eq!(*field, Some(expected)),
                (None, Error::OAuth2(e)) => assert_eq!(e.response.error, ErrorCode::InvalidRequest),
                _ => panic!("{answer:?}: {error:?}"),
            }
        }
    }
}
