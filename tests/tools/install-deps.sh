#!/usr/bin/env bash
# Install what `make test` / `make bench` / `make demo` need, only when missing.
#   Debian packages: tmux, bash, zsh, fish (completion tests),
#                    gnome-keyring, dbus-x11, libsecret-tools, dbus, file, curl,
#                    strace (kills cec at a chosen system call: tests/suite/fault_matrix.rs),
#                    time (GNU time: peak memory of cec in tests), python3-venv,
#                    nodejs/npm (only if node is absent), chromium
#   npm:  @stoplight/prism-cli (pinned) into .tools/prism;
#         oidc-provider and playwright-core (pinned) into .tools/browser (tests/suite/auth_browser.rs)
#   PyPI: awscli (pinned, brings botocore) and moto[server] (pinned, the second S3
#         implementation of src/s3/moto_test.rs) into the venv .tools/py
#   bench: rclone (Debian) for `make bench`
#   dist: for `make dist` and the emulated tests: cross linkers + static C libraries
#         (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf, libc6-dev-*-cross), qemu-user-static,
#         and each target's Rust standard library: `rustup target add` when rustup can
#         download it, else Debian's rustc-web + libstd-rust-web-dev:<arch> (tests/tools/cross.sh)
# Usage: tests/tools/install-deps.sh [apt|prism|browser|py|bench|dist|all]...
#        (default: all = apt prism browser py dist)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/tools/cross.sh

PRISM_VERSION="${PRISM_VERSION:-5.14.2}"
AWSCLI_VERSION="${AWSCLI_VERSION:-1.45.11}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
# oidc-provider 8.x: the 9.x line no longer supports Node.js 20, the node of this machine.
OIDC_PROVIDER_VERSION="${OIDC_PROVIDER_VERSION:-8.8.1}"
PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.65.1}"
TOOLS="$PWD/.tools"

log() { printf '[deps] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else log "need root to run: $*"; return 1
    fi
}

