#!/usr/bin/env bash
# Runs every test of the workspace, on a fresh machine as on a developer's:
#   1. installs what is missing (Node.js/npm for the test authorization server, redis-server for
#      the fleet cache's tests, tmux for the command-line tool's terminal checks, cargo-nextest,
#      cargo-deny, cargo-fuzz, clippy, rustfmt), then the pinned oidc-provider npm package;
#   2. checks formatting, lints (warnings are errors), dependencies (cargo deny) and the core
#      crate's dependency rule;
#   3. starts oidc-provider on 127.0.0.1 and runs every test (unit, integration, conformance,
#      real-server, examples, benchmarks once each in test mode) and every doctest;
#   4. builds the docs with warnings as errors; stops the server;
#   5. fuzzes every response decoder for a bounded time (FUZZ_SECONDS per target, default 30).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n== %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  if ! have apt-get; then
    echo "missing $*; install it and run again" >&2
    exit 1
  fi
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

say "toolchain"
have cargo || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
if have rustup; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy >&2
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt >&2
fi
have cargo-nextest || cargo install cargo-nextest --locked >&2
if ! have node || ! have npm; then
  apt_install nodejs npm
fi
# The fleet cache's tests start their own redis-server processes (127.0.0.1, free ports).
have redis-server || apt_install redis-server
# The command-line tool's interactive commands are checked in a real terminal (tmux).
have tmux || apt_install tmux
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "the test server (tests/oidc-provider) needs Node.js >= 20, found $(node --version)" >&2
  exit 1
fi
cargo --version >&2
node --version >&2
redis-server --version >&2
tmux -V >&2

say "format and lints"
cargo fmt --all -- --check
(cd fuzz && cargo fmt -- --check)
cargo clippy --workspace --all-targets --locked -- -D warnings

say "dependencies: licenses, duplicate versions, sources (cargo deny; deny.toml)"
have cargo-deny || cargo install cargo-deny --locked >&2
# Every published crate of the workspace (not only the root package, whose dependencies are all
# dev-dependencies: checked alone, it would check nothing); not the unpublished test support.
deny=(cargo deny --workspace --exclude oauth2-kit-workspace --exclude oauth2-kit-test-support --log-level error)
"${deny[@]}" check licenses bans sources
# The advisory database lives on GitHub; machines that reach only package registries skip it.
if timeout 20 git ls-remote -q https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  "${deny[@]}" check advisories
else
  echo "advisories: skipped, the RustSec database (github.com/rustsec/advisory-db) is unreachable from here" >&2
fi

say "the core crate depends on no async runtime and no HTTP client"
bash scripts/check-core-deps.sh

say "oidc-provider (real authorization server) on 127.0.0.1"
pidfile=$(mktemp)
cleanup() {
  if [[ -s $pidfile ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  rm -f "$pidfile"
}
trap cleanup EXIT
OIDC_ISSUER=$(bash tests/oidc-provider/start.sh "$pidfile")
export OIDC_ISSUER
echo "issuer: $OIDC_ISSUER" >&2

say "tests"
cargo nextest run --workspace --all-targets --locked --no-fail-fast

say "benchmarks against other libraries, once each in test mode (comparisons/, its own lock file)"
CARGO_TARGET_DIR="$PWD/target" cargo bench --manifest-path comparisons/Cargo.toml --locked --bench client_credentials --bench jwt_validation -- --test

say "doctests (crate docs, README and docs/ pages)"
cargo test --workspace --doc --locked

say "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet --features oauth2-kit/tower,oauth2-kit/signing,oauth2-kit-reqwest/middleware,oauth2-kit-testkit/tls

say "fuzzing: every decoder, \${FUZZ_SECONDS:-30} s per target (scripts/fuzz.sh)"
FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh

say "all tests passed"
