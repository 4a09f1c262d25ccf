//! Decoding vectors for every response of the user grants, with real servers' quirks: each
//! request of each flow answered by a fixed response (status, content type, body), and the exact
//! outcome expected.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use bytes::Bytes;
use futures_lite::future::block_on;
use oauth2_kit::grant::authorization_code::AuthorizationCodeProvider;
use oauth2_kit::grant::device_code::DeviceCodeClient;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::userinfo::UserInfoClient;
use oauth2_kit::{
    AuthorizationServer, ClientAuth, Error, ErrorCode, OAuth2Client, Password, RefreshClient, RefreshToken,
    RevocationClient,
};
use url::Url;

/// Answers every request with one fixed response.
struct Fixed(u16, &'static str, &'static str);

#[async_trait::async_trait]
impl HttpClient for Fixed {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = http::Response::new(Bytes::from_static(self.2.as_bytes()));
        *response.status_mut() = http::StatusCode::from_u16(self.0).unwrap();
        if !self.1.is_empty() {
            response.headers_mut().insert("content-type", self.1.parse().unwrap());
        }
        Ok(response)
    }
}

/// A client of a server with every endpoint, whose every answer is `answer`.
fn client(answer: Fixed) -> OAuth2Client {
    #[derive(Debug)]
    struct NoSleep;
    impl oauth2_kit::runtime::Runtime for NoSleep {
        fn spawn(
            &self,
            _: oauth2_kit::runtime::BoxFuture<()>,
        ) -> Result<(), oauth2_kit::runtime::SpawnError> {
            Ok(())
        }
        fn sleep(&self, _: Duration) -> oauth2_kit::runtime::BoxFuture<()> {
            Box::pin(async {})
        }
    }
    let server = AuthorizationServer::new()
        .authorization("https://as.example/authorize".parse().unwrap())
        .token("https://as.example/token".parse().unwrap())
        .revocation("https://as.example/revoke".parse().unwrap())
        .device_authorization("https://as.example/device".parse().unwrap());
    OAuth2Client::builder(server, ClientAuth::new("app", "secret"), answer)
        .runtime(std::sync::Arc::new(NoSleep))
        .build()
        .unwrap()
}

fn provider(answer: Fixed) -> AuthorizationCodeProvider {
    client(answer).authorization_code(Url::parse("https://app.example/cb").unwrap()).unwrap().build().unwrap()
}

fn refresh(answer: Fixed) -> RefreshClient {
    client(answer).refresh().unwrap()
}

fn revocation(answer: Fixed) -> RevocationClient {
    client(answer).revocation().unwrap()
}

fn device(answer: Fixed) -> DeviceCodeClient {
    client(answer).device().unwrap()
}

const JSON: &str = "application/json";

fn code(error: &Error) -> &ErrorCode {
    &error.oauth2().unwrap_or_else(|| panic!("an OAuth 2.0 error, got {error}")).response.error
}

#[test]
fn error_bodies_with_only_error_are_oauth2_errors_in_every_flow() {
    let only_error = || Fixed(400, JSON, r#"{"error":"invalid_grant"}"#);
    let refresh_token = RefreshToken::new("r");
    let errors = [
        block_on(provider(only_error()).exchange_code(&"c".into(), None)).unwrap_err(),
        block_on(refresh(only_error()).refresh(&refresh_token, None)).unwrap_err(),
        block_on(revocation(only_error()).revoke_refresh_token(&refresh_token)).unwrap_err(),
        block_on(client(only_error()).password().unwrap().request_token("u", &Password::new("p"), None))
            .unwrap_err(),
        block_on(device(only_error()).request_authorization(None)).unwrap_err(),
        block_on(
            UserInfoClient::new("https://as.example/me".parse().unwrap(), only_error()).fetch(&"t".into()),
        )
        .unwrap_err(),
    ];
    for error in &errors {
        assert_eq!(code(error), &ErrorCode::InvalidGrant, "{error}");
        assert_eq!(error.oauth2().unwrap().response.error_description, None);
    }
}

#[test]
fn an_empty_revocation_answer_in_html_is_success() {
    for answer in
        [Fixed(200, "text/html; charset=utf-8", ""), Fixed(200, "", ""), Fixed(204, "text/html", "")]
    {
        block_on(revocation(answer).revoke_refresh_token(&RefreshToken::new("r"))).unwrap();
    }
    // An HTML error page is an unexpected status, not a success.
    let err = block_on(revocation(Fixed(503, "text/html", "<h1>down</h1>")).revoke(&"t".into())).unwrap_err();
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err}");
}

