#!/usr/bin/env bash
# The main job with a release binary of another architecture, run under qemu-user against
# the (x86) development server: upload and download of a file above the 100 MiB multipart
# threshold and of a small tree over plain HTTP (the sendfile/splice path), then a smaller
# round trip over TLS (rustls + ring's code for that architecture). Everything that comes
# back is compared byte for byte with the original and with the server's copy.
# A missing emulator or binary is a failure, not a skip (tests/tools/install-deps.sh dist).
#
# usage: tests/tools/emulated-main-job.sh BINARY...    (e.g. dist/cec-4.3.1-linux-arm64)
# env:   CELLS_DEVSERVER (default tests/devserver/target/release/cells-devserver),
#        EMU_BIG_MIB size of the big file (default 120)
set -euo pipefail
cd "$(dirname "$0")/../.."

[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
DEVSERVER="${CELLS_DEVSERVER:-$PWD/tests/devserver/target/release/cells-devserver}"
[ -x "$DEVSERVER" ] || { echo "emulated-main-job: no devserver at $DEVSERVER (make devserver)" >&2; exit 1; }
BIG_MIB="${EMU_BIG_MIB:-120}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cec-emu.XXXXXX")"
SRV_PID=""
stop_server() {
    if [ -n "$SRV_PID" ]; then
        kill "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
        SRV_PID=""
    fi
}
cleanup() {
    local code=$?
    stop_server
    rm -rf "$WORK"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'emulated-main-job: %s\n' "$*"; }

# The emulator for a binary, from its ELF header (empty: it runs natively).
emulator_for() {
    local desc
    desc="$(file -b "$1")"
    case "$desc" in
        *"ARM aarch64"*) echo qemu-aarch64-static ;;
        *"32-bit"*", ARM,"*) echo qemu-arm-static ;;
        *x86-64*) echo "" ;;
        *) log "FAIL - $1: unsupported binary ($desc)" >&2; return 1 ;;
    esac
}

