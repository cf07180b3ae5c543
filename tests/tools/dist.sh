#!/usr/bin/env bash
# `make dist`: fully static, stripped release binaries of cec for linux amd64, arm64 and arm
# (armv7, hard float), as OUT/cec-<version>-linux-<arch>, and OUT/SHA256SUMS over them.
# Static: glibc linked in (+crt-static, .cargo/config.toml and RUSTFLAGS below), nothing to
# install next to the binary. Each binary is checked: `file` says statically linked, at
# most CEC_DIST_MAX_BYTES (6 MiB), and `cec version` runs (the ARM ones under qemu-user).
# Which toolchain builds each target: tests/tools/cross.sh (rustup's target if it is there,
# else Debian's rustc-web; install with tests/tools/install-deps.sh dist).
#
# usage: tests/tools/dist.sh [--out DIR] [ARCH...]   (ARCH: amd64 arm64 arm; default all,
#        DIR default dist). Previous cec-* files and SHA256SUMS in DIR are removed first.
# env:   CEC_DIST_RUST=auto|rustup|debian, CEC_DIST_MAX_BYTES (default 6291456)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/tools/cross.sh

OUT=dist
if [ "${1:-}" = --out ]; then
    OUT="${2:?--out needs a directory}"
    shift 2
fi
[ $# -gt 0 ] || set -- "${DIST_ARCHES[@]}"
MAX="${CEC_DIST_MAX_BYTES:-6291456}"
VERSION="$(crate_version)"
[ -n "$VERSION" ] || { echo "dist: no version in Cargo.toml" >&2; exit 1; }

log() { printf 'dist: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

bad=0
for a in "$@"; do need_arch "$a" || bad=1; done
[ "$bad" = 0 ] || fail "missing tools (above)"

# One cargo run per toolchain, all its targets at once (their LTO steps run in parallel).
# RUSTFLAGS reach only the target crates because --target is given: build scripts and
# proc macros stay dynamic. The same flags for every target: the x86_64 artefact is the
# one `make static` builds.
declare -A GROUP=()
for a in "$@"; do
    arch_info "$a"
    tc="$(toolchain_for "$TRIPLE")"
    GROUP[$tc]+=" --target $TRIPLE"
done
for tc in "${!GROUP[@]}"; do
    cargo_cmd "$tc"
    log "building${GROUP[$tc]} with $tc's $("$RUSTC_BIN" --version)"
    # shellcheck disable=SC2086  # GROUP holds words
    RUSTFLAGS="-C target-feature=+crt-static" "${CARGO_CMD[@]}" build --release --locked ${GROUP[$tc]}
done

mkdir -p "$OUT"
rm -f "$OUT"/cec-*-linux-* "$OUT/SHA256SUMS"
names=()
for a in "$@"; do
    arch_info "$a"
    src="target/$TRIPLE/release/cec"
    dst="$OUT/cec-$VERSION-linux-$a"
    cp "$src" "$dst"
    "${CROSS}strip" "$dst"
    desc="$(file -b "$dst")"
    log "$a: $desc"
    grep -Eq 'statically linked|static-pie linked' <<<"$desc" || fail "$dst is not statically linked"
    size="$(stat -c %s "$dst")"
    log "$a: $size bytes ($((size / 1024)) KiB), budget $MAX"
    [ "$size" -le "$MAX" ] || fail "$dst is over the size budget ($size > $MAX bytes)"
    ver="$(env -i ${QEMU:+"$(command -v "$QEMU")"} "$dst" version)" || fail "$dst version failed"
    grep -q "Version:.*$VERSION" <<<"$ver" || fail "$dst version says: $ver"
    log "$a: runs${QEMU:+ (under $QEMU)}: $(grep 'OS/Arch' <<<"$ver" | tr -s ' \t' ' ')"
    names+=("$(basename "$dst")")
done
(cd "$OUT" && sha256sum "${names[@]}" >SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
log "wrote $OUT/SHA256SUMS:"
sed 's/^/  /' "$OUT/SHA256SUMS" >&2
