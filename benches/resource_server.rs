//! The resource-server layer's cost per request: the same request through a bare tower service
//! and through `TokenLayer` in front of it, the token's introspection result already cached
//! (the steady state of a service that introspects): taking the token from `Authorization`,
//! the cache lookup (the token's SHA-256), the claims built and put in the request's
//! extensions. Requests are built outside the timed part.
//!
//! ```text
//! cargo bench --bench resource_server
//! python3 scripts/bench_ratio.py resource_server bare layer_cached_introspection
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::convert::Infallible;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use oauth2_kit::{AccessToken, IntrospectionResponse, TokenIntrospection};
use oauth2_kit_resource_server::{Introspected, TokenLayer};
use oauth2_kit_test_support::bearer::now;
use tower::{Service as _, ServiceExt as _};

/// An authorization server's introspection endpoint that knows one active token.
#[derive(Debug)]
struct Active;

#[oauth2_kit::async_trait]
impl TokenIntrospection for Active {
    async fn introspect(&self, _token: &AccessToken) -> oauth2_kit::Result<IntrospectionResponse> {
        Ok(IntrospectionResponse::from_json(
            br#"{"active":true,"client_id":"orders-ui","sub":"user-1","scope":"orders:read profile",
                "aud":"https://orders.example","iss":"https://auth.example","exp":4102444800,"iat":1700000000}"#,
        )
        .unwrap())
    }
}

const TOKEN: &str = "Bearer 2YotnFZFEjr1zCsicMWpAA-opaque-access-token-of-43-bytes";

fn request() -> Request<axum::body::Body> {
    Request::get("https://orders.example/v1/orders?page=2")
        .header("authorization", TOKEN)
        .header("accept", "application/json")
        .body(axum::body::Body::empty())
        .unwrap()
}

async fn handler(request: Request<axum::body::Body>) -> Result<Response<axum::body::Body>, Infallible> {
    std::hint::black_box(&request);
    Ok(Response::new(axum::body::Body::empty()))
}

fn resource_server(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _context = runtime.enter();
    let cached = oauth2_kit_cache_tokio::caching_introspection(Active);
    let bare = tower::service_fn(handler);
    let layered =
        tower::ServiceBuilder::new().layer(TokenLayer::new(Introspected::new(cached.clone()))).service(bare);
    // The first request fills the cache (its fetch runs as a task of the runtime).
    let status = runtime.block_on(layered.clone().oneshot(request())).unwrap().status();
    assert_eq!(status, 200);
    assert_eq!(cached.requests(), 1);

    let mut group = c.benchmark_group("resource_server");
    let small = BatchSize::SmallInput;
    group.bench_function("bare", |b| {
        let mut service = bare;
        b.iter_batched(request, |r| now(service.call(r)).unwrap(), small)
    });
    group.bench_function("layer_cached_introspection", |b| {
        let mut service = layered.clone();
        b.iter_batched(request, |r| now(service.call(r)).unwrap(), small)
    });
    group.finish();
    assert_eq!(cached.requests(), 1, "every timed request was a cache hit");
}

criterion_group!(benches, resource_server);
criterion_main!(benches);
