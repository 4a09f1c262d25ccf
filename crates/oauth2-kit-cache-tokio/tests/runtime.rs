//! The tokio binding itself: no panic outside a runtime, real sleeps, and a real HTTP client.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use oauth2_kit::runtime::Runtime;
use oauth2_kit::{AccessTokenProvider, ClientCredentials, Error, SystemClock};
use oauth2_kit_cache_tokio::TokioRuntime;
use oauth2_kit_testkit::{Route, ScriptedProvider, TestServer};

#[test]
fn outside_a_runtime_nothing_panics() {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    let provider = oauth2_kit_cache_tokio::caching(delegate.clone());
    let result = futures_lite::future::block_on(provider.get(None));
    match result {
        Err(Error::Config(message)) => assert!(message.contains("no async runtime"), "{message}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert_eq!(delegate.requests(), 0);
}

#[test]
fn built_outside_used_inside_a_runtime() {
    let delegate = ScriptedProvider::new(Arc::new(SystemClock));
    let provider = oauth2_kit_cache_tokio::caching(delegate.clone());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = runtime.block_on(provider.get(None)).unwrap();
    assert_eq!(token.access_token().expose_secret(), "token-1");
}

#[tokio::test]
async fn sleeps_for_real() {
    let runtime = TokioRuntime::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    runtime
        .spawn(Box::pin(async move {
            TokioRuntime::new().sleep(Duration::from_millis(20)).await;
            let _ = tx.send(());
        }))
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), rx).await.unwrap().unwrap();
}

#[tokio::test]
async fn hundred_calls_one_token_request_over_http() {
    let server = TestServer::start().unwrap();
    let http = oauth2_kit_reqwest::ReqwestClient::new().unwrap();
    let client = ClientCredentials::new(server.token_endpoint(), "testkit-client", "testkit-secret", http);
    let provider: Arc<dyn AccessTokenProvider> = Arc::new(oauth2_kit_cache_tokio::caching(client));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let provider = provider.clone();
        tasks.push(tokio::spawn(async move { provider.request_token(None).await.map(|_| ()) }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.requests(Route::Token), 1);
}
