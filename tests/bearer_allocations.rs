//! Allocations on the bearer client's fresh path, counted by a global allocator: finding the
//! cached token and attaching its header allocate nothing (the header value is built once per
//! token); sending through `BearerClient` adds its one boxed future, and nothing more with
//! retries on (the copy kept for a retry goes into pooled buffers).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

/// Allocations made by `f` on this thread (`allocation-counter` replaces the global allocator
/// of this test binary).
fn allocations<T>(f: impl FnOnce() -> T) -> u64 {
    let mut out = None;
    let info = allocation_counter::measure(|| out = Some(f()));
    drop(out);
    info.count_total
}

use http::header::AUTHORIZATION;
use oauth2_kit::bearer::RequestTarget;
use oauth2_kit::http::HttpClient;

use oauth2_kit_test_support::bearer as support;

use support::{NoOp, TOKEN, clients, now, request};

#[test]
fn the_fresh_path_allocates_nothing_for_the_token_or_its_header() {
    let (runtime, with_retry, without_retry) = clients();
    let _context = runtime.enter();
    // Warm up: the header value is built on the first use of each token replica.
    for _ in 0..64 {
        now(with_retry.send(request())).unwrap();
    }

    // The bearer logic itself: origin check, cached token, header attached.
    let mut r = request();
    let auth = with_retry.auth();
    let attach = allocations(|| {
        let authorization = auth.try_authorize(RequestTarget::from_uri(r.uri()).unwrap()).unwrap().unwrap();
        authorization.apply(r.headers_mut());
    });
    assert_eq!(attach, 0, "finding the token and attaching its header allocate nothing");
    assert_eq!(r.headers()[AUTHORIZATION], format!("Bearer {TOKEN}"));

    let bare = allocations(|| now(NoOp.send(request())).unwrap());
    let no_retry = allocations(|| now(without_retry.send(request())).unwrap());
    let retry = allocations(|| now(with_retry.send(request())).unwrap());
    assert_eq!(no_retry, bare + 1, "one boxed future of its own");
    assert_eq!(retry, no_retry, "the copy kept for a retry reuses pooled buffers");
    // For the record (docs/performance.md): `cargo test --test bearer_allocations -- --nocapture`.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("allocations per request: bare {bare}, bearer without retry {no_retry}, bearer {retry}");
    }
}
