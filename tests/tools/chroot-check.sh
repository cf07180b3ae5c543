#!/usr/bin/env bash
# Prove that a static cec runs in an empty chroot holding only the binary, /etc/hosts and a
# CA file: it resolves a host name from /etc/hosts (no NSS libraries, no resolv.conf) and
# talks TLS to a local development server (--tls) trusting its CA through SSL_CERT_FILE.
# It also checks that an untrusted certificate is refused.
#
# usage: tests/tools/chroot-check.sh path/to/static/cec
# env:   CELLS_DEVSERVER (default tests/devserver/target/release/cells-devserver)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN="${1:?usage: chroot-check.sh CEC_BINARY}"
DEVSERVER="${CELLS_DEVSERVER:-$PWD/tests/devserver/target/release/cells-devserver}"
[ -x "$DEVSERVER" ] || { echo "chroot-check: no devserver at $DEVSERVER (make devserver)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cec-chroot.XXXXXX")"
SRV_PID=""
cleanup() {
    local code=$?
    if [ -n "$SRV_PID" ]; then
        kill "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$code"
}
trap cleanup EXIT

# The server, with TLS, on loopback.
mkdir -p "$WORK/srv"
"$DEVSERVER" serve --root "$WORK/srv" --listen 127.0.0.1:0 --tls >"$WORK/srv.out" 2>"$WORK/srv.err" &
SRV_PID=$!
for _ in $(seq 300); do
    [ -s "$WORK/srv.out" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$WORK/srv.err" >&2; echo "chroot-check: devserver died" >&2; exit 1; }
    sleep 0.1
done
URL="$(head -n1 "$WORK/srv.out" | grep -o 'https://[^ ]*')" || { echo "chroot-check: no https URL from devserver" >&2; cat "$WORK/srv.out" "$WORK/srv.err" >&2; exit 1; }
PORT="${URL##*:}"; PORT="${PORT%%/*}"
TOKEN="$("$DEVSERVER" token --root "$WORK/srv" -u admin)"

# The empty chroot: the binary, /etc/hosts, the CA, an empty HOME. Nothing else.
ROOT="$WORK/root"
mkdir -p "$ROOT/etc" "$ROOT/home" "$ROOT/tmp"
cp "$BIN" "$ROOT/cec"
cp "$WORK/srv/ca.pem" "$ROOT/ca.pem"
printf '127.0.0.1\tlocalhost\n127.0.0.1\tcells-chroot.test\n' >"$ROOT/etc/hosts"
echo "chroot-check: chroot content:"; (cd "$ROOT" && find . | sort | sed 's/^/  /')

run_chroot() {
    # Fresh, minimal environment; the token goes through the environment, never argv.
    local cmd=("$(command -v chroot)" "$ROOT" /cec "$@")
    if [ "$(id -u)" != 0 ]; then cmd=("$(command -v unshare)" -r "${cmd[@]}"); fi
    env -i HOME=/home PATH=/ CEC_TOKEN="$TOKEN" CEC_SKIP_KEYRING=true ${CHROOT_ENV:-} "${cmd[@]}"
}

fail=0
check() { # check NAME EXPECTED_CODE ARGS...
    local name="$1" want="$2"; shift 2
    local code=0
    run_chroot "$@" >"$WORK/out" 2>"$WORK/err" || code=$?
    if [ "$code" = "$want" ]; then
        echo "chroot-check: ok   - $name (exit $code)"
    else
        echo "chroot-check: FAIL - $name (exit $code, wanted $want)"
        sed 's/^/    stdout: /' "$WORK/out"; sed 's/^/    stderr: /' "$WORK/err"
        fail=1
    fi
}

# 1. It runs at all.
check "runs (cec version)" 0 version
# 2. Name from /etc/hosts + TLS with the CA from SSL_CERT_FILE (cert is for localhost).
CHROOT_ENV="SSL_CERT_FILE=/ca.pem" check "resolve localhost via /etc/hosts + TLS (SSL_CERT_FILE)" 0 \
    --url "https://localhost:$PORT" ls
# 3. A name only /etc/hosts knows (TLS name check skipped: the cert does not name it).
CHROOT_ENV="SSL_CERT_FILE=/ca.pem" check "resolve a name only in /etc/hosts" 0 \
    --url "https://cells-chroot.test:$PORT" --skip-verify ls
# 4. Without the CA the self-signed certificate must be refused (verification is real).
check "untrusted certificate refused" 1 --url "https://localhost:$PORT" ls

if [ "$fail" = 0 ]; then
    echo "chroot-check: PASSED"
else
    echo "chroot-check: FAILED (server log: $(tail -n 5 "$WORK/srv.err" | tr '\n' ' '))"
    exit 1
fi
