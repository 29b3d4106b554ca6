#!/usr/bin/env bash
# The whole test suite: native tests, browser tests (wasm-bindgen-test in headless Chromium,
# WebGPU via SwiftShader and the CPU backend), then end-to-end UI tests (playwright-core) against
# the trunk build served on 127.0.0.1.
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$GRADSCOPE_ROOT/scripts/setup.sh"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
stage() { echo; echo "=== $* ($(date +%T))"; }

# One profile (release) and one feature set everywhere, so burn compiles once per target.
stage "native tests"
cargo test --release

stage "a sweep as a Slurm job array (single-node Slurm on 127.0.0.1)"
scripts/slurm-test.sh "$CARGO_TARGET_DIR/release/gradscope"

stage "browser tests (wasm-bindgen-test, headless Chromium)"
export WASM_BINDGEN_TEST_TIMEOUT=600
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$GRADSCOPE_ROOT/webdriver.json"
cargo test --release --target wasm32-unknown-unknown --test web

stage "trunk build"
scripts/dist.sh

stage "end-to-end UI tests (playwright-core)"
PORT="${E2E_PORT:-8137}"
# dist/ with a strict Content-Security-Policy on every response, and the example blog page on
# the next port (another origin) for the cross-origin embed test.
node e2e/server.mjs dist "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
GRADSCOPE_URL="http://127.0.0.1:$PORT/" node --test --test-concurrency=1 e2e/

stage "browser benchmark on a tiny spec (scripts/bench-browser.sh: it must keep running)"
scripts/bench-browser.sh --tiny

stage "gemm per instruction set, one quick round (scripts/bench-gemm-isa.sh: it must keep running)"
ROUNDS=1 REPS=1 scripts/bench-gemm-isa.sh
