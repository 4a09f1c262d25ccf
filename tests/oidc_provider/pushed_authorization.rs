//! Pushed authorization requests (RFC 9126) and resource indicators (RFC 8707) against
//! oidc-provider, through both HTTP adapters: a client the server makes push its requests, and
//! tokens for a registered resource.

use std::sync::Arc;

use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::http::HttpClient;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::{AuthorizationServer, ClientAuth, ErrorCode, OAuth2Client};
use oauth2_kit_test_support::browser::Browser;
use oauth2_kit_test_support::{OidcProvider, adapters, expect_oauth2_error};

const RESOURCE: &str = "https://api.kit.example/";

pub(crate) async fn discovered(server: &OidcProvider, http: Arc<dyn HttpClient>) -> AuthorizationServer {
    let issuer: oauth2_kit::Issuer = server.issuer.parse().unwrap();
    AuthorizationServer::from_metadata(&ServerMetadata::discover(&issuer, http).await.unwrap())
}

#[tokio::test]
async fn a_client_that_must_push_logs_in_through_a_pushed_request() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let client = OAuth2Client::new(metadata, ClientAuth::new("kit-web-par", "par-secret"), http.clone());
        let redirect = Url::parse("http://127.0.0.1/callback").unwrap();
        let provider = client.authorization_code(redirect).unwrap().build().unwrap();
        // The server refuses this client's front-channel requests.
        let plain = provider.login_link().scope("openid".parse().unwrap()).build().unwrap();
        let mut browser = Browser::new(http.clone(), "erin");
        let refused = browser.log_in(plain.url()).await;
        let refused = Callback::from_url(&refused).unwrap();
        assert_eq!(
            refused.error().map(|e| &e.error),
            Some(&ErrorCode::InvalidRequest),
            "{adapter}: {refused:?}"
        );
        // Pushed, it works.
        let link = provider
            .login_link()
            .scope("openid".parse().unwrap())
            .nonce()
            .unwrap()
            .push()
            .await
            .expect(adapter);
        let names: Vec<String> = link.url().query_pairs().map(|(name, _)| name.into_owned()).collect();
        assert_eq!(names, ["client_id", "request_uri"], "{adapter}");
        let back = browser.log_in(link.url()).await;
        let token = provider
            .complete_login(link.pending(), &Callback::from_url(&back).unwrap())
            .await
            .expect(adapter);
        assert!(token.id_token().is_some(), "{adapter}");
    }
}

#[tokio::test]
async fn client_credentials_for_a_resource_carry_it_as_audience() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let client = OAuth2Client::builder(
            metadata.clone(),
            ClientAuth::new("kit-basic", "basic-secret"),
            http.clone(),
        )
        .resource(RESOURCE.parse().unwrap())
        .build()
        .unwrap();
        let token = client
            .client_credentials()
            .unwrap()
            .request_token(Some(&"read".parse().unwrap()))
            .await
            .expect(adapter);
        let info = client.introspection().unwrap().introspect(token.access_token()).await.expect(adapter);
        assert!(info.active, "{adapter}");
        assert_eq!(info.aud, Some(vec![RESOURCE.to_owned()]), "{adapter}");
        // A resource the server does not know: invalid_target.
        let unknown =
            OAuth2Client::builder(metadata, ClientAuth::new("kit-basic", "basic-secret"), http.clone())
                .resource("https://unknown.kit.example/".parse().unwrap())
                .build()
                .unwrap();
        let error =
            expect_oauth2_error(unknown.client_credentials().unwrap().request_token(None).await, adapter);
        assert_eq!(error.response.error.as_str(), "invalid_target", "{adapter}");
    }
}
