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

/// A per-subject cache over `http` keeping `max_subjects`, its clock and runtime virtual.
fn cache(http: &Arc<Script>, max_subjects: usize) -> CachingTokenExchange {
    let time = InstantSleeps::new();
    CachingTokenExchange::builder(client(http.clone()).token_exchange().unwrap(), time.clone())
        .clock(time)
        .max_subjects(max_subjects)
        .build()
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
    assert!(!format!("{exchanged:?}").contains("\"AT\""));
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
    assert!(matches!(&error, Error::Decode { field: Some("token_type"), .. }), "{error:?}");
    assert!(!error.to_string().contains("eyJ.id.token"));
}

#[test]
fn a_provider_asks_for_an_access_token_and_takes_one_issued_as_a_jwt() {
    let http = Script::new(&[(
        200,
        r#"{"access_token":"eyJ.at.jwt","token_type":"Bearer","issued_token_type":"urn:ietf:params:oauth:token-type:jwt"}"#,
    )]);
    let provider = client(http.clone())
        .token_exchange()
        .unwrap()
        .provider(TokenExchangeRequest::new("s", TokenTypeUri::AccessToken));
    let token = block_on(provider.request_token(None)).unwrap();
    assert_eq!(token.access_token().expose_secret(), "eyJ.at.jwt");
    let form = http.form(0);
    let requested = form.iter().find(|(name, _)| name == "requested_token_type").map(|(_, v)| v.as_str());
    assert_eq!(requested, Some("urn:ietf:params:oauth:token-type:access_token"));
    assert_eq!(TokenTypeUri::Other("urn:ietf:params:oauth:token-type:jwt".into()), TokenTypeUri::Jwt);
}

#[test]
fn the_clients_resource_indicators_are_not_added_to_an_exchange() {
    let http = Script::new(&[EXCHANGED, EXCHANGED]);
    let server = AuthorizationServer::new().token("https://as.example/token".parse().unwrap());
    let client = OAuth2Client::builder(server, ClientAuth::new("gateway", "secret"), http.clone())
        .resource("https://everything.example/".parse().unwrap())
        .build()
        .unwrap();
    let exchange = client.token_exchange().unwrap();
    block_on(exchange.exchange(&TokenExchangeRequest::new("s", TokenTypeUri::AccessToken))).unwrap();
    let only = TokenExchangeRequest::new("s", TokenTypeUri::AccessToken)
        .resource("https://orders.example/".parse().unwrap());
    block_on(exchange.exchange(&only)).unwrap();
    let resources = |i| {
        http.form(i).into_iter().filter(|(name, _)| name == "resource").map(|(_, v)| v).collect::<Vec<_>>()
    };
    assert_eq!(resources(0), Vec::<String>::new());
    assert_eq!(resources(1), ["https://orders.example/"]);
}

#[test]
fn a_failed_subject_is_forgotten_first_and_the_scope_is_the_requests_own() {
    let refused = (400, r#"{"error":"invalid_grant","error_description":"subject token not active"}"#);
    let http = Script::new(&[EXCHANGED, refused, EXCHANGED, EXCHANGED]);
    let cache = cache(&http, 2);
    let subject = |name: &str| TokenExchangeRequest::new(name, TokenTypeUri::AccessToken);
    block_on(cache.get(&subject("alice").scope("read".parse().unwrap()))).unwrap();
    block_on(cache.get(&subject("junk"))).unwrap_err();
    // Full: the failed subject goes, not alice.
    block_on(cache.get(&subject("bob"))).unwrap();
    block_on(cache.get(&subject("alice").scope("read".parse().unwrap()))).unwrap();
    assert_eq!(http.sent().len(), 3, "alice's token was kept");
    // alice without a scope: a token of her own for no scope, asked without one.
    block_on(cache.get(&subject("alice"))).unwrap();
    assert_eq!(http.sent().len(), 4);
    assert!(http.form(3).iter().all(|(name, _)| name != "scope"), "{:?}", http.form(3));
}

#[test]
fn a_rejected_exchanged_token_is_dropped_and_exchanged_again() {
    let http = Script::new(&[EXCHANGED, EXCHANGED]);
    let cache = cache(&http, oauth2_kit::cache::DEFAULT_MAX_SUBJECTS);
    let request = TokenExchangeRequest::new("alice", TokenTypeUri::AccessToken);
    let token = block_on(cache.get(&request)).unwrap();
    assert!(cache.invalidate(&request, token.access_token()));
    assert!(!cache.invalidate(&request, token.access_token()), "already dropped");
    block_on(cache.get(&request)).unwrap();
    assert_eq!(http.sent().len(), 2);
}

#[test]
fn the_per_subject_cache_reuses_a_subjects_token_and_forgets_the_oldest_beyond_its_bound() {
    let http = Script::new(&[EXCHANGED, EXCHANGED, EXCHANGED, EXCHANGED]);
    let cache = cache(&http, 2);
    let subject = |name: &str| TokenExchangeRequest::new(name, TokenTypeUri::AccessToken);
    for name in ["alice", "alice", "bob", "alice", "bob"] {
        block_on(cache.get(&subject(name))).unwrap();
    }
    assert_eq!((http.sent().len(), cache.subjects()), (2, 2), "one exchange per subject");
    // A third subject: the least recently used (alice, before bob's last use) is forgotten,
    // and exchanged again when asked.
    block_on(cache.get(&subject("carol"))).unwrap();
    block_on(cache.get(&subject("alice"))).unwrap();
    assert_eq!((http.sent().len(), cache.subjects()), (4, 2));
    assert!(!format!("{cache:?}").contains("alice"));
}
