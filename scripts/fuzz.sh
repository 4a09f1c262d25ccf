#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (FUZZ_SECONDS each, default 30),
# seeded from fuzz/seeds/<target> (read only; new inputs go to a temporary corpus). Fails on any
# crash, leaving the crashing input under fuzz/artifacts/<target>/. Prints executions per target.
#
# The machine's one (stable) toolchain builds the sanitizer-instrumented targets with
# RUSTC_BOOTSTRAP=1. cargo-fuzz is installed if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${FUZZ_SECONDS:-30}
have() { command -v "$1" >/dev/null 2>&1; }
have cargo-fuzz || cargo install cargo-fuzz --locked >&2
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list --fuzz-dir fuzz)
cargo fuzz build --fuzz-dir fuzz >&2
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
printf '%-22s %12s %10s\n' target executions "exec/s"
for target in $targets; do
  mkdir -p "$corpus/$target"
  log="$corpus/$target.log"
  if ! cargo fuzz run --fuzz-dir fuzz "$target" "$corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz target $target crashed:" >&2
    grep -A3 -m1 'panicked at' "$log" >&2 || true
    tail -40 "$log" >&2
    exit 1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  printf '%-22s %12s %10s\n' "$target" "$runs" "$(( runs / seconds ))"
done
