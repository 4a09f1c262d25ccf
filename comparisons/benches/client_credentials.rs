//! Client credentials, oauth2-kit side by side with the `oauth2` crate (5.x) and huskarl (0.11),
//! in one run:
//!
//! - `client_credentials_round_trip`: one token request to the embedded testkit server and the
//!   decoding of its answer, oauth2-kit and the `oauth2` crate through the very same
//!   `ReqwestClient` (same connection pool) to the same server;
//! - `client_credentials_in_process`: the libraries' own work alone (build the form and the
//!   headers, classify and decode the answer) over HTTP clients that answer a canned token
//!   response without I/O, the three libraries paying the same copies (the request body once,
//!   the response body once).
//!
//! ```text
//! CARGO_TARGET_DIR="$PWD/target" cargo bench --manifest-path comparisons/Cargo.toml --bench client_credentials
//! python3 scripts/bench_ratio.py client_credentials_in_process huskarl-0.11
//! python3 scripts/bench_ratio.py client_credentials_round_trip oauth2-5.x
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use huskarl::prelude::*;
use oauth2::TokenResponse as _;
use oauth2_kit::http::{HttpClient, TransportError};
use oauth2_kit::{AuthorizationServer, ClientAuth, ClientCredentials, OAuth2Client, Scope};
use oauth2_kit_reqwest::ReqwestClient;
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let server = TestServer::start().expect("testkit server");
    let http = ReqwestClient::new().expect("reqwest client");
    let scope: Scope = "read write".parse().expect("scope");

    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let ours = OAuth2Client::new(server.authorization_server(), auth, Copying(http.clone()))
        .client_credentials()
        .expect("a token endpoint");

    let theirs = theirs_client(server.token_endpoint().as_str());
    // The oauth2 crate's HTTP client: the same ReqwestClient, adapted to its request type.
    let shared = http.clone();
    let theirs_http = move |request: oauth2::HttpRequest| {
        let shared = shared.clone();
        async move {
            let (parts, body) = request.into_parts();
            let response = shared.send(http::Request::from_parts(parts, Bytes::from(body.clone()))).await?;
            let (parts, body) = response.into_parts();
            Ok::<_, TransportError>(http::Response::from_parts(parts, body.to_vec()))
        }
    };

    // Both work before measuring.
    let token = runtime.block_on(ours.request_token(Some(&scope))).expect("oauth2-kit token");
    assert_eq!(token.scope(), Some(&scope));
    let token = runtime
        .block_on(
            theirs
                .exchange_client_credentials()
                .add_scope(oauth2::Scope::new("read".into()))
                .add_scope(oauth2::Scope::new("write".into()))
                .request_async(&theirs_http),
        )
        .expect("oauth2 token");
    assert!(!token.access_token().secret().is_empty());

    compare(c, "client_credentials_round_trip", &runtime, &ours, &theirs, &theirs_http, &scope).finish();
}

/// Copies request and response bodies once each way, as the `oauth2` crate's adapter must.
struct Copying<H>(H);

#[oauth2_kit::async_trait]
impl<H: HttpClient> HttpClient for Copying<H> {
    async fn send(
        &self,
        request: oauth2_kit::http::HttpRequest,
    ) -> Result<oauth2_kit::http::HttpResponse, TransportError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Bytes::from(body.to_vec()));
        let (parts, body) = self.0.send(request).await?.into_parts();
        Ok(http::Response::from_parts(parts, Bytes::from(body.to_vec())))
    }
}

/// The `oauth2` crate's client, with a token endpoint set.
type Theirs = oauth2::basic::BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn theirs_client(token_url: &str) -> Theirs {
    oauth2::basic::BasicClient::new(oauth2::ClientId::new(DEFAULT_CLIENT_ID.into()))
        .set_client_secret(oauth2::ClientSecret::new(DEFAULT_CLIENT_SECRET.into()))
        .set_token_uri(oauth2::TokenUrl::new(token_url.into()).expect("token URL"))
}

/// Benchmarks one token request of oauth2-kit and of the `oauth2` crate, in one group (returned,
/// for more functions).
fn compare<'c, H>(
    c: &'c mut Criterion,
    group: &str,
    runtime: &tokio::runtime::Runtime,
    ours: &ClientCredentials,
    theirs: &Theirs,
    theirs_http: &H,
    scope: &Scope,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime>
where
    H: for<'h> oauth2::AsyncHttpClient<'h>,
{
    let scopes = [oauth2::Scope::new("read".into()), oauth2::Scope::new("write".into())];
    let mut group = c.benchmark_group(group);
    group.bench_function("oauth2-kit", |b| {
        b.to_async(runtime)
            .iter(|| async { black_box(ours.request_token(Some(scope)).await.expect("token")) })
    });
    group.bench_function("oauth2-5.x", |b| {
        b.to_async(runtime).iter(|| async {
            black_box(
                theirs
                    .exchange_client_credentials()
                    .add_scopes(scopes.iter().cloned())
                    .request_async(theirs_http)
                    .await
                    .expect("token"),
            )
        })
    });
    group
}

