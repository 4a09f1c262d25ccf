#!/usr/bin/env bash
# Start the test authorization server (server.mjs) in the background.
#
# Usage: start.sh PIDFILE        (env PORT optional; default 0 = ephemeral port)
# stdout: the issuer URL only, e.g. http://127.0.0.1:41234
# PIDFILE receives the node process id (stop it with: kill "$(cat PIDFILE)").
# The server log (its stdout + stderr) goes to a temp dir, whose path is written
# to stderr. Exits non-zero, with the tail of the log on stderr, if the server
# is not ready within 30 s.
set -euo pipefail

pidfile=${1:?usage: start.sh PIDFILE}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

# (Re)install when node_modules is missing or was installed from another lockfile.
stamp=node_modules/.kit-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules/oidc-provider || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  npm ci --no-audit --no-fund >&2
  echo "$want" >"$stamp"
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/oidc-provider.XXXXXX")
log=$logdir/server.log
echo "oidc-provider log: $log" >&2

node server.mjs </dev/null >"$log" 2>&1 &
pid=$!
echo "$pid" >"$pidfile"

fail() {
  echo "start.sh: $1" >&2
  kill "$pid" 2>/dev/null || true
  echo "---- tail of $log ----" >&2
  tail -n 40 "$log" >&2 || true
  exit 1
}

for _ in $(seq 1 300); do # 300 x 0.1 s = 30 s
  if issuer=$(sed -n 's/^READY //p' "$log") && [[ -n $issuer ]]; then
    echo "$issuer"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || fail "server exited before becoming ready"
  sleep 0.1
done
fail "server not ready after 30 s"
