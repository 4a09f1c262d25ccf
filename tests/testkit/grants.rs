//! Every user grant against the embedded testkit server, through both HTTP adapters: the
//! authorization code with PKCE and an automatic login, refresh with and without rotation,
//! password, UserInfo, revocation, discovery and the device flow.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::OAuth2Client;
use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::grant::authorization_code::{AuthorizationCodeProvider, Callback, CallbackError};
use oauth2_kit::http::HttpClient;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::userinfo::UserInfoMethod;
use oauth2_kit::{ClientAuth, Error, ErrorCode, Password, Scope};
use oauth2_kit_cache_tokio::TokioRuntime;
use oauth2_kit_testkit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, Route, TestClient,
    TestServer, TestUser,
};

use oauth2_kit_test_support::adapters;

fn scope(s: &str) -> Scope {
    s.parse().expect("a valid scope")
}

fn callback_url() -> Url {
    Url::parse("http://127.0.0.1:9/callback").unwrap()
}

/// A client of the embedded server, polling and retrying on tokio.
fn client_of(server: &TestServer, auth: ClientAuth, http: Arc<dyn HttpClient>) -> OAuth2Client {
    OAuth2Client::builder(server.authorization_server(), auth, http)
        .runtime(Arc::new(TokioRuntime::new()))
        .build()
        .unwrap()
}

pub(crate) fn provider(
    server: &TestServer,
    auth: ClientAuth,
    http: Arc<dyn HttpClient>,
) -> AuthorizationCodeProvider {
    client_of(server, auth, http).authorization_code(callback_url()).unwrap().build().unwrap()
}

/// What a browser does with a login link: GET it, read the redirect back to the client.
pub(crate) async fn visit(http: &Arc<dyn HttpClient>, url: &Url) -> Callback {
    let request = http::Request::builder().uri(url.as_str()).body(Bytes::new()).unwrap();
    let response = http.send(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{:?}", response.body());
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    Callback::from_url(&location).unwrap()
}

async fn resource_status(http: &Arc<dyn HttpClient>, server: &TestServer, token: &str) -> StatusCode {
    let request = http::Request::builder()
        .uri(server.resource_url().as_str())
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::new())
        .unwrap();
    http.send(request).await.unwrap().status()
}

#[tokio::test]
async fn authorization_code_with_pkce_userinfo_refresh_and_revocation() {
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let client =
            client_of(&server, ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), http.clone());
        let p = client.authorization_code(callback_url()).unwrap().build().unwrap();
        let (refresh, revocation) = (client.refresh().unwrap(), client.revocation().unwrap());
        let (url, pending) = p.login_link().scope(scope("openid read write")).build().unwrap().into_parts();
        let callback = visit(&http, &url).await;
        assert!(callback.issuer().is_some(), "{adapter}: the testkit sends iss");
        let token = p.complete_login(&pending, &callback).await.expect(adapter);
        assert_eq!(token.scope(), Some(&scope("openid read write")), "{adapter}");
        let first_refresh = token.refresh_token().unwrap().clone();

        // A code is single use.
        let again = p.complete_login(&pending, &callback).await.unwrap_err();
        assert_eq!(again.oauth2().unwrap().response.error, ErrorCode::InvalidGrant, "{adapter}");

        let userinfo = client.userinfo().unwrap();
        let me = userinfo.fetch(token.access_token()).await.expect(adapter);
        assert_eq!(me.sub, DEFAULT_USERNAME);
        assert_eq!(me.email.as_deref(), Some("alice@example.com"));
        let me =
            userinfo.clone().method(UserInfoMethod::Post).fetch(token.access_token()).await.expect(adapter);
        assert_eq!(me.sub, DEFAULT_USERNAME);

        // Rotation (the testkit's default): a new refresh token, the old one spent.
        let narrowed = refresh.refresh(&first_refresh, Some(&scope("read"))).await.expect(adapter);
        assert_eq!(narrowed.scope(), Some(&scope("read")), "{adapter}");
        let second_refresh = narrowed.refresh_token().unwrap().clone();
        assert_ne!(second_refresh, first_refresh, "{adapter}");
        let reused = refresh.refresh(&first_refresh, None).await.unwrap_err();
        assert_eq!(reused.oauth2().unwrap().response.error, ErrorCode::InvalidGrant, "{adapter}");
        // A refresh may not widen the scope first granted.
        let wider = refresh.refresh(&second_refresh, Some(&scope("admin"))).await.unwrap_err();
        assert_eq!(wider.oauth2().unwrap().response.error, ErrorCode::InvalidScope, "{adapter}");

        // Without rotation the server sends no refresh token: the old one is kept.
        server.set_refresh_token_rotation(false);
        let kept = refresh.refresh(&second_refresh, None).await.expect(adapter);
        assert_eq!(kept.refresh_token(), Some(&second_refresh), "{adapter}");
        assert_eq!(kept.scope(), Some(&scope("openid read write")), "{adapter}: the first granted scope");

        // Revoking the refresh token ends the access tokens it begot.
        let access = kept.access_token().expose_secret().to_owned();
        assert_eq!(resource_status(&http, &server, &access).await, StatusCode::OK, "{adapter}");
        revocation.revoke_refresh_token(&second_refresh).await.expect(adapter);
        assert_eq!(resource_status(&http, &server, &access).await, StatusCode::UNAUTHORIZED, "{adapter}");
        let err = userinfo.fetch(kept.access_token()).await.unwrap_err();
        assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidToken, "{adapter}");
        // An unknown token is success.
        revocation.revoke_refresh_token(&"never-issued".into()).await.expect(adapter);
    }
}

