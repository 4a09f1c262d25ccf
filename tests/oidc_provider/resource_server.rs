//! A resource server behind oauth2-kit-resource-server's layer, taking the JWT access tokens
//! (RFC 9068) oidc-provider issues for a resource indicator, through both HTTP adapters.

use axum::Router;
use axum::routing::get;
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_resource_server::{Claims, TokenLayer};
use oauth2_kit_test_support::{OidcProvider, adapters};
use tower::ServiceExt as _;

use super::pushed_authorization::discovered;

/// A resource server whose tokens oidc-provider issues as JWTs (RFC 9068, resource indicators).
const JWT_RESOURCE: &str = "https://jwt-api.kit.example/";

#[tokio::test]
async fn its_jwt_access_tokens_pass_a_resource_servers_layer_for_their_audience_only() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let client = OAuth2Client::builder(
            metadata.clone(),
            ClientAuth::new("kit-basic", "basic-secret"),
            http.clone(),
        )
        .resource(JWT_RESOURCE.parse().unwrap())
        .build()
        .unwrap();
        let token = client
            .client_credentials()
            .unwrap()
            .request_token(Some(&"read".parse().unwrap()))
            .await
            .expect(adapter);
        assert!(token.access_token().expose_secret().starts_with("eyJ"), "{adapter}: a JWT");

        // The resource server: its own client of the issuer (discovery: jwks_uri, issuer).
        let api = OAuth2Client::new(metadata, ClientAuth::public("jwt-api"), http.clone());
        let app = |audience: &str| {
            Router::new()
                .route(
                    "/orders",
                    get(|Claims(claims): Claims| async move { claims.client_id.unwrap_or_default() }),
                )
                .layer(TokenLayer::new(api.jwt_access_tokens(audience).unwrap()).realm("orders"))
        };
        let request = || {
            http::Request::get("/orders")
                .header("authorization", format!("Bearer {}", token.access_token().expose_secret()))
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let response = app(JWT_RESOURCE).oneshot(request()).await.unwrap();
        assert_eq!(response.status(), http::StatusCode::OK, "{adapter}");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"kit-basic", "{adapter}: the claims reached the handler");

        let response = app("https://other-api.kit.example/").oneshot(request()).await.unwrap();
        assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED, "{adapter}: another audience");
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="orders", error="invalid_token""#,
            "{adapter}"
        );
    }
}

#[tokio::test]
async fn signed_introspection_responses_are_checked_and_believed() {
    let server = OidcProvider::get();
    for (adapter, http) in adapters() {
        let metadata = discovered(&server, http.clone()).await;
        let issuer =
            OAuth2Client::new(metadata.clone(), ClientAuth::new("kit-basic", "basic-secret"), http.clone());
        let token =
            issuer.client_credentials().unwrap().request_token(Some(&"read".parse().unwrap())).await.unwrap();

        // A resource server registered for signed answers asks for them and takes only those.
        let api = OAuth2Client::new(
            metadata.clone(),
            ClientAuth::new("kit-introspect-jwt", "introspect-jwt-secret"),
            http.clone(),
        );
        let signed = api.introspection().unwrap().signed_responses().unwrap();
        let info = signed.introspect(token.access_token()).await.expect(adapter);
        assert!(info.active, "{adapter}");
        assert_eq!(info.client_id.as_deref(), Some("kit-basic"), "{adapter}");
        let unknown = signed.introspect(&oauth2_kit::AccessToken::new("made-up")).await.expect(adapter);
        assert!(!unknown.active, "{adapter}");

        // Without asking: the plain JSON answer, as before.
        let plain = api.introspection().unwrap().introspect(token.access_token()).await.expect(adapter);
        assert_eq!(plain, info, "{adapter}: the same answer, signed or not");
    }
}
