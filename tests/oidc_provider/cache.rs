//! The tokio caching provider against the real authorization server (oidc-provider) with 4 s
//! tokens: 50 concurrent callers over 20 s cost one token request per usable lifetime, not one
//! per caller, and every token handed out introspects as active.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};

use oauth2_kit_test_support::{Counting, OidcProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_callers_over_twenty_seconds() {
    let server = OidcProvider::get();
    let http = oauth2_kit_reqwest::ReqwestClient::new().unwrap();
    let endpoints = AuthorizationServer::new()
        .token(server.url("/token"))
        .introspection(server.url("/token/introspection"));
    let oauth2 = OAuth2Client::new(endpoints, ClientAuth::new("kit-short", "short-secret"), http);
    let client = oauth2.introspection().unwrap();
    let counting = Counting::new(oauth2.client_credentials().unwrap());
    let provider = oauth2_kit_cache_tokio::caching(counting.clone());

    let run = Duration::from_secs(20);
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let deadline = tokio::time::Instant::now() + run;
    let mut callers = Vec::new();
    for _ in 0..50 {
        let (provider, client, seen, calls) = (provider.clone(), client.clone(), seen.clone(), calls.clone());
        callers.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < deadline {
                let token = provider.get(None).await.unwrap();
                calls.fetch_add(1, Ordering::SeqCst);
                let value = token.access_token().expose_secret().to_owned();
                let first_sight = seen.lock().unwrap().insert(value);
                if first_sight {
                    let info = client.introspect(token.access_token()).await.unwrap();
                    assert!(info.active, "a token handed out is active");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    for caller in callers {
        caller.await.unwrap();
    }

    // A 4 s token is usable for 2 s (hard margin capped at half the lifetime).
    let requests = counting.requests();
    let usable = 2.0;
    let expected = run.as_secs_f64() / usable;
    let distinct = seen.lock().unwrap().len();
    println!(
        "{} calls, {requests} token requests ({distinct} distinct tokens); expected about {expected}",
        calls.load(Ordering::SeqCst)
    );
    assert!(
        (requests as f64) <= expected + 1.0 && (requests as f64) >= expected - 1.0,
        "{requests} token requests for {expected} usable lifetimes"
    );
    assert!(calls.load(Ordering::SeqCst) > 50 * requests, "never one request per caller");
}
