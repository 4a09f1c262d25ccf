//! A measurement harness for `docs/performance.md`: sends 100,000 requests through a bare no-op
//! `HttpClient`, or through a `BearerClient` over it (with or without the retry copy), so that
//! an instruction counter sees the bearer client's cost without the noise of a shared machine.
//!
//! ```text
//! cargo build --release --example bearer_instructions
//! for mode in bare bearer no-retry; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/$mode.out \
//!     target/release/examples/bearer_instructions $mode 2>&1 | grep Collected
//! done
//! ```
//! (instructions per request = difference of the totals / 100,000).

// A measurement tool: it fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

const REQUESTS: usize = 100_000;
const CHUNK: usize = 1_000;

use anyhow::bail;
use oauth2_kit::http::{HttpClient, HttpRequest};

use oauth2_kit_test_support::bearer as support;

use support::{NoOp, clients, now, request};

fn main() -> anyhow::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let (runtime, bearer, no_retry) = clients();
    let _context = runtime.enter();
    let client: &dyn HttpClient = match mode.as_str() {
        "bare" => &NoOp,
        "bearer" => &bearer,
        "no-retry" => &no_retry,
        _ => bail!("usage: bearer_instructions bare|bearer|no-retry"),
    };
    // Built and sent a thousand at a time: a small, steady heap, so that the allocator's
    // occasional housekeeping (consolidating freed chunks) does not land on one mode's count.
    for _ in 0..REQUESTS / CHUNK {
        let requests: Vec<HttpRequest> = (0..CHUNK).map(|_| request()).collect();
        for request in requests {
            now(client.send(request))?;
        }
    }
    Ok(())
}
