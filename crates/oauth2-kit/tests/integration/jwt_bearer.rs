//! The JWT bearer grant (RFC 7523 §2.1) over a scripted HTTP client: the request, the
//! assertion's claims, a new assertion for every attempt (retries included), a failing source
//! sending nothing, and the cache identity.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_lite::future::block_on;
use oauth2_kit::grant::jwt_bearer::{AssertionContext, AssertionSource, GRANT_TYPE, SignedAssertion};
use oauth2_kit::signing::{SharedSecretKey, SigningError};
use oauth2_kit::{
    AccessTokenProvider, Assertion, AuthorizationServer, ClientAuth, Error, OAuth2Client, RetryPolicy,
};

use crate::support::{InstantSleeps, Script};

const TOKEN: (u16, &str) = (200, r#"{"access_token":"AT","token_type":"Bearer","expires_in":60}"#);

fn client(http: Arc<Script>, time: &Arc<InstantSleeps>) -> OAuth2Client {
    let server = AuthorizationServer::new()
        .issuer("https://as.example".parse().unwrap(), false)
        .token("https://as.example/token".parse().unwrap());
    OAuth2Client::builder(server, ClientAuth::public("reports"), http)
        .clock(time.clone())
        .runtime(time.clone())
        .retry(RetryPolicy::default().with_max_attempts(3))
        .build()
        .unwrap()
}

fn claims(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn value(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

#[test]
fn each_attempt_carries_a_new_assertion_with_the_claims() {
    let (http, time) = (Script::new(&[(503, ""), TOKEN]), InstantSleeps::new());
    let source =
        SignedAssertion::new(SharedSecretKey::new("0123456789abcdef0123456789abcdef"), "issuer-a", "alice")
            .lifetime(Duration::from_secs(300))
            .claim("scope", "reports.read")
            .unwrap();
    let grant = client(http.clone(), &time).jwt_bearer(source).unwrap();
    let token = block_on(grant.request_token(Some(&"read".parse().unwrap()))).unwrap();
    assert_eq!(token.access_token().expose_secret(), "AT");
    let mut jtis = std::collections::HashSet::new();
    for attempt in 0..2 {
        let form = http.form(attempt);
        assert_eq!(value(&form, "grant_type").as_deref(), Some(GRANT_TYPE));
        assert_eq!(value(&form, "scope").as_deref(), Some("read"));
        assert_eq!(value(&form, "client_id").as_deref(), Some("reports"));
        let claims = claims(&value(&form, "assertion").unwrap());
        assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("issuer-a"), Some("alice")));
        assert_eq!(claims["aud"], "https://as.example/token");
        assert_eq!(claims["scope"], "reports.read");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 300);
        assert!(jtis.insert(claims["jti"].as_str().unwrap().to_owned()), "attempt {attempt} reused a jti");
    }
}

#[test]
fn registered_claims_are_refused_and_the_issuer_audience_needs_an_issuer() {
    let key = || SharedSecretKey::new("0123456789abcdef0123456789abcdef");
    for name in ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"] {
        assert!(SignedAssertion::new(key(), "i", "s").claim(name, "x").is_err(), "{name}");
    }
    let (http, time) = (Script::new(&[TOKEN]), InstantSleeps::new());
    let by_issuer = SignedAssertion::new(key(), "i", "s").audience(oauth2_kit::AssertionAudience::Issuer);
    block_on(client(http.clone(), &time).jwt_bearer(by_issuer).unwrap().request_token(None)).unwrap();
    assert_eq!(claims(&value(&http.form(0), "assertion").unwrap())["aud"], "https://as.example");
}

#[derive(Debug)]
struct Failing;

#[oauth2_kit::async_trait]
impl AssertionSource for Failing {
    async fn assertion(&self, _: &AssertionContext<'_>) -> Result<Assertion, SigningError> {
        Err(SigningError::new("the token file is missing"))
    }
}

#[test]
fn a_source_that_fails_is_a_signing_error_and_nothing_is_sent() {
    let (http, time) = (Script::new(&[TOKEN]), InstantSleeps::new());
    let error =
        block_on(client(http.clone(), &time).jwt_bearer(Failing).unwrap().request_token(None)).unwrap_err();
    assert!(matches!(&error, Error::Signing(e) if e.to_string().contains("token file")), "{error:?}");
    assert!(http.sent().is_empty());
}

#[test]
fn a_given_assertion_is_sent_as_is_and_the_cache_identity_names_the_subject() {
    let (http, time) = (Script::new(&[TOKEN]), InstantSleeps::new());
    let client = client(http.clone(), &time);
    let grant = client.jwt_bearer(Assertion::new("eyJ.given.jwt")).unwrap();
    block_on(grant.request_token(None)).unwrap();
    assert_eq!(value(&http.form(0), "assertion").as_deref(), Some("eyJ.given.jwt"));
    assert_eq!(grant.cache_identity(), None, "a given assertion says nothing of its subject");
    assert!(!format!("{grant:?}").contains("given"), "{grant:?}");
    let key = || SharedSecretKey::new("0123456789abcdef0123456789abcdef");
    let alice =
        client.jwt_bearer(SignedAssertion::new(key(), "i", "alice")).unwrap().cache_identity().unwrap();
    let bob = client.jwt_bearer(SignedAssertion::new(key(), "i", "bob")).unwrap().cache_identity().unwrap();
    assert_ne!(alice, bob);
    assert!(alice.contains(GRANT_TYPE) && alice.contains("alice"), "{alice}");
}
