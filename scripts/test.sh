#!/usr/bin/env bash
# The whole test suite: native tests, a sweep on Slurm, browser tests (wasm-bindgen-test in
# headless Chromium, WebGPU via SwiftShader and the CPU backend), end-to-end UI tests
# (playwright-core) against the trunk build served on 127.0.0.1, and the browser benchmark on a
# tiny spec (so it cannot rot). Prints each stage's time at the end.
# Benchmarks that take minutes (bench-gemm-isa.sh, bench-reference.sh, bench-browser.sh without
# --tiny) and the published site's wasm-opt pass (dist.sh --optimize) are not part of it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GRADSCOPE_ROOT"
timings=() stage_name="" stage_start=0 suite_start=$(date +%s)
stage() {
  local now; now=$(date +%s)
  [ -n "$stage_name" ] && timings+=("$(printf '%5ds  %s' $((now - stage_start)) "$stage_name")")
  stage_name=$1 stage_start=$now
  [ -n "$1" ] && printf '\n=== %s (%s)\n' "$1" "$(date +%T)"
  return 0
}

stage "setup (scripts/setup.sh)"
scripts/setup.sh

# One profile (release) and one feature set everywhere, so burn compiles once per target.
stage "native tests"
cargo test --release

stage "release: the CLI tarball (scripts/package.sh cli) and the workflows (scripts/lint-workflows.sh)"
scripts/package.sh cli
scripts/lint-workflows.sh

stage "a sweep as a Slurm job array (single-node Slurm on 127.0.0.1)"
scripts/slurm-test.sh "$CARGO_TARGET_DIR/release/gradscope"

stage "browser tests (wasm-bindgen-test, headless Chromium)"
export WASM_BINDGEN_TEST_TIMEOUT=600
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$GRADSCOPE_ROOT/webdriver.json"
# With WebGPU: the tests run on both backends (the CPU-only build is the e2e's CPU path).
cargo test --release --target wasm32-unknown-unknown --test web --features webgpu

PORT="${E2E_PORT:-8137}"
stage "trunk build (scripts/dist.sh, built for the sub-path the e2e server also serves, as for Pages)"
scripts/dist.sh --site-url "http://127.0.0.1:$PORT/gradscope/"

stage "end-to-end UI tests (playwright-core)"
# dist/ with a strict Content-Security-Policy on every response, and the example blog page on
# the next port (another origin) for the cross-origin embed test.
node e2e/server.mjs dist "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
# The server also takes the next port (a second origin); either one taken makes it exit.
curl -sf "http://127.0.0.1:$PORT/" >/dev/null || { echo "no site server answers on 127.0.0.1:$PORT: is port $PORT or $((PORT + 1)) already in use?" >&2; exit 1; }
GRADSCOPE_URL="http://127.0.0.1:$PORT/" node --test --test-concurrency=1 e2e/
kill $SERVER 2>/dev/null || true

stage "browser benchmark on a tiny spec (scripts/bench-browser.sh --tiny: it must keep running)"
scripts/bench-browser.sh --tiny

stage ""
printf '\n=== time per stage\n'
printf '%s\n' "${timings[@]}"
printf '%5ds  total\n' $(($(date +%s) - suite_start))
