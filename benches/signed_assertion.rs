//! What `private_key_jwt` costs per token request beyond its signature: one whole client
//! credentials request (the assertion's claims, header and encoding, the form, the request, and
//! the decoding of a canned token answer from an `HttpClient` that does no I/O) against the raw
//! signature, by the same crypto crate and the same key, of a signing input of the same length.
//! For ES256 (P-256), RS256 (RSA 2048) and EdDSA (Ed25519); and, beside EdDSA's, the same request
//! with `client_secret_basic`, which shows what a token request costs without an assertion.
//!
//! `signed_assertion_cached` reads a cached token over such a grant against the cache
//! benchmarks' baseline; `dpop_proof` makes one DPoP proof against the raw ES256 signature.
//!
//! ```text
//! cargo bench --bench signed_assertion
//! python3 scripts/bench_ratio.py signed_assertion_es256 raw_signature token_request
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::future::Future as _;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_lite::future::block_on;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::reexports::url;
use oauth2_kit::signing::PrivateKey;
use oauth2_kit::{AuthorizationServer, ClientAuth, ClientCredentials, OAuth2Client};
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};

/// Answers every request with the same token response, at once; keeps the length of the last
/// assertion's signing input.
#[derive(Default)]
struct CannedToken {
    signing_input_len: std::sync::atomic::AtomicUsize,
}

#[oauth2_kit::async_trait]
impl HttpClient for CannedToken {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // Read once (the first request), so that the timed requests pay nothing for it.
        if self.signing_input_len.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            let assertion = url::form_urlencoded::parse(request.body())
                .find(|(name, _)| name == "client_assertion")
                .map(|(_, value)| value.rsplit_once('.').map_or(0, |(input, _)| input.len()))
                .unwrap_or(1);
            self.signing_input_len.store(assertion, std::sync::atomic::Ordering::Relaxed);
        }
        let body = Bytes::from_static(br#"{"access_token":"AT","token_type":"Bearer","expires_in":3600}"#);
        let mut response = http::Response::new(body);
        response.headers_mut().insert("content-type", "application/json".parse().unwrap());
        Ok(response)
    }
}

/// A client credentials grant authenticating with `key`, over a [`CannedToken`] client; and
/// the length of its assertions' signing input.
fn grant(key: PrivateKey) -> (ClientCredentials, usize) {
    let http = std::sync::Arc::new(CannedToken::default());
    let server = AuthorizationServer::new().token("https://auth.example.com/oauth2/token".parse().unwrap());
    let auth = ClientAuth::private_key_jwt("reporting-service", key.with_key_id("2026-12"));
    let grant = OAuth2Client::new(server, auth, http.clone()).client_credentials().unwrap();
    block_on(grant.request_token(None)).unwrap();
    let len = http.signing_input_len.load(std::sync::atomic::Ordering::Relaxed);
    assert!(len > 100, "the assertion was sent");
    (grant, len)
}

fn signed_assertion(c: &mut Criterion) {
    let mut rng = rsa::rand_core::OsRng;

    let p256 = p256::ecdsa::SigningKey::random(&mut rng);
    let (es256, len) = grant(PrivateKey::from_pem(&p256.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap());
    let input = vec![b'e'; len];
    let mut group = c.benchmark_group("signed_assertion_es256");
    group.bench_function("raw_signature", |b| {
        b.iter(|| black_box(p256::ecdsa::Signature::to_bytes(&p256.sign(black_box(&input)))))
    });
    group.bench_function("token_request", |b| b.iter(|| block_on(es256.request_token(None)).unwrap()));
    group.finish();

    let rsa_key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let (rs256, len) = grant(PrivateKey::from_pem(&rsa_key.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap());
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_key);
    let input = vec![b'e'; len];
    let mut group = c.benchmark_group("signed_assertion_rs256");
    group.bench_function("raw_signature", |b| {
        // Blinded with a fresh random value, as the library signs.
        b.iter(|| black_box(signer.sign_with_rng(&mut rng, black_box(&input)).to_vec()))
    });
    group.bench_function("token_request", |b| b.iter(|| block_on(rs256.request_token(None)).unwrap()));
    group.finish();

    let seed: [u8; 32] = rand_seed(&mut rng);
    let ed = ed25519_dalek::SigningKey::from_bytes(&seed);
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","d":"{}"}}"#,
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, seed)
    );
    let (eddsa, len) = grant(PrivateKey::from_jwk(&jwk).unwrap());
    let input = vec![b'e'; len];
    let mut group = c.benchmark_group("signed_assertion_eddsa");
    group.bench_function("raw_signature", |b| b.iter(|| black_box(ed.sign(black_box(&input)).to_bytes())));
    group.bench_function("token_request", |b| b.iter(|| block_on(eddsa.request_token(None)).unwrap()));
    // The same request with client_secret_basic: what a token request costs without an
    // assertion (the form, the request, the answer's decoding).
    let http = std::sync::Arc::new(CannedToken::default());
    let server = AuthorizationServer::new().token("https://auth.example.com/oauth2/token".parse().unwrap());
    let basic = OAuth2Client::new(server, ClientAuth::new("reporting-service", "a-client-secret"), http)
        .client_credentials()
        .unwrap();
    group.bench_function("token_request_client_secret", |b| {
        b.iter(|| block_on(basic.request_token(None)).unwrap())
    });
    group.finish();
}

