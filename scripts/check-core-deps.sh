#!/usr/bin/env bash
# The core crate must not depend (normal dependencies) on an async runtime or an HTTP client.
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