apt_deps() {
    local missing=()
    command -v tmux >/dev/null || missing+=(tmux)
    command -v bash >/dev/null || missing+=(bash)
    command -v zsh >/dev/null || missing+=(zsh)
    command -v fish >/dev/null || missing+=(fish)
    command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
    command -v dbus-launch >/dev/null || missing+=(dbus-x11)
    command -v dbus-run-session >/dev/null || missing+=(dbus)
    command -v secret-tool >/dev/null || missing+=(libsecret-tools)
    command -v file >/dev/null || missing+=(file)
    command -v strace >/dev/null || missing+=(strace)
    command -v curl >/dev/null || missing+=(curl)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v strip >/dev/null || missing+=(binutils)
    command -v chroot >/dev/null || missing+=(coreutils)
    command -v python3 >/dev/null || missing+=(python3)
    if command -v python3 >/dev/null && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        missing+=(python3-venv)
    fi
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if ! command -v apt-get >/dev/null; then
        log "missing ${missing[*]} and no apt-get: install them by hand"
        return 1
    fi
    log "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

prism_deps() {
    local bin="$TOOLS/prism/node_modules/.bin/prism"
    if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$PRISM_VERSION" ]; then
        return 0
    fi
    log "npm install @stoplight/prism-cli@$PRISM_VERSION into .tools/prism"
    mkdir -p "$TOOLS/prism"
    npm install --no-audit --no-fund --loglevel=error --prefix "$TOOLS/prism" \
        "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null
    "$bin" --version >/dev/null
}

# The npm packages of the browser tests (playwright-core brings no browser: the tests use
# Debian's chromium).
browser_deps() {
    local dir="$TOOLS/browser/node_modules"
    if [ "$(npm_version "$dir/oidc-provider")" = "$OIDC_PROVIDER_VERSION" ] &&
        [ "$(npm_version "$dir/playwright-core")" = "$PLAYWRIGHT_VERSION" ]; then
        return 0
    fi
    log "npm install oidc-provider@$OIDC_PROVIDER_VERSION playwright-core@$PLAYWRIGHT_VERSION into .tools/browser"
    mkdir -p "$TOOLS/browser"
    npm install --no-audit --no-fund --loglevel=error --prefix "$TOOLS/browser" \
        "oidc-provider@$OIDC_PROVIDER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
}

# The "version" of an installed npm package (empty when missing).
npm_version() {
    [ -f "$1/package.json" ] || return 0
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$1/package.json"
}

py_deps() {
    local py="$TOOLS/py/bin/python3"
    if [ -x "$py" ] && "$py" -c 'import botocore, boto3, moto.server' 2>/dev/null &&
        [ -x "$TOOLS/py/bin/aws" ]; then
        return 0
    fi
    log "pip install awscli==$AWSCLI_VERSION moto[server]==$MOTO_VERSION into .tools/py"
    [ -x "$py" ] || python3 -m venv "$TOOLS/py"
    # One resolution for both: moto's boto3 must match the botocore awscli pins.
    "$TOOLS/py/bin/pip" install -q --disable-pip-version-check \
        "awscli==$AWSCLI_VERSION" "moto[server]==$MOTO_VERSION"
    "$py" -c 'import botocore, boto3, moto.server'
}

bench_deps() {
    command -v rclone >/dev/null && return 0
    command -v apt-get >/dev/null || { log "rclone missing and no apt-get"; return 1; }
    log "apt-get install rclone"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rclone >/dev/null
}

apt_install() {
    command -v apt-get >/dev/null || { log "missing $* and no apt-get: install them by hand"; return 1; }
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Each target's standard library: rustup's if it can download it, else Debian's rustc-web
# (installed as /usr/bin/cargo and /usr/bin/rustc, next to rustup's) with the foreign
# architectures' libstd-rust-web-dev, in one apt-get run.
rust_targets() {
    local a deb=() want="${CEC_DIST_RUST:-auto}" rustup=0
    [ "$want" != debian ] && command -v rustup >/dev/null && rustup=1
    for a in "${DIST_ARCHES[@]}"; do
        arch_info "$a"
        toolchain_for "$TRIPLE" >/dev/null && continue
        if [ "$rustup" = 1 ]; then
            log "rustup target add $TRIPLE"
            if timeout 300 rustup target add "$TRIPLE" >&2 && toolchain_for "$TRIPLE" >/dev/null; then
                continue
            fi
            # Unreachable or refused: do not wait for it again for the next target.
            log "rustup could not add $TRIPLE: using Debian's rustc-web"
            rustup=0
        fi
        [ "$want" != rustup ] || { log "no $TRIPLE for rustup"; return 1; }
        deb+=("$a")
    done
    [ "${#deb[@]}" -gt 0 ] || return 0
    if grep -q 'ok installed' <<<"$(dpkg-query -W -f='${Status}' rustup 2>/dev/null)"; then
        log "Debian's rustup package conflicts with rustc-web: install the targets with rustup by hand"
        return 1
    fi
    local pkgs=(rustc-web cargo-web)
    for a in "${deb[@]}"; do
        arch_info "$a"
        if [ "$DEB_ARCH" != "$(dpkg --print-architecture)" ] \
            && ! grep -qx "$DEB_ARCH" <<<"$(dpkg --print-foreign-architectures)"; then
            log "dpkg --add-architecture $DEB_ARCH"
            as_root dpkg --add-architecture "$DEB_ARCH"
        fi
        pkgs+=("libstd-rust-web-dev:$DEB_ARCH")
    done
    apt_install "${pkgs[@]}"
    for a in "${deb[@]}"; do
        arch_info "$a"
        toolchain_for "$TRIPLE" >/dev/null || { log "still no standard library for $TRIPLE"; return 1; }
    done
}

dist_deps() {
    local missing=() a
    command -v file >/dev/null || missing+=(file)
    command -v strip >/dev/null || missing+=(binutils)
    for a in "${DIST_ARCHES[@]}"; do
        mapfile -t -O "${#missing[@]}" missing < <(arch_packages "$a")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
        apt_install "${missing[@]}"
    fi
    rust_targets
}

[ $# -eq 0 ] && set -- all
for what in "$@"; do
    case "$what" in
        apt) apt_deps ;;
        prism) prism_deps ;;
        browser) browser_deps ;;
        py) py_deps ;;
        bench) bench_deps ;;
        dist) dist_deps ;;
        all) apt_deps; prism_deps; browser_deps; py_deps; dist_deps ;;
        *) log "unknown: $what"; exit 2 ;;
    esac
done
