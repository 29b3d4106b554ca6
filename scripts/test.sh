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
# wasm-bindgen + wasm-opt -Oz take ~5 minutes on 2 cores even when nothing changed, so the built
# dist/ is cached outside the clone, keyed by everything that goes into it (index.html's
# data-trunk links: the worker's wasm, www/, examples/, embed.html, gradscope-embed.js, uPlot).
cargo build --release --target wasm32-unknown-unknown --bin gradscope-worker
key=$(cat "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/gradscope-worker.wasm" index.html Trunk.toml \
  package-lock.json embed.html gradscope-embed.js $(find www examples -type f | sort) | sha256sum | cut -c1-16)
cache="$(dirname "$CARGO_TARGET_DIR")/dist-$key"
if [ -f "$cache/index.html" ]; then
  echo "dist/ unchanged since the last build: reusing $cache"
  rm -rf dist && cp -r "$cache" dist
else
  trunk build --release
  rm -rf "$(dirname "$CARGO_TARGET_DIR")"/dist-* && cp -r dist "$cache"
fi

stage "end-to-end UI tests (playwright-core)"
PORT="${E2E_PORT:-8137}"
# dist/ with a strict Content-Security-Policy on every response, and the example blog page on
# the next port (another origin) for the cross-origin embed test.
node e2e/server.mjs dist "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
GRADSCOPE_URL="http://127.0.0.1:$PORT/" node --test --test-concurrency=1 e2e/
