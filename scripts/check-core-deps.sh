#!/usr/bin/env bash
# Dependency rules: the core crate must not depend (normal dependencies) on an async runtime or
# an HTTP client, and the moka storages must not need tokio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
forbidden='^(tokio|async-std|smol|async-io|async-executor|reqwest|isahc|hyper|hyper-util|curl|curl-sys|ureq|surf) '
tree=$(cargo tree -p oauth2-kit -e normal --prefix none --locked)
if found=$(grep -E "$forbidden" <<<"$tree"); then
  echo "oauth2-kit depends on a runtime or HTTP client:" >&2
  echo "$found" >&2
  exit 1
fi
echo "oauth2-kit: $(sed "s/ (\*)//" <<<"$tree" | sort -u | wc -l) crates in its normal dependency tree, none a runtime or HTTP client"

# The moka storages need no runtime: the crate builds without the tokio binding, on async-std's
# alone, and with neither (storages only).
tokio_free=$(cargo tree -p oauth2-kit-cache-moka -e normal --no-default-features --features async-std --prefix none --locked)
if grep -qE '^(tokio|oauth2-kit-cache-tokio) ' <<<"$tokio_free"; then
  echo "oauth2-kit-cache-moka without its tokio feature still depends on tokio" >&2
  exit 1
fi
cargo check -q -p oauth2-kit-cache-moka --no-default-features --features async-std --locked
cargo check -q -p oauth2-kit-cache-moka --no-default-features --locked
echo "oauth2-kit-cache-moka: builds without tokio (async-std, or storages only)"

# Each published crate builds on its own, with the features it declares: a feature of a shared
# dependency that only another workspace member turns on is a build failure for a user who
# depends on this crate alone (cargo unifies features only across the crates of one command).
for crate in oauth2-kit oauth2-kit-reqwest oauth2-kit-isahc oauth2-kit-testkit oauth2-kit-cache-tokio \
  oauth2-kit-cache-async-std oauth2-kit-cache-moka oauth2-kit-cache-redis; do
  cargo check -q -p "$crate" --locked
done
cargo check -q -p oauth2-kit --features tower --locked
cargo check -q -p oauth2-kit --features signing --locked
cargo check -q -p oauth2-kit-reqwest --features middleware --locked
echo "every published crate builds on its own"
