//! Token exchange (RFC 8693) over a scripted HTTP client: the form (repeated audiences and
//! resources), `issued_token_type` required and decoded, a provider refusing a token that is not
//! an access token, and the per-subject cache's bound.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use futures_lite::future::block_on;
use oauth2_kit::cache::CachingTokenExchange;
use oauth2_kit::grant::token_exchange::{GRANT_TYPE, TokenExchangeRequest, TokenTypeUri};
use oauth2_kit::{AccessTokenProvider, AuthorizationServer, ClientAuth, Error, OAuth2Client};

use crate::support::{InstantSleeps, Script};

const EXCHANGED: (u16, &str) = (
    200,
    r#"{"access_token":"AT","token_type":"Bearer","expires_in":60,"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#,
);

fn client(http: Arc<Script>) -> OAuth2Client {
    let server = AuthorizationServer::new().token("https://as.example/token".parse().unwrap());
    OAuth2Client::new(server, ClientAuth::new("gateway", "secret"), http)
}

#[test]
fn the_form_carries_every_parameter_and_the_issued_type_is_decoded() {
    let http = Script::new(&[EXCHANGED]);
    let request = TokenExchangeRequest::new("subject-jwt", TokenTypeUri::Jwt)
        .actor("actor-token", TokenTypeUri::AccessToken)
        .requested_token_type(TokenTypeUri::AccessToken)
        .audience("a1")
        .audience("a2")
        .resource("https://r1.example/api".parse().unwrap())
        .resource("https://r2.example/".parse().unwrap())
        .scope("read".parse().unwrap());
    let exchanged = block_on(client(http.clone()).token_exchange().unwrap().exchange(&request)).unwrap();
    assert_eq!(exchanged.issued_token_type(), &TokenTypeUri::AccessToken);
    assert_eq!(exchanged.token().access_token().expose_secret(), "AT");
    let form: Vec<(String, String)> = http.form(0);
    let expected: Vec<(String, String)> = [
        ("grant_type", GRANT_TYPE),
        ("subject_token", "subject-jwt"),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ("actor_token", "actor-token"),
        ("actor_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("audience", "a1"),
        ("audience", "a2"),
        ("resource", "https://r1.example/api"),
        ("resource", "https://r2.example/"),
        ("scope", "read"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(form, expected);
    assert!(!format!("{request:?}").contains("subject-jwt"));
}

#[test]
fn an_answer_without_issued_token_type_is_a_decode_error() {
    let http = Script::new(&[(200, r#"{"access_token":"AT","token_type":"Bearer"}"#)]);
    let request = TokenExchangeRequest::new("s", TokenTypeUri::AccessToken);
    let error = block_on(client(http).token_exchange().unwrap().exchange(&request)).unwrap_err();
    assert!(matches!(&error, Error::Decode { field: Some("issued_token_type"), .. }), "{error:?}");
}

#[test]
fn a_provider_refuses_a_token_that_is_not_an_access_token() {
    let http = Script::new(&[(
        200,
        r#"{"access_token":"eyJ.id.token","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}"#,
    )]);
    let provider = client(http)
        .token_exchange()
        .unwrap()
        .provider(TokenExchangeRequest::new("s", TokenTypeUri::AccessToken));
    let error = block_on(provider.request_token(None)).unwrap_err();
    assert!(matches!(&error, Error::Decode { field: Some("issued_token_type"), .. }), "{error:?}");
    assert!(!error.to_string().contains("eyJ.id.token"));
}

#[test]
fn the_per_subject_cache_reuses_a_subjects_token_and_forgets_the_oldest_beyond_its_bound() {
    let http = Script::new(&[EXCHANGED, EXCHANGED, EXCHANGED, EXCHANGED]);
    let time = InstantSleeps::new();
    let cache = CachingTokenExchange::builder(client(http.clone()).token_exchange().unwrap(), time.clone())
        .clock(time.clone())
        .max_subjects(2)
        .build();
    let subject = |name: &str| TokenExchangeRequest::new(name, TokenTypeUri::AccessToken);
    for name in ["alice", "alice", "bob", "alice", "bob"] {
        block_on(cache.get(&subject(name))).unwrap();
    }
    assert_eq!((http.sent().len(), cache.subjects()), (2, 2), "one exchange per subject");
    // A third subject: the first cached (alice) is forgotten, and exchanged again when asked.
    block_on(cache.get(&subject("carol"))).unwrap();
    block_on(cache.get(&subject("alice"))).unwrap();
    assert_eq!((http.sent().len(), cache.subjects()), (4, 2));
    assert!(!format!("{cache:?}").contains("alice"));
}