/// A fresh-path cached read over a `private_key_jwt` grant (tokio), against the cache
/// benchmarks' baseline (an `ArcSwap` load, `Instant::now()` and a `HeaderValue` clone) in the
/// same run: the provider behind the cache is never called on that path.
fn cached_over_signed_assertions(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _entered = runtime.enter();
    let (grant, _) = grant(
        PrivateKey::from_pem(
            &p256::ecdsa::SigningKey::random(&mut rsa::rand_core::OsRng)
                .to_pkcs8_pem(LineEnding::LF)
                .unwrap(),
        )
        .unwrap(),
    );
    let cached = oauth2_kit_cache_tokio::caching(grant);
    runtime.block_on(cached.get(None)).unwrap();
    let mut group = c.benchmark_group("signed_assertion_cached");
    let header = http::HeaderValue::from_str(&format!("Bearer {}", "abcdefghij".repeat(4))).unwrap();
    let swap = arc_swap::ArcSwap::from_pointee(header);
    group.bench_function("baseline", |b| {
        b.iter(|| {
            let guard = swap.load();
            #[allow(clippy::disallowed_methods)] // the baseline reads the precise clock
            black_box(std::time::Instant::now());
            black_box(http::HeaderValue::clone(&guard))
        })
    });
    group.bench_function("1_thread", |b| {
        b.iter(|| {
            let mut get = std::pin::pin!(cached.get(None));
            match get.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
                std::task::Poll::Ready(token) => black_box(token.unwrap()),
                std::task::Poll::Pending => panic!("the cached path must not wait"),
            }
        })
    });
    group.finish();
}

fn rand_seed(rng: &mut rsa::rand_core::OsRng) -> [u8; 32] {
    let mut seed = [0u8; 32];
    rsa::rand_core::RngCore::fill_bytes(rng, &mut seed);
    seed
}

/// One DPoP proof (RFC 9449) for a resource request carrying a token, against the raw ES256
/// signature by the same crate and key of a signing input of the same length.
fn dpop_proof(c: &mut Criterion) {
    let p256 = p256::ecdsa::SigningKey::random(&mut rsa::rand_core::OsRng);
    let pem = p256.to_pkcs8_pem(LineEnding::LF).unwrap();
    let key = oauth2_kit::dpop::DpopKey::new(PrivateKey::from_pem(&pem).unwrap()).unwrap();
    let uri: http::Uri = "https://api.example.com/v1/orders?page=2".parse().unwrap();
    let token = oauth2_kit::AccessToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJl");
    let proof = block_on(key.proof(&http::Method::GET, &uri, Some(&token))).unwrap();
    let input = vec![b'e'; proof.to_str().unwrap().rsplit_once('.').unwrap().0.len()];
    let mut group = c.benchmark_group("dpop_proof");
    group.bench_function("raw_signature", |b| {
        b.iter(|| black_box(p256::ecdsa::Signature::to_bytes(&p256.sign(black_box(&input)))))
    });
    group.bench_function("proof", |b| {
        b.iter(|| block_on(key.proof(black_box(&http::Method::GET), black_box(&uri), Some(&token))).unwrap())
    });
    group.finish();
}

criterion_group!(benches, signed_assertion, cached_over_signed_assertions, dpop_proof);
criterion_main!(benches);