#[tokio::test]
async fn public_clients_must_use_pkce_and_a_wrong_verifier_fails() {
    let http = adapters().remove(0).1;
    let server = TestServer::builder()
        .client(TestClient::public("cli").redirect_uri(&callback_url()))
        .start()
        .unwrap();
    let p = provider(&server, ClientAuth::public("cli"), http.clone());
    let (url, pending) = p.login_link().build().unwrap().into_parts();
    let callback = visit(&http, &url).await;
    let token = p.complete_login(&pending, &callback).await.unwrap();
    assert!(token.refresh_token().is_some());

    // The code with another login's verifier is refused by the server.
    let (url, _) = p.login_link().build().unwrap().into_parts();
    let (_, other) = p.login_link().build().unwrap().into_parts();
    let callback = visit(&http, &url).await;
    let err = p.exchange_code(callback.code().unwrap(), other.pkce_verifier()).await.unwrap_err();
    assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::InvalidGrant);

    // Without PKCE the public client is refused at the login.
    let no_pkce = client_of(&server, ClientAuth::public("cli"), http.clone())
        .authorization_code(callback_url())
        .unwrap()
        .danger_without_pkce()
        .build()
        .unwrap();
    let (url, pending) = no_pkce.login_link().build().unwrap().into_parts();
    let callback = visit(&http, &url).await;
    let err = no_pkce.complete_login(&pending, &callback).await.unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::Refused(_))), "{err}");
}

#[tokio::test]
async fn a_denied_login_and_a_forged_callback_send_nothing() {
    let http = adapters().remove(0).1;
    let server = TestServer::start().unwrap();
    let p = provider(&server, ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), http.clone());
    server.deny_logins();
    let (url, pending) = p.login_link().build().unwrap().into_parts();
    let callback = visit(&http, &url).await;
    let err = p.complete_login(&pending, &callback).await.unwrap_err();
    let Error::Callback(CallbackError::Refused(response)) = &err else { panic!("{err}") };
    assert_eq!(response.error, ErrorCode::AccessDenied);

    server.login_as(DEFAULT_USERNAME);
    let (url, _) = p.login_link().build().unwrap().into_parts();
    let (_, someone_elses) = p.login_link().build().unwrap().into_parts();
    let callback = visit(&http, &url).await;
    let err = p.complete_login(&someone_elses, &callback).await.unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::StateMismatch)), "{err}");
    assert_eq!(server.requests(Route::Token), 0);
}

