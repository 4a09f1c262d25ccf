//! Pushed authorization requests (RFC 9126) and resource indicators (RFC 8707) against the
//! embedded server, through both HTTP adapters.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::http::HttpClient;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
use oauth2_kit::{ClientAuth, ConfigErrorKind, Error, OAuth2Client};
use oauth2_kit_test_support::adapters;
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Route, TestClient, TestServer};

fn callback_url() -> Url {
    Url::parse("http://127.0.0.1:9/callback").unwrap()
}

/// What a browser does with a login link: the status, and the callback when redirected.
async fn visit(http: &Arc<dyn HttpClient>, url: &Url) -> (StatusCode, Option<Callback>) {
    let request = http::Request::builder().uri(url.as_str()).body(Bytes::new()).unwrap();
    let response = http.send(request).await.unwrap();
    let callback = response
        .headers()
        .get("location")
        .map(|location| Callback::from_url(&Url::parse(location.to_str().unwrap()).unwrap()).unwrap());
    (response.status(), callback)
}

fn client(server: &TestServer, auth: ClientAuth, http: Arc<dyn HttpClient>) -> OAuth2Client {
    OAuth2Client::new(server.authorization_server(), auth, http)
}

#[tokio::test]
async fn a_pushed_login_link_carries_only_the_request_uri_and_works_once() {
    let key = PrivateKey::generate(JwsAlgorithm::ES256).unwrap();
    for (adapter, http) in adapters() {
        let server =
            TestServer::builder().client(TestClient::with_key("signer", key.public_key())).start().unwrap();
        for auth in [
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            ClientAuth::private_key_jwt("signer", key.clone()),
        ] {
            let provider = client(&server, auth, http.clone())
                .authorization_code(callback_url())
                .unwrap()
                .build()
                .unwrap();
            let link = provider
                .login_link()
                .scope("openid read".parse().unwrap())
                .nonce()
                .unwrap()
                .push()
                .await
                .expect(adapter);
            let names: Vec<String> = link.url().query_pairs().map(|(name, _)| name.into_owned()).collect();
            assert_eq!(names, ["client_id", "request_uri"], "{adapter}");
            let (status, callback) = visit(&http, link.url()).await;
            assert_eq!(status, StatusCode::FOUND, "{adapter}");
            let token = provider.complete_login(link.pending(), &callback.unwrap()).await.expect(adapter);
            assert_eq!(token.scope(), Some(&"openid read".parse().unwrap()), "{adapter}");
            // The request_uri is spent.
            assert_eq!(visit(&http, link.url()).await.0, StatusCode::BAD_REQUEST, "{adapter}");
        }
        assert_eq!(server.requests(Route::PushedAuthorization), 2, "{adapter}");
    }
}

#[tokio::test]
async fn a_server_that_requires_pushed_requests_gets_them_and_refuses_the_others() {
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::builder().require_pushed_authorization_requests(true).start().unwrap();
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let discovered = OAuth2Client::discover(&server.issuer(), auth.clone(), http.clone()).await.unwrap();
    let provider = discovered.authorization_code(callback_url()).unwrap().build().unwrap();
    // The metadata says so: a front-channel link is a configuration error, before any request.
    let Err(Error::Config(error)) = provider.login_link().build() else { panic!("a front-channel link") };
    assert_eq!(error.kind(), ConfigErrorKind::InvalidSetting);
    assert!(error.to_string().contains("push()"), "{error}");
    let link = provider.login_link().push().await.unwrap();
    let (_, callback) = visit(&http, link.url()).await;
    provider.complete_login(link.pending(), &callback.unwrap()).await.unwrap();
    // Configured by hand without the requirement, a front-channel link reaches the server, which
    // refuses it.
    let by_hand = oauth2_kit::AuthorizationServer::new()
        .authorization(server.authorization_endpoint())
        .token(server.token_endpoint());
    let provider = OAuth2Client::new(by_hand, auth, http.clone())
        .authorization_code(callback_url())
        .unwrap()
        .build()
        .unwrap();
    let link = provider.login_link().build().unwrap();
    assert_eq!(visit(&http, link.url()).await.0, StatusCode::BAD_REQUEST);
    // And push() needs the endpoint.
    let Err(Error::Config(error)) = provider.login_link().push().await else { panic!("no endpoint") };
    assert_eq!(error.kind(), ConfigErrorKind::MissingEndpoint(oauth2_kit::EndpointKind::PushedAuthorization));
}

#[tokio::test]
async fn resource_indicators_reach_token_requests_and_login_links() {
    let orders: Url = "https://orders.example.com/".parse().unwrap();
    let billing: Url = "https://billing.example.com/api".parse().unwrap();
    for (adapter, http) in adapters() {
        let server = TestServer::start().unwrap();
        let client = OAuth2Client::builder(
            server.authorization_server(),
            ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            http.clone(),
        )
        .resource(orders.clone())
        .resource(billing.clone())
        .build()
        .unwrap();
        let expected = Some(vec![orders.to_string(), billing.to_string()]);
        let token = client.client_credentials().unwrap().request_token(None).await.expect(adapter);
        let introspection = client.introspection().unwrap();
        assert_eq!(introspection.introspect(token.access_token()).await.unwrap().aud, expected, "{adapter}");
        // A login link (front channel and pushed) names them; the code's token is for them.
        let provider = client.authorization_code(callback_url()).unwrap().build().unwrap();
        let link = provider.login_link().build().unwrap();
        let resources: Vec<String> = link
            .url()
            .query_pairs()
            .filter(|(name, _)| name == "resource")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(Some(resources), expected, "{adapter}");
        for link in [link, provider.login_link().push().await.unwrap()] {
            let (_, callback) = visit(&http, link.url()).await;
            let token = provider.complete_login(link.pending(), &callback.unwrap()).await.expect(adapter);
            assert_eq!(
                introspection.introspect(token.access_token()).await.unwrap().aud,
                expected,
                "{adapter}"
            );
        }
    }
    // A fragment is refused (RFC 8707 §2).
    let (_, http) = adapters().into_iter().next().unwrap();
    let server = TestServer::start().unwrap();
    let built = OAuth2Client::builder(server.authorization_server(), ClientAuth::new("a", "b"), http)
        .resource("https://orders.example.com/#x".parse().unwrap())
        .build();
    assert_eq!(built.unwrap_err().kind(), ConfigErrorKind::InvalidSetting);
}