#[test]
fn github_answers_errors_with_200() {
    // GitHub's code exchange: `200 OK` carrying an error.
    let answer = Fixed(
        200,
        JSON,
        r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/"}"#,
    );
    let err = block_on(provider(answer).exchange_code(&"c".into(), None)).unwrap_err();
    assert_eq!(code(&err), &ErrorCode::Other("bad_verification_code".into()));
    assert_eq!(err.status(), Some(http::StatusCode::OK));
}

#[test]
fn token_responses_of_real_servers() {
    // GitHub: lowercase `bearer`, comma-separated scope, no expiry.
    let github = Fixed(
        200,
        JSON,
        r#"{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","scope":"repo,gist","token_type":"bearer"}"#,
    );
    let token = block_on(provider(github).exchange_code(&"c".into(), None)).unwrap();
    assert_eq!(token.token_type(), &oauth2_kit::TokenType::Bearer);
    assert_eq!(token.scope().unwrap().as_str(), "repo,gist");
    assert_eq!(token.expires_in(), None);
    // Azure AD v1: numbers as strings, `ext_expires_in`, `resource`.
    let azure = Fixed(
        200,
        JSON,
        r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","resource":"https://graph.example","access_token":"a","refresh_token":"r"}"#,
    );
    let token = block_on(refresh(azure).refresh(&RefreshToken::new("old"), None)).unwrap();
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3599)));
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "r");
    assert_eq!(token.extra()["resource"], "https://graph.example");
    // A refresh answer without a refresh token keeps the one used.
    let bare = Fixed(200, JSON, r#"{"access_token":"a2","token_type":"Bearer","expires_in":60}"#);
    let token = block_on(refresh(bare).refresh(&RefreshToken::new("old"), None)).unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "old");
    // A token answer that is not JSON (form-encoded, as GitHub sends without Accept) is a decode error.
    let form = Fixed(200, "application/x-www-form-urlencoded", "access_token=a&token_type=bearer");
    let err = block_on(provider(form).exchange_code(&"c".into(), None)).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(!err.to_string().contains("access_token=a"), "{err}");
}

#[test]
fn device_responses_of_real_servers() {
    // oidc-provider: no `interval`.
    let no_interval = Fixed(
        200,
        JSON,
        r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"http://localhost/device","verification_uri_complete":"http://localhost/device?user_code=ABCD-EFGH","expires_in":600}"#,
    );
    let auth = block_on(device(no_interval).request_authorization(None)).unwrap();
    assert_eq!(auth.interval(), Duration::from_secs(5));
    assert_eq!(auth.verification_uri_complete().unwrap().query(), Some("user_code=ABCD-EFGH"));
    // Google: `verification_url`.
    let google = Fixed(
        200,
        JSON,
        r#"{"device_code":"d","user_code":"GQVQ-JKEC","verification_url":"https://www.google.com/device","expires_in":1800,"interval":5}"#,
    );
    let auth = block_on(device(google).request_authorization(None)).unwrap();
    assert_eq!(auth.verification_uri().as_str(), "https://www.google.com/device");
    // Missing user code: a decode error naming it.
    let broken = Fixed(200, JSON, r#"{"device_code":"d","verification_uri":"https://a/d","expires_in":5}"#);
    let err = block_on(device(broken).request_authorization(None)).unwrap_err();
    assert!(matches!(err, Error::Decode { field: Some("user_code"), .. }), "{err}");
}

#[test]
fn userinfo_responses_of_real_servers() {
    // Strings for booleans and timestamps, an extra namespaced claim.
    let lenient = Fixed(
        200,
        "application/json; charset=utf-8",
        r#"{"sub":"1","email_verified":"false","updated_at":"1700000000","https://example.com/roles":["a"]}"#,
    );
    let me =
        block_on(UserInfoClient::new("https://as.example/me".parse().unwrap(), lenient).fetch(&"t".into()))
            .unwrap();
    assert_eq!(me.email_verified, Some(false));
    assert_eq!(me.updated_at, Some(1_700_000_000));
    assert!(me.extra.contains_key("https://example.com/roles"));
    // A signed response: refused, not misread.
    let jwt = Fixed(200, "application/jwt", "eyJhbGciOiJSUzI1NiJ9.e30.sig");
    let err = block_on(UserInfoClient::new("https://as.example/me".parse().unwrap(), jwt).fetch(&"t".into()))
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }) && err.to_string().contains("application/jwt"), "{err}");
}