#[tokio::test]
async fn password_grant_and_its_provider() {
    for (adapter, http) in adapters() {
        let server = TestServer::builder().user(TestUser::new("bob", "bob-pw")).start().unwrap();
        let oauth2 =
            client_of(&server, ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), http.clone());
        let client = oauth2.password().unwrap();
        let token =
            client.request_token("bob", &Password::new("bob-pw"), Some(&scope("read"))).await.expect(adapter);
        assert_eq!(token.scope(), Some(&scope("read")));
        let me = oauth2.userinfo().unwrap().fetch(token.access_token()).await.unwrap();
        assert_eq!(me.sub, "bob", "{adapter}");
        let refreshed =
            oauth2.refresh().unwrap().refresh(token.refresh_token().unwrap(), None).await.expect(adapter);
        assert_ne!(refreshed.access_token(), token.access_token());

        let wrong = client.request_token("bob", &Password::new("nope"), None).await.unwrap_err();
        assert_eq!(wrong.oauth2().unwrap().response.error, ErrorCode::InvalidGrant, "{adapter}");
        assert!(!wrong.to_string().contains("nope"));

        // The provider, cached: one token request for many callers.
        let provider = client.provider(DEFAULT_USERNAME, Password::new(DEFAULT_PASSWORD));
        let cached = oauth2_kit_cache_tokio::caching(provider);
        server.reset_counts();
        for _ in 0..10 {
            oauth2_kit::AccessTokenProvider::request_token(&cached, None).await.expect(adapter);
        }
        assert_eq!(server.requests(Route::Token), 1, "{adapter}");
    }
}

#[tokio::test]
async fn everything_from_the_issuer_url() {
    let http = adapters().remove(1).1;
    let server = TestServer::start().unwrap();
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let client = OAuth2Client::discover(&server.issuer(), auth, http.clone()).await.unwrap();
    let p = client.authorization_code(callback_url()).unwrap().build().unwrap();
    let (url, pending) = p.login_link().build().unwrap().into_parts();
    let callback = visit(&http, &url).await;
    let token = p.complete_login(&pending, &callback).await.unwrap();
    let me = client.userinfo().unwrap().fetch(token.access_token()).await.unwrap();
    assert_eq!(me.sub, DEFAULT_USERNAME);
    client.revocation().unwrap().revoke(token.access_token()).await.unwrap();
    assert_eq!(
        resource_status(&http, &server, token.access_token().expose_secret()).await,
        StatusCode::UNAUTHORIZED
    );
    // The device flow needs a runtime, which a discovered client is given on its builder.
    assert_eq!(client.device().unwrap_err().config_kind(), Some(oauth2_kit::ConfigErrorKind::NoRuntime));
    let metadata = ServerMetadata::discover(&server.issuer(), http.clone()).await.unwrap();
    let server_seen = oauth2_kit::AuthorizationServer::from_metadata(&metadata);
    let polling = OAuth2Client::builder(server_seen, ClientAuth::public("x"), http)
        .runtime(Arc::new(TokioRuntime::new()))
        .build()
        .unwrap();
    assert!(polling.device().is_ok());
}

/// A callback whose `iss` is missing, from a server that says it sends one, is refused.
#[tokio::test]
async fn the_issuer_parameter_is_required_when_the_server_advertises_it() {
    let http = adapters().remove(0).1;
    let server = TestServer::start().unwrap();
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let client = OAuth2Client::discover(&server.issuer(), auth, http).await.unwrap();
    let p = client.authorization_code(callback_url()).unwrap().build().unwrap();
    let (_, pending) = p.login_link().build().unwrap().into_parts();
    let query = format!("code=c&state={}", pending.state().expose_secret());
    let err = p.complete_login(&pending, &Callback::from_query(&query).unwrap()).await.unwrap_err();
    assert!(matches!(err, Error::Callback(CallbackError::Missing("iss"))), "{err}");
}

