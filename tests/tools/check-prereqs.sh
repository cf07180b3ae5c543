#!/usr/bin/env bash
# Check what `make test` (or `make demo`) needs before any long build or package install.
# Prints one line per missing item, saying what is missing and how to get it, and exits 1
# if anything is missing (0 otherwise; notes about what `make test` will install are
# printed too). Mirrors the decisions of tests/tools/install-deps.sh.
#
# usage: tests/tools/check-prereqs.sh [test|demo]     (default: test)
# env:   SPEC              spec file `make test` validates against
#                          (default tests/spec/cells-rest.swagger.json)
#        CEC_MIN_FREE_GIB  free disk space wanted in the repository, GiB (default 6 for
#                          test, 2 for demo; what target/ and .tools/ already hold counts)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/tools/cross.sh

what="${1:-test}"
case "$what" in
    test | demo) ;;
    *) echo "usage: $0 [test|demo]" >&2; exit 2 ;;
esac

missing=0
miss() { printf 'check-prereqs: %s\n' "$*" >&2; missing=$((missing + 1)); }
note() { printf 'check-prereqs: note: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
# ver_ge A B: version A >= version B
ver_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }

# --- Rust toolchain ---------------------------------------------------------------------
msrv="$(sed -n 's/^rust-version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)"
msrv="${msrv:-1.85}"
if ! have cargo || ! have rustc; then
    miss "cargo/rustc not found: install Rust >= $msrv (rustup: https://rustup.rs), then open a new shell"
else
    rv="$(rustc --version 2>/dev/null | awk '{print $2}')"
    if [ -z "$rv" ] || ! ver_ge "${rv%%-*}" "$msrv"; then
        miss "rustc ${rv:-?} is older than $msrv (rust-version in Cargo.toml): rustup update stable"
    fi
fi
if ! have cc; then
    miss "no C compiler/linker 'cc' (Rust links with it, ring compiles C): apt-get install gcc libc6-dev"
fi

# --- disk space --------------------------------------------------------------------------
want_gib="${CEC_MIN_FREE_GIB:-$([ "$what" = test ] && echo 6 || echo 2)}"
used_kib=0
for d in target tests/devserver/target .tools; do
    [ -d "$d" ] && used_kib=$((used_kib + $(du -sk "$d" 2>/dev/null | awk '{print $1}')))
done
need_kib=$((want_gib * 1024 * 1024 - used_kib))
[ "$need_kib" -lt 524288 ] && need_kib=524288
avail_kib="$(df -Pk . 2>/dev/null | awk 'NR==2 {print $4}')"
if [ -n "$avail_kib" ] && [ "$avail_kib" -lt "$need_kib" ]; then
    miss "not enough disk space: $((avail_kib / 1024)) MiB free here, about $((need_kib / 1024)) MiB needed for builds and test tools: free some space or set CEC_MIN_FREE_GIB"
fi

if [ "$what" = demo ]; then
    have diff || miss "diff not found (the demo compares downloads): apt-get install diffutils"
    if [ "$missing" -gt 0 ]; then
        echo "check-prereqs: $missing missing for make demo" >&2
        exit 1
    fi
    echo "check-prereqs: make demo prerequisites OK" >&2
    exit 0
fi

# --- make test only ----------------------------------------------------------------------
spec="${SPEC:-tests/spec/cells-rest.swagger.json}"
[ -f "$spec" ] || miss "official REST spec not found at $spec: restore tests/spec/cells-rest.swagger.json (git checkout -- tests/spec) or pass SPEC=path"

if have cargo; then
    cargo fmt --version >/dev/null 2>&1 || miss "rustfmt missing (make lint): rustup component add rustfmt"
    cargo clippy --version >/dev/null 2>&1 || miss "clippy missing (make lint): rustup component add clippy"
fi
if have rustc; then
    sysroot="$(rustc --print sysroot 2>/dev/null)"
    if [ ! -d "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib" ]; then
        miss "Rust target x86_64-unknown-linux-gnu missing (make static): rustup target add x86_64-unknown-linux-gnu"
    fi
