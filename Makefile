# cec — Cells Client in Rust. Start with `make demo`, then `make test` (see README.md).
#
#   make build     release binary: target/release/cec
#   make static    fully static x86_64 binary target/cec-static (+ size budget, chroot check)
#   make dist      static binaries for linux amd64, arm64, arm (armv7) in dist/ + SHA256SUMS
#   make emulated  make dist, then the arm64/armv7 unit tests and main job under qemu-user
#   make test      checks prerequisites (tests/tools/check-prereqs.sh), installs missing test
#                  tools, builds the dev server, runs every test
#                  (REST validated by Prism against the official spec), the dev server's
#                  tests, `make static` (+ chroot check), the demo (static binary), `make dist`,
#                  the unit tests and the main job on arm64/armv7 under qemu-user, `make lint`
#   make lint      cargo fmt --check + clippy -D warnings (cec and the dev server)
#   make bench     transfer benchmarks vs awscli, rclone, curl (tests/tools/bench.py → bench/results.md),
#                  then sync vs rclone sync / aws s3 sync (tests/tools/bench_sync.py, its own section)
#   make bench-sync  the sync benchmark alone
#   make demo      walk through the main job with the real binary against the dev server
#   make deps      install test/bench tools only (Debian packages incl. chromium, prism,
#                  oidc-provider + playwright-core, awscli + moto, cross toolchains)
#   make prereqs   only check what make test needs (fails fast, says how to get it)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
PRISM := $(TOOLS)/prism/node_modules/.bin/prism
DEVSERVER_DIR := tests/devserver
DEVSERVER_MANIFEST := $(DEVSERVER_DIR)/Cargo.toml
DEVSERVER := $(CURDIR)/$(DEVSERVER_DIR)/target/release/cells-devserver
# The official REST spec, kept in the repository (tests/spec/README.md says where it comes
# from); `make test SPEC=path` validates against another copy.
SPEC ?= $(CURDIR)/tests/spec/cells-rest.swagger.json
SPEC_FILE := $(abspath $(SPEC))
PRISM_SPEC := $(CURDIR)/target/prism/cells-rest-prism.json
STATIC_OUT := target/cec-static
VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
DIST := dist
LOGS := target/test-logs
# Each Prism proxy of cec's tests appends "<binary> <requests> <violations>" here.
PRISM_COUNTS := $(CURDIR)/$(LOGS)/prism-counts
# $(MAKE) written through a plain variable: GNU make runs a recipe line that names $(MAKE)
# even under `make -n`, which would start the whole test run for a dry run.
SUBMAKE := $(MAKE)
# Tests and benches find the pinned awscli/botocore venv first.
export PATH := $(TOOLS)/py/bin:$(PATH)

.PHONY: build static dist emulated test lint bench bench-sync demo deps prereqs devserver prism-spec clean-tools help

help:
	@sed -n '/^$$/q;p' Makefile | sed 's/^# \{0,1\}//'

build:
	$(CARGO) build --release
	@echo "built: target/release/cec"

devserver:
	$(CARGO) build --release --manifest-path $(DEVSERVER_MANIFEST)

# glibc, statically linked (the musl target is not installed): the amd64 build of
# `make dist` (tests/tools/dist.sh: static, stripped, 6 MiB budget, runs), then the chroot check.
static: devserver
	CARGO="$(CARGO)" tests/tools/dist.sh --out target/static amd64
	cp target/static/cec-$(VERSION)-linux-amd64 $(STATIC_OUT)
	CELLS_DEVSERVER=$(DEVSERVER) tests/tools/chroot-check.sh $(STATIC_OUT)

# Static binaries for every release architecture, checked, with SHA256SUMS; installs the
# cross toolchains first when missing (see tests/tools/cross.sh for which provides what).
dist:
	tests/tools/install-deps.sh dist
	CARGO="$(CARGO)" tests/tools/dist.sh --out $(DIST)

# The checks `make test` runs for the ARM binaries, alone.
EMULATED_BINS := $(DIST)/cec-$(VERSION)-linux-arm64 $(DIST)/cec-$(VERSION)-linux-arm
emulated: dist devserver
	CARGO="$(CARGO)" tests/tools/emulated-unit-tests.sh arm64 arm
	CELLS_DEVSERVER=$(DEVSERVER) tests/tools/emulated-main-job.sh $(EMULATED_BINS)

deps:
	tests/tools/install-deps.sh

prereqs:
	SPEC="$(SPEC_FILE)" tests/tools/check-prereqs.sh test

prism-spec:
	@[ -f "$(SPEC_FILE)" ] || { echo "prism-spec: the official spec is not at $(SPEC_FILE)" \
		"(tests/spec/cells-rest.swagger.json in the repository; or pass SPEC=path)" >&2; exit 1; }
	@mkdir -p $(dir $(PRISM_SPEC))
	python3 tests/tools/prism-spec.py $(SPEC_FILE) $(PRISM_SPEC)

