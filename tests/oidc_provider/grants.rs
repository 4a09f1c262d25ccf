//! The user grants against a real authorization server (oidc-provider), through both adapters:
//! the authorization code with PKCE and a scripted login, UserInfo, refresh with and without
//! rotation and with a narrowed scope, revocation, the device flow approved and denied through
//! its pages, and RP-initiated logout.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use http::StatusCode;
use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::grant::authorization_code::{AuthorizationCodeProvider, Callback};
use oauth2_kit::http::HttpClient;
use oauth2_kit::logout::RpLogout;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::{AuthorizationServer, ClientAuth, ErrorCode, OAuth2Client, Scope};
use oauth2_kit_cache_tokio::TokioRuntime;

use oauth2_kit_test_support::browser::{Browser, hidden};
use oauth2_kit_test_support::{OidcProvider, adapters};

fn scope(s: &str) -> Scope {
    s.parse().unwrap()
}

fn redirect_uri() -> Url {
    Url::parse("http://127.0.0.1/callback").unwrap()
}

/// The server, from its discovered metadata (fetched once, shared by the clients of a test).
async fn metadata(issuer: &str, http: Arc<dyn HttpClient>) -> AuthorizationServer {
    let issuer: oauth2_kit::Issuer = issuer.parse().unwrap();
    AuthorizationServer::from_metadata(&ServerMetadata::discover(&issuer, http).await.unwrap())
}

/// A client of `server`, polling on tokio.
fn client(server: &AuthorizationServer, auth: ClientAuth, http: Arc<dyn HttpClient>) -> OAuth2Client {
    OAuth2Client::builder(server.clone(), auth, http).runtime(Arc::new(TokioRuntime::new())).build().unwrap()
}

async fn provider(
    server: &AuthorizationServer,
    id: &str,
    secret: &str,
    http: Arc<dyn HttpClient>,
) -> AuthorizationCodeProvider {
    client(server, ClientAuth::new(id, secret), http)
        .authorization_code(redirect_uri())
        .unwrap()
        .build()
        .unwrap()
}

#[tokio::test]
async fn authorization_code_pkce_userinfo_rotation_and_revocation() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = metadata(&server.issuer, http.clone()).await;
        let web = client(&metadata, ClientAuth::new("kit-web", "web-secret"), http.clone());
        let p = web.authorization_code(redirect_uri()).unwrap().build().unwrap();
        let (refresh, revocation, userinfo) =
            (web.refresh().unwrap(), web.revocation().unwrap(), web.userinfo().unwrap());
        let (link, pending) = p
            .login_link()
            .scope(scope("openid profile email"))
            .nonce()
            .unwrap()
            .build()
            .unwrap()
            .into_parts();
        let mut browser = Browser::new(http.clone(), "carol");
        let back = browser.log_in(&link).await;
        assert!(back.as_str().starts_with("http://127.0.0.1/callback?"), "{adapter}: {back}");
        let callback = Callback::from_url(&back).unwrap();
        assert!(callback.issuer().is_some(), "{adapter}: oidc-provider sends iss (RFC 9207)");
        let token = p.complete_login(&pending, &callback).await.expect(adapter);
        assert!(token.id_token().is_some(), "{adapter}");
        // The ID token was validated with the server's keys (discovered jwks_uri) and the login's
        // nonce.
        let claims = token.id_token_claims().expect("a validated ID token");
        assert_eq!(
            (claims.sub.as_str(), claims.iss.as_str()),
            ("carol", server.issuer.as_str()),
            "{adapter}"
        );
        assert_eq!(claims.nonce.as_deref(), Some(pending.nonce().unwrap().expose_secret()), "{adapter}");
        assert_eq!(claims.aud, ["kit-web"], "{adapter}");
        let first = token.refresh_token().expect("a refresh token").clone();

        // A login whose ID token carries another nonce than the one kept: refused.
        let (link, kept) =
            p.login_link().scope(scope("openid")).nonce().unwrap().build().unwrap().into_parts();
        let back = browser.log_in(&link).await;
        let other = oauth2_kit::grant::authorization_code::PendingLogin::new(
            kept.state().clone(),
            kept.pkce_verifier().cloned(),
            Some(oauth2_kit::Nonce::new("a-nonce-of-another-login")),
        );
        match p.complete_login(&other, &Callback::from_url(&back).unwrap()).await {
            Err(oauth2_kit::Error::Jwt(oauth2_kit::jwt::JwtError::NonceMismatch)) => {}
            other => panic!("{adapter}: {other:?}"),
        }

        let me = userinfo.fetch(token.access_token()).await.expect(adapter);
        assert_eq!(me.sub, "carol");
        assert_eq!(me.email.as_deref(), Some("carol@example.com"));
        assert_eq!(me.email_verified, Some(true));

        // Narrowed scope, sent as `scope`; kit-web's refresh tokens rotate.
        let narrowed = refresh.refresh(&first, Some(&scope("openid email"))).await.expect(adapter);
        assert_eq!(narrowed.scope(), Some(&scope("openid email")), "{adapter}");
        let second = narrowed.refresh_token().unwrap().clone();
        assert_ne!(second, first, "{adapter}: rotated");
        let third = refresh.refresh(&second, None).await.expect(adapter).refresh_token().unwrap().clone();
        assert_ne!(third, second, "{adapter}");

        // Revoking the refresh token ends the access token too.
        let latest = refresh.refresh(&third, None).await.expect(adapter);
        let introspector = client(&metadata, ClientAuth::new("kit-basic", "basic-secret"), http.clone())
            .introspection()
            .unwrap();
        assert!(introspector.introspect(latest.access_token()).await.unwrap().active, "{adapter}");
        revocation.revoke_refresh_token(latest.refresh_token().unwrap()).await.expect(adapter);
        assert!(!introspector.introspect(latest.access_token()).await.unwrap().active, "{adapter}");
        let err = userinfo.fetch(latest.access_token()).await;
        assert_eq!(err.unwrap_err().oauth2().unwrap().response.error, ErrorCode::InvalidToken, "{adapter}");
        // A spent (rotated) refresh token is refused; an unknown one revokes fine.
        let spent = refresh.refresh(&first, None).await.unwrap_err();
        assert_eq!(spent.oauth2().unwrap().response.error, ErrorCode::InvalidGrant, "{adapter}");
        revocation.revoke_refresh_token(&"never-issued".into()).await.expect(adapter);
    }
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_refresh_token() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = metadata(&server.issuer, http.clone()).await;
        let p = provider(&metadata, "kit-web-static", "static-secret", http.clone()).await;
        let (link, pending) = p.login_link().scope(scope("openid")).build().unwrap().into_parts();
        let back = Browser::new(http.clone(), "dave").log_in(&link).await;
        let token = p.complete_login(&pending, &Callback::from_url(&back).unwrap()).await.expect(adapter);
        let refresh = token.refresh_token().unwrap().clone();
        let refresher = client(&metadata, ClientAuth::new("kit-web-static", "static-secret"), http.clone());
        for _ in 0..2 {
            let next = refresher.refresh().unwrap().refresh(&refresh, None).await.expect(adapter);
            assert_eq!(next.refresh_token(), Some(&refresh), "{adapter}");
            assert_ne!(next.access_token(), token.access_token(), "{adapter}");
        }
    }
}

