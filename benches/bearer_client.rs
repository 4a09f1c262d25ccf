//! The bearer client's cost per request: the same request sent through a bare no-op
//! `HttpClient` and through a `BearerClient` wrapping it, with a fresh token in a tokio caching
//! provider. The difference is the bearer logic: the origin check, the cached token and its
//! prebuilt header value, and (with retries on, the default) the copy of the request kept for a
//! retry after a rejected token (into pooled buffers). Requests are built outside the timed
//! part. `bearer_overhead_paired` measures that difference directly, in alternating batches, so
//! that the machine's drift between the separate functions does not land in it.
//!
//! `bearer_dpop`: the same request with a DPoP-bound token (a proof signed per request) against
//! a bearer token, and the raw ES256 signature of the key.
//!
//! ```text
//! cargo bench --bench bearer_client
//! python3 scripts/bench_ratio.py bearer_client bare bearer bearer_execute bearer_no_retry
//! python3 scripts/bench_ratio.py bearer_dpop bearer dpop raw_signature
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use oauth2_kit::http::HttpClient;

use oauth2_kit_test_support::bearer as support;

use support::{NoOp, clients, now, request};

fn bearer_client(c: &mut Criterion) {
    let (runtime, with_retry, without_retry) = clients();
    let _context = runtime.enter();
    let bare: Arc<dyn HttpClient> = Arc::new(NoOp);

    // Both work, and the bearer client sends the header.
    assert_eq!(now(bare.send(request())).unwrap().status(), 200);
    assert_eq!(now(with_retry.execute(request())).unwrap().status(), 200);

    let mut group = c.benchmark_group("bearer_client");
    let small = BatchSize::SmallInput;
    group.bench_function("bare", |b| b.iter_batched(request, |r| now(NoOp.send(r)).unwrap(), small));
    group.bench_function("bearer", |b| b.iter_batched(request, |r| now(with_retry.send(r)).unwrap(), small));
    group.bench_function("bearer_execute", |b| {
        b.iter_batched(request, |r| now(with_retry.execute(r)).unwrap(), small)
    });
    group.bench_function("bearer_no_retry", |b| {
        b.iter_batched(request, |r| now(without_retry.send(r)).unwrap(), small)
    });
    group.bench_function("bearer_overhead_paired", |b| {
        b.iter_custom(|iterations| paired_overhead(iterations, &with_retry))
    });
    group.finish();
}

/// Requests per batch of the paired measurement.
const BATCH: u64 = 256;

/// The bearer client's time minus the bare client's for `iterations` requests each, measured
/// in alternating batches of fresh requests (the first client alternating too), so that the
/// machine's drift during a run (steal time on a shared host) falls on both sides and cancels
/// out of the difference.
#[allow(clippy::disallowed_methods)] // A benchmark reads the real clock.
fn paired_overhead(iterations: u64, bearer: &dyn HttpClient) -> Duration {
    let (mut bare_time, mut bearer_time) = (Duration::ZERO, Duration::ZERO);
    let mut sent = 0;
    while sent < iterations {
        let n = BATCH.min(iterations - sent);
        let clients: [(&dyn HttpClient, &mut Duration); 2] =
            [(&NoOp, &mut bare_time), (bearer, &mut bearer_time)];
        let order = if (sent / BATCH) % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut clients = clients.map(Some);
        for index in order {
            let (client, total) = clients[index].take().unwrap();
            let requests: Vec<_> = (0..n).map(|_| request()).collect();
            let start = Instant::now();
            for request in requests {
                black_box(now(client.send(request)).unwrap());
            }
            *total += start.elapsed();
        }
        sent += n;
    }
    bearer_time.saturating_sub(bare_time)
}

/// A DPoP token bound to the key of this thumbprint, valid for an hour.
struct OneDpopToken(String);

#[oauth2_kit::async_trait]
impl oauth2_kit::AccessTokenProvider for OneDpopToken {
    async fn request_token(
        &self,
        _: Option<&oauth2_kit::Scope>,
    ) -> oauth2_kit::Result<oauth2_kit::TokenResponse> {
        use oauth2_kit::Clock as _;
        let token = oauth2_kit::TokenResponse::new(
            oauth2_kit::AccessToken::new(support::TOKEN),
            oauth2_kit::TokenType::DPoP,
            oauth2_kit::SystemClock.now(),
        );
        Ok(token.with_expires_in(Some(Duration::from_secs(3600))).with_dpop_jkt(Some(self.0.as_str().into())))
    }
}

/// The bearer client with a DPoP token against the same client with a bearer token, over the
/// same no-op client; and the raw ES256 signature of the key, over a signing input as long as
/// a proof's, which is most of the difference.
fn bearer_dpop(c: &mut Criterion) {
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};

    let (runtime, with_retry, _) = clients();
    let _context = runtime.enter();
    let p256 = p256::ecdsa::SigningKey::random(&mut rsa::rand_core::OsRng);
    let pem = p256.to_pkcs8_pem(LineEnding::LF).unwrap();
    let key =
        oauth2_kit::dpop::DpopKey::new(oauth2_kit::signing::PrivateKey::from_pem(&pem).unwrap()).unwrap();
    let tokens = runtime.block_on(async {
        let tokens = oauth2_kit_cache_tokio::caching(OneDpopToken(key.thumbprint().to_owned()));
        tokens.get(None).await.unwrap();
        tokens
    });
    let dpop = oauth2_kit::bearer::BearerClient::new(
        NoOp,
        oauth2_kit::bearer::BearerAuth::builder(tokens).dpop(key.clone()).build(),
    );
    let proof = now(key.proof(&http::Method::GET, request().uri(), None)).unwrap();
    let input_len = proof.to_str().unwrap().rsplit_once('.').unwrap().0.len();
    // The proof of a request with a token carries its hash too: measure with one.
    let input = vec![b'e'; input_len + 50];
    assert_eq!(now(dpop.execute(request())).unwrap().status(), 200);

    let mut group = c.benchmark_group("bearer_dpop");
    let small = BatchSize::SmallInput;
    group.bench_function("bearer", |b| b.iter_batched(request, |r| now(with_retry.send(r)).unwrap(), small));
    group.bench_function("dpop", |b| b.iter_batched(request, |r| now(dpop.send(r)).unwrap(), small));
    group.bench_function("raw_signature", |b| {
        b.iter(|| black_box(p256::ecdsa::Signature::to_bytes(&p256.sign(black_box(&input)))))
    });
    group.finish();
}

criterion_group!(benches, bearer_client, bearer_dpop);
criterion_main!(benches);