/// Always answers the same token response, without any I/O.
struct Canned(http::Response<Bytes>);

#[oauth2_kit::async_trait]
impl HttpClient for Canned {
    async fn send(
        &self,
        _request: oauth2_kit::http::HttpRequest,
    ) -> Result<oauth2_kit::http::HttpResponse, TransportError> {
        Ok(self.0.clone())
    }
}

const CANNED_TOKEN: &str =
    r#"{"access_token":"mF_9.B5f-4.1JqM","token_type":"Bearer","expires_in":3600,"scope":"read write"}"#;

/// The libraries' own work alone: build the request, classify and decode a canned answer, over an
/// HTTP client that does no I/O. Far less noisy than the round trip.
fn in_process(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let answer = http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Bytes::from_static(CANNED_TOKEN.as_bytes()))
        .expect("response");
    let scope: Scope = "read write".parse().expect("scope");
    let endpoint: oauth2_kit::Endpoint = "https://auth.example.com/oauth2/token".parse().expect("endpoint");
    let auth = ClientAuth::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    let ours = OAuth2Client::new(AuthorizationServer::new().token(endpoint.clone()), auth, Copying(Canned(answer.clone())))
        .client_credentials()
        .expect("a token endpoint");
    let theirs = theirs_client(endpoint.as_str());
    let theirs_http = move |request: oauth2::HttpRequest| {
        let _copied_in = request.body().clone();
        let (parts, body) = answer.clone().into_parts();
        async move { Ok::<_, TransportError>(http::Response::from_parts(parts, body.to_vec())) }
    };

    let huskarl = huskarl_grant();
    let huskarl_params = huskarl::grant::client_credentials::ClientCredentialsGrantParameters::builder()
        .scope(vec!["read".to_owned(), "write".to_owned()])
        .build();
    let token = runtime.block_on(huskarl.exchange(huskarl_params.clone())).expect("huskarl token");
    assert_eq!(token.access_token().token().expose_secret(), "mF_9.B5f-4.1JqM");

    let mut group =
        compare(c, "client_credentials_in_process", &runtime, &ours, &theirs, &theirs_http, &scope);
    group.bench_function("huskarl-0.11", |b| {
        b.to_async(&runtime).iter(|| async {
            // The parameters are taken by value: their clone (two short strings) is the caller's
            // cost, as the `oauth2` crate's scope clones are.
            black_box(huskarl.exchange(huskarl_params.clone()).await.expect("token"))
        })
    });
    group.finish();
}

/// huskarl's client credentials grant over a canned client, with `client_secret_basic`.
fn huskarl_grant() -> huskarl::grant::client_credentials::ClientCredentialsGrant {
    use huskarl::core::client_auth::ClientSecret;
    use huskarl::core::secrets::{ProvidedSecret, SecretString};
    let auth = ClientSecret::builder()
        .client_secret(ProvidedSecret::new(SecretString::new(DEFAULT_CLIENT_SECRET)))
        .prefer_basic_auth(true)
        .build();
    huskarl::grant::client_credentials::ClientCredentialsGrant::builder()
        .client_id(DEFAULT_CLIENT_ID)
        .http_client(HuskarlCanned::new())
        .client_auth(auth)
        .token_endpoint("https://auth.example.com/oauth2/token".parse().expect("endpoint"))
        .build()
}

/// Answers every huskarl request with the canned token response, copying the request body and
/// the response body once, as the other two clients do.
struct HuskarlCanned(huskarl::core::http::HttpResponse);

impl HuskarlCanned {
    fn new() -> Self {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        Self(huskarl::core::http::HttpResponse {
            status: http::StatusCode::OK,
            headers,
            body: Bytes::from_static(CANNED_TOKEN.as_bytes()),
        })
    }
}

impl huskarl::core::http::HttpClient for HuskarlCanned {
    fn execute(
        &self,
        request: http::Request<Bytes>,
        _idempotency: huskarl::core::http::Idempotency,
    ) -> huskarl::core::platform::MaybeSendBoxFuture<
        '_,
        Result<huskarl::core::http::HttpResponse, huskarl::core::Error>,
    > {
        black_box(request.body().to_vec());
        let mut response = self.0.clone();
        response.body = Bytes::from(response.body.to_vec());
        Box::pin(async move { Ok(response) })
    }
}

criterion_group!(benches, round_trip, in_process);
criterion_main!(benches);