#[tokio::test]
async fn the_server_checks_the_pkce_verifier() {
    let server = OidcProvider::get();
    let http = adapters().remove(0).1;
    let metadata = metadata(&server.issuer, http.clone()).await;
    let p = provider(&metadata, "kit-web", "web-secret", http.clone()).await;
    let (link, _) = p.login_link().scope(scope("openid")).build().unwrap().into_parts();
    let (_, other_login) = p.login_link().build().unwrap().into_parts();
    let back = Browser::new(http, "erin").log_in(&link).await;
    let code = Callback::from_url(&back).unwrap().code().unwrap().clone();
    let err = p.exchange_code(&code, other_login.pkce_verifier()).await.unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn device_flow_approved_and_denied_through_its_pages() {
    let server = OidcProvider::get();
    let runs = adapters().into_iter().zip([true, false]).map(|((adapter, http), approve)| {
        let issuer = server.issuer.clone();
        async move {
            let metadata = metadata(&issuer, http.clone()).await;
            let client = client(&metadata, ClientAuth::public("kit-device"), http.clone()).device().unwrap();
            let auth = client.request_authorization(Some(&scope("openid"))).await.expect(adapter);
            // oidc-provider sends no `interval`: the client waits the RFC's 5 s.
            assert_eq!(auth.interval(), std::time::Duration::from_secs(5), "{adapter}");
            let page = auth.verification_uri().clone();
            let code = auth.user_code().to_owned();
            let user = tokio::spawn(async move {
                Browser::new(http, "frank").answer_device(&page, &code, approve).await
            });
            let result = client.poll_token(&auth).await;
            let last_page = user.await.unwrap();
            (adapter, approve, result, last_page)
        }
    });
    let mut all = Vec::new();
    for run in runs {
        all.push(tokio::spawn(run));
    }
    for handle in all {
        let (adapter, approve, result, last_page) = handle.await.unwrap();
        if approve {
            let token = result.expect(adapter);
            assert!(token.access_token().expose_secret().len() > 10);
            assert!(
                last_page.to_lowercase().contains("sign-in success") || last_page.contains("success"),
                "{last_page}"
            );
        } else {
            let err = result.unwrap_err();
            assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::AccessDenied, "{adapter}: {err}");
        }
    }
}

#[tokio::test]
async fn rp_initiated_logout_link_is_accepted() {
    let server = OidcProvider::get();
    let http = adapters().remove(1).1;
    let metadata = metadata(&server.issuer, http.clone()).await;
    let p = provider(&metadata, "kit-web", "web-secret", http.clone()).await;
    let (link, pending) = p.login_link().scope(scope("openid")).build().unwrap().into_parts();
    let mut browser = Browser::new(http, "grace");
    let back = browser.log_in(&link).await;
    let token = p.complete_login(&pending, &Callback::from_url(&back).unwrap()).await.unwrap();

    let after = Url::parse("http://127.0.0.1/logged-out").unwrap();
    let logout = p
        .rp_logout_link(
            RpLogout::new()
                .id_token_hint(token.id_token().unwrap())
                .post_logout_redirect_uri(&after)
                .state("bye-1"),
        )
        .unwrap();
    let page = browser.get(&logout).await;
    assert_eq!(page.status(), StatusCode::OK, "{}", String::from_utf8_lossy(page.body()));
    let xsrf = hidden(&String::from_utf8_lossy(page.body()), "xsrf");
    let confirm = logout.join("/session/end/confirm").unwrap();
    let done = browser.post(&confirm, &[("xsrf", &xsrf), ("logout", "yes")]).await;
    assert!(done.status().is_redirection());
    let location = done.headers()["location"].to_str().unwrap();
    assert_eq!(location, "http://127.0.0.1/logged-out?state=bye-1");

    // A redirect URI the client did not register is refused.
    let elsewhere = Url::parse("https://evil.example/").unwrap();
    let refused = p
        .rp_logout_link(RpLogout::new().client_id(p.client_id()).post_logout_redirect_uri(&elsewhere))
        .unwrap();
    assert_eq!(browser.get(&refused).await.status(), StatusCode::BAD_REQUEST);
}
