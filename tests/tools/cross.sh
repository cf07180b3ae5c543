# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Sourced by dist.sh, emulated-unit-tests.sh, install-deps.sh and check-prereqs.sh: the
# release architectures and what builds and runs each of them.
#
# Architecture names are the update server's (amd64, arm64, arm). A target's standard
# library comes from one of two toolchains:
#   rustup  the cargo/rustc on PATH (rustup's, with `rustup target add TRIPLE`)
#   debian  Debian's rustc-web/cargo-web packages, installed as /usr/bin/rustc and
#           /usr/bin/cargo, with the per-architecture libstd-rust-web-dev:<debian arch>
# CEC_DIST_RUST=rustup|debian forces one; by default (auto) the first that has the target.

DIST_ARCHES=(amd64 arm64 arm)

# arch_info ARCH: sets TRIPLE, DEB_ARCH, CROSS (binutils/gcc prefix, empty: native), QEMU
# (emulator, empty: native); returns 1 for an unknown name.
arch_info() {
    case "$1" in
        amd64) TRIPLE=x86_64-unknown-linux-gnu DEB_ARCH=amd64 CROSS='' QEMU='' ;;
        arm64) TRIPLE=aarch64-unknown-linux-gnu DEB_ARCH=arm64 CROSS=aarch64-linux-gnu- QEMU=qemu-aarch64-static ;;
        arm) TRIPLE=armv7-unknown-linux-gnueabihf DEB_ARCH=armhf CROSS=arm-linux-gnueabihf- QEMU=qemu-arm-static ;;
        *) return 1 ;;
    esac
}

# Debian packages (one a line) missing for an architecture: its cross linker, static C
# library and emulator.
arch_packages() {
    arch_info "$1" || return 1
    if [ -z "$CROSS" ]; then
        local libc_a
        libc_a="$(cc -print-file-name=libc.a 2>/dev/null)" || libc_a=""
        [ -f "$libc_a" ] || echo libc6-dev
        return 0
    fi
    local gcc="gcc-${CROSS%-}" libc="libc6-dev-$DEB_ARCH-cross"
    command -v "${CROSS}gcc" >/dev/null || echo "$gcc"
    [ -f "/usr/${CROSS%-}/lib/libc.a" ] || echo "$libc"
    command -v "$QEMU" >/dev/null || echo qemu-user-static
}

# has_std RUSTC TRIPLE: RUSTC has the standard library of TRIPLE.
has_std() {
    local dir
    dir="$("$1" --print target-libdir --target "$2" 2>/dev/null)" || return 1
    compgen -G "$dir/libstd-*.rlib" >/dev/null
}

# toolchain_for TRIPLE: prints rustup or debian, the toolchain that builds TRIPLE, or
# returns 1 when none does.
toolchain_for() {
    local want="${CEC_DIST_RUST:-auto}"
    case "$want" in auto | rustup | debian) ;; *)
        echo "CEC_DIST_RUST must be auto, rustup or debian (not '$want')" >&2; return 1 ;;
    esac
    if [ "$want" != debian ] && command -v rustc >/dev/null && has_std rustc "$1"; then
        echo rustup
    elif [ "$want" != rustup ] && [ -x /usr/bin/cargo ] && has_std /usr/bin/rustc "$1"; then
        echo debian
    else
        return 1
    fi
}

# cargo_cmd TOOLCHAIN: sets CARGO_CMD, the command line that runs that toolchain's cargo,
# and RUSTC_BIN, its compiler.
cargo_cmd() {
    if [ "$1" = debian ]; then
        RUSTC_BIN=/usr/bin/rustc
        CARGO_CMD=(env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo)
    else
        RUSTC_BIN=rustc
        CARGO_CMD=("${CARGO:-cargo}")
    fi
}

# need_arch ARCH: what building and running ARCH needs is here; else one line saying how
# to get it, and 1.
need_arch() {
    arch_info "$1" || { echo "unknown architecture '$1' (one of: ${DIST_ARCHES[*]})" >&2; return 1; }
    local bad=0
    if ! toolchain_for "$TRIPLE" >/dev/null; then
        echo "no Rust standard library for $TRIPLE: run tests/tools/install-deps.sh dist (rustup target add $TRIPLE, or Debian's rustc-web + libstd-rust-web-dev:$DEB_ARCH)" >&2
        bad=1
    fi
    if [ -n "$CROSS" ]; then
        local p
        for p in "${CROSS}gcc" "${CROSS}strip" "$QEMU"; do
            command -v "$p" >/dev/null || { echo "$p missing: run tests/tools/install-deps.sh dist" >&2; bad=1; }
        done
    fi
    return "$bad"
}

# The version in Cargo.toml, for file names.
crate_version() {
    sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1
}