fi
if have cc; then
    libc_a="$(cc -print-file-name=libc.a 2>/dev/null)"
    if [ "$libc_a" = libc.a ] || [ ! -f "$libc_a" ]; then
        miss "static glibc (libc.a) missing (make static): apt-get install libc6-dev"
    fi
fi

# Debian packages that install-deps.sh installs when their command is missing.
pkgs=()
have tmux || pkgs+=(tmux)
have bash || pkgs+=(bash)
have zsh || pkgs+=(zsh)
have fish || pkgs+=(fish)
have gnome-keyring-daemon || pkgs+=(gnome-keyring)
have dbus-launch || pkgs+=(dbus-x11)
have dbus-run-session || pkgs+=(dbus)
have secret-tool || pkgs+=(libsecret-tools)
have file || pkgs+=(file)
have curl || pkgs+=(curl)
[ -x /usr/bin/time ] || pkgs+=(time)
have strip || pkgs+=(binutils)
have chroot || pkgs+=(coreutils)
have python3 || pkgs+=(python3)
if have python3 && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then pkgs+=(python3-venv); fi
have node || pkgs+=(nodejs)
have npm || pkgs+=(npm)
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
# make dist and the emulated tests: cross linkers, static C libraries, qemu-user.
for a in "${DIST_ARCHES[@]}"; do
    mapfile -t -O "${#pkgs[@]}" pkgs < <(arch_packages "$a")
done
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sed '/^$/d' | sort -u)
if [ "${#pkgs[@]}" -gt 0 ]; then
    if ! have apt-get; then
        miss "missing ${pkgs[*]} (Debian package names) and no apt-get: install them with your package manager"
    elif [ "$(id -u)" != 0 ] && ! { have sudo && sudo -n true 2>/dev/null; }; then
        miss "missing ${pkgs[*]}: run make test as root or with passwordless sudo, or first: sudo apt-get install ${pkgs[*]}"
    else
        note "make test will apt-get install: ${pkgs[*]}"
    fi
fi

# Each release target's Rust standard library (tests/tools/cross.sh).
for a in "${DIST_ARCHES[@]}"; do
    arch_info "$a"
    toolchain_for "$TRIPLE" >/dev/null 2>&1 && continue
    if have rustup; then
        note "make test will rustup target add $TRIPLE (if rustup cannot download it: Debian's rustc-web + libstd-rust-web-dev:$DEB_ARCH)"
    elif have apt-get; then
        note "make test will apt-get install Debian's rustc-web + libstd-rust-web-dev:$DEB_ARCH (for $TRIPLE)"
    else
        miss "no Rust standard library for $TRIPLE (make dist): rustup target add $TRIPLE"
    fi
done

if have node; then
    nv="$(node --version 2>/dev/null | tr -d v)"
    if [ -n "$nv" ] && ! ver_ge "$nv" 20.0.0; then
        miss "Node.js $nv is too old for Prism 5.14.2 and playwright-core 1.65 (the browser tests): install Node.js >= 20"
    fi
fi
[ -d .tools/browser/node_modules/oidc-provider ] || note "make test will npm install oidc-provider and playwright-core into .tools/browser (needs the npm registry)"
[ -x .tools/prism/node_modules/.bin/prism ] || note "make test will npm install @stoplight/prism-cli into .tools/prism (needs the npm registry)"
[ -x .tools/py/bin/aws ] && .tools/py/bin/python3 -c 'import moto.server' 2>/dev/null ||
    note "make test will pip install awscli and moto[server] into .tools/py (needs PyPI)"

# The chroot check (make static) needs root, or unprivileged user namespaces.
if [ "$(id -u)" != 0 ]; then
    if ! have unshare || ! unshare -r true 2>/dev/null; then
        miss "the chroot check of make static needs root or unprivileged user namespaces (unshare -r): run as root, or enable user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
    fi
fi

if [ "$missing" -gt 0 ]; then
    echo "check-prereqs: $missing missing for make test" >&2
    exit 1
fi
echo "check-prereqs: make test prerequisites OK" >&2