#[tokio::test]
async fn device_flow_approved_and_denied() {
    for (adapter, http) in adapters() {
        let server = TestServer::builder()
            .client(TestClient::public("tv"))
            .device_interval(Some(Duration::from_secs(1)))
            .start()
            .unwrap();
        let oauth2 = client_of(&server, ClientAuth::public("tv"), http.clone());
        let client = oauth2.device().unwrap();
        let auth = client.request_authorization(Some(&scope("read"))).await.expect(adapter);
        assert_eq!(auth.interval(), Duration::from_secs(1));
        // The user approves on "another device": the verification page, over HTTP.
        let page = auth.verification_uri_complete().unwrap().clone();
        let approver = http.clone();
        let approve = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let url = format!("{page}&action=approve");
            let request = http::Request::builder().uri(url).body(Bytes::new()).unwrap();
            approver.send(request).await.unwrap().status()
        });
        let token = client.poll_token(&auth).await.expect(adapter);
        assert_eq!(approve.await.unwrap(), StatusCode::OK);
        assert_eq!(token.scope(), Some(&scope("read")));
        assert!(server.requests(Route::Token) >= 2, "{adapter}: at least one pending answer");
        let me = oauth2.userinfo().unwrap().fetch(token.access_token()).await.unwrap();
        assert_eq!(me.sub, DEFAULT_USERNAME);

        let auth = client.request_authorization(None).await.expect(adapter);
        assert!(server.deny_device(auth.user_code()));
        let err = client.poll_token(&auth).await.unwrap_err();
        assert_eq!(err.oauth2().unwrap().response.error, ErrorCode::AccessDenied, "{adapter}");
    }
}

/// A service that restarts mid-flow saves the authorization, resumes it in a new client, and
/// refreshes the token the device flow returned.
#[tokio::test]
async fn device_flow_saved_resumed_and_refreshed() {
    for (adapter, http) in adapters() {
        let server = TestServer::builder().client(TestClient::public("tv")).start().unwrap();
        let client = || client_of(&server, ClientAuth::public("tv"), http.clone()).device().unwrap();
        let before = client();
        let auth = before.request_authorization(Some(&scope("read"))).await.expect(adapter);
        let saved = before.save(&auth);
        drop((before, auth));
        let after = client();
        let resumed = after.resume(secrecy::ExposeSecret::expose_secret(&saved)).expect(adapter);
        assert!(resumed.expires_in() > Duration::ZERO && resumed.interval_sent(), "{adapter}");
        assert!(server.approve_device(resumed.user_code()), "{adapter}: the same user code");
        let token = after.try_token(&resumed).await.expect(adapter);
        let refresh = client_of(&server, ClientAuth::public("tv"), http.clone()).refresh().unwrap();
        let refreshed = refresh.refresh(token.refresh_token().unwrap(), None).await.expect(adapter);
        assert_eq!(refreshed.scope(), Some(&scope("read")), "{adapter}");
        assert_ne!(refreshed.access_token().expose_secret(), token.access_token().expose_secret());
    }
}

#[tokio::test]
async fn device_codes_expire() {
    let http = adapters().remove(0).1;
    let server = TestServer::builder()
        .client(TestClient::public("tv"))
        .device_interval(Some(Duration::from_secs(1)))
        .device_code_lifetime(Duration::from_secs(2))
        .start()
        .unwrap();
    let client = client_of(&server, ClientAuth::public("tv"), http).device().unwrap();
    let auth = client.request_authorization(None).await.unwrap();
    let err = client.poll_token(&auth).await.unwrap_err();
    // Either the client saw the lifetime end first, or the server said so: never a token.
    let expired = matches!(err, Error::DeviceCodeExpired { .. })
        || err.oauth2().is_some_and(|e| e.response.error == ErrorCode::ExpiredToken);
    assert!(expired, "{err}");
}

