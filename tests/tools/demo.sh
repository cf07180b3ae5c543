#!/usr/bin/env bash
# `make demo`: start the development server on a temporary directory, create a token, and
# walk through the main job with the real cec binary, printing every command.
#
# env: CEC_BIN (default target/release/cec), CELLS_DEVSERVER (default
#      tests/devserver/target/release/cells-devserver), DEMO_KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."

CEC_BIN="${CEC_BIN:-$PWD/target/release/cec}"
DEVSERVER="${CELLS_DEVSERVER:-$PWD/tests/devserver/target/release/cells-devserver}"
for b in "$CEC_BIN" "$DEVSERVER"; do
    [ -x "$b" ] || { echo "demo: $b is missing (run: make demo)" >&2; exit 1; }
done

if [ -t 1 ]; then B=$'\e[1m'; D=$'\e[2m'; G=$'\e[32m'; Y=$'\e[33m'; R=$'\e[31m'; N=$'\e[0m'
else B=; D=; G=; Y=; R=; N=; fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cec-demo.XXXXXX")"
SRV_PID=""
cleanup() {
    local code=$?
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        echo "${D}# stopping the server${N}"
        kill "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
    fi
    if [ "${DEMO_KEEP:-}" = 1 ]; then echo "${D}# kept $WORK${N}"; else rm -rf "$WORK"; fi
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }

# --- the server ----------------------------------------------------------------------------
say "Start the development server (a stand-in for a Cells server) on a temporary directory"
mkdir -p "$WORK/server"
"$DEVSERVER" serve --root "$WORK/server" --listen 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 300); do
    [ -s "$WORK/server.out" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "demo: server died" >&2; exit 1; }
    sleep 0.1
done
URL="$(head -n1 "$WORK/server.out" | grep -Eo 'https?://[^ ]+')" \
    || { echo "demo: the server printed no URL" >&2; cat "$WORK/server.log" >&2; exit 1; }
echo "server: $URL (data in $WORK/server)"

say "Create a personal access token for the user 'admin'"
echo "\$ cells-devserver token --root $WORK/server -u admin"
TOKEN="$("$DEVSERVER" token --root "$WORK/server" -u admin)"
echo "${D}(token kept in the environment, not shown)${N}"

# cec talks to the server in "environment mode": no account is saved, nothing touches the
# real HOME. (With an account: cec config add token --url URL, then just `cec ls`.)
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config"
mkdir -p "$HOME"
unset DBUS_SESSION_BUS_ADDRESS CEC_CONFIG CEC_LOGIN CEC_PASSWORD
export CEC_URL="$URL" CEC_TOKEN="$TOKEN" CEC_SKIP_KEYRING=true
echo "\$ export CEC_URL=$URL CEC_TOKEN=<token>"

# --- sample files --------------------------------------------------------------------------
LOCAL="$WORK/local"
mkdir -p "$LOCAL/project/docs/drafts" "$LOCAL/project/images" "$LOCAL/project/empty folder"
echo "Hello from cec's demo" >"$LOCAL/hello.txt"
printf 'Notes about the été project\n' >"$LOCAL/project/docs/notes été.txt"
printf 'draft %s\n' $(seq 1 200) >"$LOCAL/project/docs/drafts/draft-1.md"
head -c 300000 /dev/urandom >"$LOCAL/project/images/photo.bin"
# Above the 100 MiB multipart threshold: sent in parts, fetched as parallel ranges.
head -c $((120 * 1024 * 1024)) /dev/urandom >"$LOCAL/project/images/video.bin"
: >"$LOCAL/project/docs/empty.txt"
mkdir -p "$WORK/download"

# --- the walk-through -----------------------------------------------------------------------
ran=0 failed=0
declare -A OK=()

# step KEY "explanation" cec ARGS...  — runs and prints it; a failure is counted.
step() {
    local key="$1" what="$2"; shift 2
    say "$what"
    printf '%s$ cec %s%s\n' "$B" "$*" "$N"
    local code=0
    "$CEC_BIN" "$@" 2>"$WORK/err" || code=$?
    cat "$WORK/err" >&2
    if [ "$code" = 0 ]; then
        ran=$((ran + 1)); OK[$key]=1
    else
        echo "${R}(failed with exit code $code)${N}"
        failed=$((failed + 1))
    fi
}
need() { for k in "$@"; do [ -n "${OK[$k]:-}" ] || return 1; done; }

step ls-ws "List the workspaces you can access" ls
step mkdir "Make a folder (parents are created as needed)" mkdir common-files/demo/inbox
step up-file "Upload a file" scp "$LOCAL/hello.txt" cells://common-files/demo/
step up-tree "Upload a folder tree" scp "$LOCAL/project" cells://common-files/demo/
step ls-d "List with details" ls -d common-files/demo
step ls-tree "List the uploaded tree" ls common-files/demo/project/docs
step down-file "Download the file back" scp cells://common-files/demo/hello.txt "$WORK/download/"
step down-tree "Download the tree back" scp cells://common-files/demo/project "$WORK/download/"

if need down-file down-tree; then
    say "Compare what came back with the originals"
    echo "\$ diff -r local download"
    if diff "$LOCAL/hello.txt" "$WORK/download/hello.txt" && diff -r "$LOCAL/project" "$WORK/download/project"; then
        echo "${G}identical${N}"; ran=$((ran + 1))
    else
        echo "${R}the downloaded files differ${N}"; failed=$((failed + 1))
    fi
else
    say "Compare what came back with the originals"
    echo "${R}(not compared: a download failed)${N}"; failed=$((failed + 1))
fi

step mv "Move (rename) a file on the server" mv common-files/demo/hello.txt common-files/demo/inbox/hello-moved.txt
step cp "Copy a folder on the server" cp common-files/demo/project common-files/demo/project-copy
step ls-after "See the result" ls common-files/demo
step share "Share a file with a public link" share common-files/demo/inbox/hello-moved.txt
step rm "Remove the demo folder (to the recycle bin; -f: no confirmation)" rm -f common-files/demo
step ls-end "The workspace after removal" ls common-files

say "Done"
echo "commands run: $ran, failed: $failed"
[ "$failed" = 0 ]
