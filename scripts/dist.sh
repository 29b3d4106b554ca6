#!/usr/bin/env bash
# Builds the playground into dist/ (trunk build --release), or copies the cached build when
# nothing that goes into it changed. Used by scripts/test.sh and scripts/bench-browser.sh.
# wasm-bindgen + wasm-opt -Oz take ~5 minutes on 2 cores even when nothing changed, so the built
# dist/ is cached outside the clone, keyed by everything that goes into it (index.html's
# data-trunk links: the worker's wasm, www/, examples/, embed.html, gradscope-embed.js, uPlot).
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
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