/// A resource server introspecting every request's token asks once per token (inactive
/// results included), through each cache crate.
#[tokio::test]
async fn caching_introspection_over_the_testkit() {
    // isahc: its requests run on any runtime (reqwest's need tokio, the async-std cache's task
    // runs on async-std).
    let http = adapters().remove(1).1;
    let server = TestServer::start().unwrap();
    let oauth2 = client_of(&server, ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), http);
    let token = oauth2.client_credentials().unwrap().request_token(None).await.unwrap();
    let unknown = oauth2_kit::AccessToken::new("not-issued");
    let introspection = oauth2.introspection().unwrap();
    let caches = [
        oauth2_kit_cache_tokio::caching_introspection(introspection.clone()),
        oauth2_kit_cache_async_std::caching_introspection(introspection.clone()),
        oauth2_kit_cache_moka::caching_introspection(introspection),
    ];
    for cache in caches {
        server.reset_counts();
        for _ in 0..50 {
            assert!(cache.introspect(token.access_token()).await.unwrap().active);
            assert!(!cache.introspect(&unknown).await.unwrap().active);
        }
        assert_eq!(server.requests(Route::Introspection), 2, "{cache:?}");
        assert_eq!(cache.hits(), 98);
    }
}

/// The device flow sleeps through the core's runtime abstraction: the same client polls on
/// async-std (no tokio in this thread), with isahc.
#[test]
fn device_flow_on_async_std() {
    let http = adapters().remove(1).1;
    let server = TestServer::builder()
        .client(TestClient::public("tv"))
        .device_interval(Some(Duration::from_secs(1)))
        .start()
        .unwrap();
    let client = OAuth2Client::builder(server.authorization_server(), ClientAuth::public("tv"), http)
        .runtime(Arc::new(oauth2_kit_cache_async_std::AsyncStdRuntime))
        .build()
        .unwrap()
        .device()
        .unwrap();
    let token = std::thread::spawn(move || {
        futures_lite::future::block_on(async {
            let auth = client.request_authorization(None).await.unwrap();
            assert!(server.approve_device(auth.user_code()));
            client.poll_token(&auth).await
        })
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(token.token_type(), &oauth2_kit::TokenType::Bearer);
}

/// The one client, from the issuer alone: every operation obtained from it and called against
/// the embedded server, through both adapters (the login, UserInfo, refresh, introspection,
/// revocation and client credentials).
#[tokio::test]
async fn one_client_from_the_issuer_for_every_operation() {
    use oauth2_kit::OAuth2Client;
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
        let client = OAuth2Client::discover(&server.issuer(), auth, http.clone()).await.expect(adapter);

        let login = client.authorization_code(callback_url()).expect(adapter).build().expect(adapter);
        let (url, pending) = login.login_link().scope(scope("openid read")).build().unwrap().into_parts();
        let callback = visit(&http, &url).await;
        let token = login.complete_login(&pending, &callback).await.expect(adapter);
        let me = client.userinfo().expect(adapter).fetch(token.access_token()).await.expect(adapter);
        assert_eq!(me.sub, DEFAULT_USERNAME, "{adapter}");

        let refreshed = client
            .refresh()
            .expect(adapter)
            .refresh(token.refresh_token().unwrap(), Some(&scope("read")))
            .await
            .expect(adapter);
        assert_eq!(refreshed.scope(), Some(&scope("read")), "{adapter}");

        let introspection = client.introspection().expect(adapter);
        assert!(introspection.introspect(refreshed.access_token()).await.expect(adapter).active, "{adapter}");
        client
            .revocation()
            .expect(adapter)
            .revoke_refresh_token(refreshed.refresh_token().unwrap())
            .await
            .expect(adapter);
        assert!(
            !introspection.introspect(refreshed.access_token()).await.expect(adapter).active,
            "{adapter}"
        );

        let service = client.client_credentials().expect(adapter).request_token(Some(&scope("read"))).await;
        assert!(
            introspection.introspect(service.expect(adapter).access_token()).await.unwrap().active,
            "{adapter}"
        );
        assert_eq!(server.requests(Route::Introspection), 3, "{adapter}");
    }
}
