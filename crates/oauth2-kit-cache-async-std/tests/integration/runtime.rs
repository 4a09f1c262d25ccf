//! The async-std binding itself: under async-std and under smol, with real sleeps and a real
//! HTTP client.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2_kit::runtime::Runtime;
use oauth2_kit::{AccessTokenProvider, SystemClock};
use oauth2_kit::{ClientAuth, OAuth2Client};
use oauth2_kit_cache_async_std::AsyncStdRuntime;
use oauth2_kit_testkit::{Route, ScriptedProvider, TestServer};

#[test]
fn runs_under_smol() {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    let provider = oauth2_kit_cache_async_std::caching(delegate.clone());
    smol::block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let provider = provider.clone();
                smol::spawn(async move {
                    provider.get(None).await.map(|t| t.access_token().expose_secret().to_owned())
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), "token-1");
        }
    });
    assert_eq!(delegate.requests(), 1);
}

#[test]
fn sleeps_for_real_under_smol() {
    smol::block_on(async {
        #[allow(clippy::disallowed_methods)] // Measuring that a real sleep happened at all.
        let start = Instant::now();
        AsyncStdRuntime.sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[async_std::test]
async fn hundred_calls_one_token_request_over_http() {
    let server = TestServer::start().unwrap();
    let http = oauth2_kit_isahc::IsahcClient::new().unwrap();
    let client = OAuth2Client::new(
        server.authorization_server(),
        ClientAuth::new("testkit-client", "testkit-secret"),
        http,
    )
    .client_credentials()
    .unwrap();
    let provider: Arc<dyn AccessTokenProvider> = Arc::new(oauth2_kit_cache_async_std::caching(client));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let provider = provider.clone();
            async_std::task::spawn(async move { provider.request_token(None).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.requests(Route::Token), 1);
}