# All checks run; the target fails if any of them does.
lint:
	@rc=0; \
	for cmd in "$(CARGO) fmt --all -- --check" \
		"$(CARGO) clippy --workspace --all-targets -- -D warnings" \
		"$(CARGO) fmt --manifest-path $(DEVSERVER_MANIFEST) --all -- --check" \
		"$(CARGO) clippy --manifest-path $(DEVSERVER_MANIFEST) --all-targets -- -D warnings"; do \
		echo "$$cmd"; $$cmd || { echo "lint: FAILED: $$cmd"; rc=1; }; \
	done; \
	echo "cargo tree -e normal -p cec: no async runtime"; \
	if $(CARGO) tree -e normal -p cec --prefix none | grep -Ew '^(tokio|async-std|smol|async-io)'; then \
		echo "lint: FAILED: an async runtime is a normal dependency of cec"; rc=1; fi; \
	exit $$rc

# Prerequisites are checked first, before any long build or install. Every step then runs
# even if an earlier one fails; the summary at the end lists them all.
test:
	@SPEC="$(SPEC_FILE)" tests/tools/check-prereqs.sh test
	@$(MAKE) --no-print-directory deps devserver prism-spec
	@mkdir -p $(LOGS); rc=0; t0=$$(date +%s); \
	step() { local name="$$1"; shift; local s=$$(date +%s); \
		echo; echo "=== make test: $$name"; \
		if "$$@" 2>&1 | tee "$(LOGS)/$$name.log"; then st=ok; else st=FAILED; rc=1; fi; \
		echo "$$name: $$st ($$(( $$(date +%s) - s )) s)" >> "$(LOGS)/steps"; }; \
	: > "$(LOGS)/steps"; : > "$(PRISM_COUNTS)"; \
	step cec-tests env CEC_SPEC="$(SPEC_FILE)" CEC_PRISM="$(PRISM)" CEC_PRISM_SPEC="$(PRISM_SPEC)" CELLS_DEVSERVER="$(DEVSERVER)" \
		CEC_PRISM_COUNTS="$(PRISM_COUNTS)" \
		timeout 45m $(CARGO) test --workspace --no-fail-fast; \
	step devserver-tests env CEC_SPEC="$(SPEC_FILE)" CEC_PRISM="$(PRISM)" CEC_PRISM_SPEC="$(PRISM_SPEC)" \
		timeout 20m $(CARGO) test --release --no-fail-fast --manifest-path $(DEVSERVER_MANIFEST); \
	step static $(SUBMAKE) --no-print-directory static; \
	if [ -x $(STATIC_OUT) ] && grep -q '^static: ok' "$(LOGS)/steps"; then \
		step demo env CEC_BIN="$(CURDIR)/$(STATIC_OUT)" CELLS_DEVSERVER="$(DEVSERVER)" tests/tools/demo.sh; \
	else echo "demo: skipped (no static binary)" >> "$(LOGS)/steps"; rc=1; fi; \
	step dist env CARGO="$(CARGO)" tests/tools/dist.sh --out $(DIST); \
	step emulated-unit-tests env CARGO="$(CARGO)" tests/tools/emulated-unit-tests.sh arm64 arm; \
	if grep -q '^dist: ok' "$(LOGS)/steps"; then \
		step emulated-main-job env CELLS_DEVSERVER="$(DEVSERVER)" tests/tools/emulated-main-job.sh $(EMULATED_BINS); \
	else echo "emulated-main-job: not run (no dist binaries): FAILED" >> "$(LOGS)/steps"; rc=1; fi; \
	step lint $(SUBMAKE) --no-print-directory lint; \
	echo; echo "=== make test: summary"; \
	for f in cec-tests devserver-tests emulated-unit-tests; do \
		echo "--- $$f"; \
		grep -E '^( *Running |test result:|error: test failed|    [a-z_0-9:]+$$)' "$(LOGS)/$$f.log" \
			| sed -E 's/^ *Running ([^ ]+).*/\1/' || true; \
	done; \
	echo "---"; cat "$(LOGS)/steps"; \
	read -r preq pviol pprox < <(awk '{r += $$2; v += $$3; n++} END {print r+0, v+0, n+0}' "$(PRISM_COUNTS)"); \
	echo "prism: $$preq REST requests of cec's tests validated against the description ($$pprox proxies), $$pviol violations"; \
	if [ "$$pviol" != 0 ] || [ "$$preq" = 0 ]; then echo "prism: FAILED (violations, or no request validated)"; rc=1; fi; \
	echo "make test: $$([ $$rc = 0 ] && echo PASSED || echo FAILED) in $$(( $$(date +%s) - t0 )) s (logs in $(LOGS)/)"; \
	exit $$rc

bench: build
	python3 tests/tools/bench.py
	BENCH_NO_BUILD=1 python3 tests/tools/bench_sync.py

bench-sync: build
	python3 tests/tools/bench_sync.py

demo:
	@tests/tools/check-prereqs.sh demo
	@$(MAKE) --no-print-directory build devserver
	CEC_BIN=$(CURDIR)/target/release/cec CELLS_DEVSERVER=$(DEVSERVER) tests/tools/demo.sh

clean-tools:
	rm -rf $(TOOLS)
