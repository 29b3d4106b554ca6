#!/usr/bin/env bash
# Builds the playground into dist/, or copies the cached build when nothing that goes into it
# changed. Used by scripts/test.sh and scripts/bench-browser.sh.
#   scripts/dist.sh             trunk build --release: the release wasm, no wasm-opt (what the
#                               tests and `scripts/serve.sh` use)
#   scripts/dist.sh --optimize  the same, then wasm-opt -Oz over the worker's wasm and brotli and
#                               gzip copies of every file (scripts/precompress.mjs): the site to
#                               publish (≈9 more minutes on 2 cores: binaryen's npm build, the one
#                               that emits working wasm here, is single-threaded)
#   scripts/dist.sh --site-url URL  (with either) the URL the site will be published at, written
#                               into www/site-url.js: the Embed menu's snippets point there by
#                               default (.github/workflows/pages.yml passes the Pages URL)
# The built dist/ is cached outside the clone, keyed by everything that goes into it (index.html's
# data-trunk links: the worker's two wasm builds, www/, examples/, docs/reproductions/, embed.html, gradscope-embed.js,
# uPlot and esbuild (package-lock.json), the scripts that post-process it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GRADSCOPE_ROOT"
mode=test
site_url=
usage() { echo "usage: scripts/dist.sh [--optimize] [--site-url https://HOST/PATH/]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --optimize) mode=site ;;
    --site-url)
      [ $# -ge 2 ] || usage
      site_url=$2
      shift
      # An absolute http(s) URL; a quote or backslash would break the JS string it goes into.
      [[ "$site_url" =~ ^https?://[^\\\"\'[:space:]]+$ ]] || { echo "--site-url: not an http(s) URL: $site_url" >&2; exit 2; }
      case "$site_url" in */) ;; *) site_url="$site_url/" ;; esac
      ;;
    *) usage ;;
  esac
  shift
done
# The worker in its two builds (Cargo.toml's `webgpu` feature), as index.html's links build them.
cargo build --release --target wasm32-unknown-unknown --bin gradscope-worker --features webgpu
cargo build --release --target wasm32-unknown-unknown --bin gradscope-worker-cpu
wasm_out="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release"
key=$(cat "$wasm_out/gradscope-worker.wasm" "$wasm_out/gradscope-worker-cpu.wasm" index.html Trunk.toml \
  package-lock.json embed.html gradscope-embed.js scripts/bundle.mjs scripts/preload.mjs scripts/precompress.mjs \
  $(find www examples docs/reproductions -type f | sort) | sha256sum | cut -c1-16)
cache="$GRADSCOPE_CACHE/dist-$mode-$key"
# The published URL goes into the built copy only, after the cache (which holds the build
# without it): a tiny file, served as it is (no precompressed copies to go stale).
write_site_url() {
  [ -n "$site_url" ] || return 0
  printf '%s\n' "// Written by scripts/dist.sh --site-url: where this build is published." \
    "export const PUBLISHED_SITE = '$site_url';" > dist/www/site-url.js
  rm -f dist/www/site-url.js.br dist/www/site-url.js.gz
}
if [ -f "$cache/index.html" ]; then
  echo "dist/ unchanged since the last build: reusing $cache"
  rm -rf dist && cp -r "$cache" dist
  write_site_url
  exit 0
fi
trunk build --release
# Each page's modules in one file (esbuild): one request where there were ~40.
node scripts/bundle.mjs dist
# The pages' module graphs as <link rel="modulepreload"> tags (the bundle and www/site-url.js).
node scripts/preload.mjs dist
if [ $mode = site ]; then
  # trunk would run the same pass on every build (index.html's data-wasm-opt); the tests do not
  # need it, so it runs here once per published site. The wasm's target-features section tells
  # wasm-opt which proposals (SIMD among them) the module uses.
  for wasm in dist/gradscope-worker_bg.wasm dist/gradscope-worker-cpu_bg.wasm; do
    before=$(stat -c %s "$wasm")
    wasm-opt -Oz "$wasm" -o "$wasm.opt" && mv "$wasm.opt" "$wasm"
    echo "wasm-opt -Oz $wasm: $before → $(stat -c %s "$wasm") bytes"
  done
  # Brotli and gzip copies beside each file, for hosts that serve precompressed files.
  node scripts/precompress.mjs dist
fi
rm -rf "$GRADSCOPE_CACHE"/dist-$mode-* && cp -r dist "$cache"
write_site_url
