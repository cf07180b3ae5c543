#!/usr/bin/env bash
# The unit tests of cec and cells-hash built for other architectures and run under
# qemu-user (the runners in .cargo/config.toml): 32-bit armv7 catches byte counts and
# offsets squeezed through a 32-bit usize or off_t (the *_past_4_gib tests), both catch
# code that assumes x86. Built with the `emu` profile (.cargo/config.toml: no LTO, no debug
# info, the hashing crates optimised); the toolchain per target as for make dist.
# A missing target, linker or emulator is a failure (tests/tools/install-deps.sh dist).
#
# usage: tests/tools/emulated-unit-tests.sh [ARCH...]    (ARCH: arm64 arm; default both)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/tools/cross.sh

[ $# -gt 0 ] || set -- arm64 arm
bad=0
for a in "$@"; do need_arch "$a" || bad=1; done
[ "$bad" = 0 ] || { echo "emulated-unit-tests: missing tools (above)" >&2; exit 1; }

# One cargo run per toolchain with all its targets: the builds share the two cores.
declare -A GROUP=()
for a in "$@"; do
    arch_info "$a"
    GROUP[$(toolchain_for "$TRIPLE")]+=" --target $TRIPLE"
done
rc=0
for tc in "${!GROUP[@]}"; do
    cargo_cmd "$tc"
    echo "emulated-unit-tests:${GROUP[$tc]} with $tc's $("$RUSTC_BIN" --version)" >&2
    # -D warnings: what only ARM compiles (cfg'd code) is linted here. RUSTFLAGS replaces the
    # target's rustflags of .cargo/config.toml, hence +crt-static again.
    # shellcheck disable=SC2086  # GROUP holds words
    RUSTFLAGS="-C target-feature=+crt-static -D warnings" "${CARGO_CMD[@]}" test --locked --profile emu --no-fail-fast ${GROUP[$tc]} \
        -p cec --bin cec -p cells-hash --lib || rc=1
done
exit "$rc"