# start_server [--tls]: sets URL and TOKEN; the data lives in $WORK/srv.
start_server() {
    rm -rf "$WORK/srv"
    mkdir -p "$WORK/srv"
    # Gone before the start: the shell truncates them in the child, after this script
    # may already be looking (a previous server's URL must never be read).
    rm -f "$WORK/srv.out" "$WORK/srv.err"
    "$DEVSERVER" serve --root "$WORK/srv" --listen 127.0.0.1:0 "$@" >"$WORK/srv.out" 2>"$WORK/srv.err" &
    SRV_PID=$!
    for _ in $(seq 300); do
        [ -s "$WORK/srv.out" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || { cat "$WORK/srv.err" >&2; log "devserver died" >&2; return 1; }
        sleep 0.1
    done
    URL="$(head -n1 "$WORK/srv.out" | grep -Eo 'https?://[^ ]+')" \
        || { log "the devserver printed no URL" >&2; return 1; }
    TOKEN="$("$DEVSERVER" token --root "$WORK/srv" -u admin)"
}

# Sample data: a file above the multipart threshold and a small tree.
LOCAL="$WORK/local"
mkdir -p "$LOCAL/tree/docs/drafts" "$LOCAL/tree/empty folder"
head -c $((BIG_MIB * 1024 * 1024 + 12345)) /dev/urandom >"$LOCAL/big.bin"
head -c $((3 * 1024 * 1024 + 7)) /dev/urandom >"$LOCAL/medium.bin"
echo "hello from an emulated cec" >"$LOCAL/tree/hello.txt"
printf 'Notes about the été project\n' >"$LOCAL/tree/docs/notes été.txt"
printf 'draft %s\n' $(seq 1 500) >"$LOCAL/tree/docs/drafts/draft-1.md"
head -c 300000 /dev/urandom >"$LOCAL/tree/docs/photo.bin"
: >"$LOCAL/tree/docs/empty.txt"

FAILED=0
# run NAME ARGS...: cec ARGS under the emulator, in environment mode; output in $WORK/out.
run() {
    local name="$1"; shift
    local code=0 t0=$SECONDS
    env -i PATH=/usr/bin:/bin HOME="$WORK/home" CEC_URL="$URL" CEC_TOKEN="$TOKEN" \
        CEC_SKIP_KEYRING=true ${CA:+SSL_CERT_FILE="$CA"} \
        ${EMU:+"$(command -v "$EMU")"} "$BIN" "$@" >"$WORK/out" 2>&1 || code=$?
    if [ "$code" = 0 ]; then
        log "ok   - $name ($((SECONDS - t0)) s)"
    else
        log "FAIL - $name (exit $code)"
        sed 's/^/    /' "$WORK/out"
        FAILED=1
        return 1
    fi
}
same() { # same NAME A B: files or trees A and B are identical
    if diff -r "$2" "$3" >"$WORK/diff" 2>&1; then
        log "ok   - $1"
    else
        log "FAIL - $1"; sed 's/^/    /' "$WORK/diff" | head -20; FAILED=1
    fi
}

for BIN in "$@"; do
    BIN="$(realpath "$BIN")"
    [ -x "$BIN" ] || { log "FAIL - $BIN: no such executable (make dist)"; exit 1; }
    EMU="$(emulator_for "$BIN")"
    if [ -n "$EMU" ] && ! command -v "$EMU" >/dev/null; then
        log "FAIL - $EMU missing: run tests/tools/install-deps.sh dist"; exit 1
    fi
    log "== $(basename "$BIN")${EMU:+ under $EMU}"
    rm -rf "${WORK:?}/home" "${WORK:?}/down"
    mkdir -p "$WORK/home" "$WORK/down"

    # Plain HTTP: the big file in parts (checked in the debug log), the tree.
    CA=""
    start_server
    run "mkdir" mkdir common-files/emu || true
    if run "upload ${BIG_MIB} MiB file" --log debug scp "$LOCAL/big.bin" cells://common-files/emu/; then
        parts="$(sed -n 's/.*Number of parts: *\([0-9]*\).*/\1/p' "$WORK/out")"
        if [ "${parts:-0}" -ge 2 ]; then log "ok   - sent as a multipart upload ($parts parts)"
        else log "FAIL - not a multipart upload (no 'Number of parts' in the debug log)"; FAILED=1; fi
    fi
    run "upload tree" scp "$LOCAL/tree" cells://common-files/emu/ || true
    same "server copy of the big file" "$LOCAL/big.bin" "$WORK/srv/data/common/emu/big.bin"
    same "server copy of the tree" "$LOCAL/tree" "$WORK/srv/data/common/emu/tree"
    run "download ${BIG_MIB} MiB file" scp cells://common-files/emu/big.bin "$WORK/down/" || true
    run "download tree" scp cells://common-files/emu/tree "$WORK/down/" || true
    same "downloaded big file" "$LOCAL/big.bin" "$WORK/down/big.bin"
    same "downloaded tree" "$LOCAL/tree" "$WORK/down/tree"
    stop_server

    # TLS, trusting the test CA.
    rm -rf "${WORK:?}/down"; mkdir -p "$WORK/down"
    start_server --tls
    CA="$WORK/srv/ca.pem"
    run "TLS: upload 3 MiB file" scp "$LOCAL/medium.bin" cells://common-files/ || true
    run "TLS: download it" scp cells://common-files/medium.bin "$WORK/down/" || true
    same "TLS: server copy" "$LOCAL/medium.bin" "$WORK/srv/data/common/medium.bin"
    same "TLS: downloaded file" "$LOCAL/medium.bin" "$WORK/down/medium.bin"
    stop_server
done

if [ "$FAILED" = 0 ]; then log "PASSED"; else log "FAILED"; exit 1; fi
