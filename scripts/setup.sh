#!/usr/bin/env bash
# Installs what gradscope needs on a fresh Debian machine; each step is skipped when done.
#   Rust wasm32 target, trunk, wasm-bindgen-cli (= Cargo.lock's wasm-bindgen), npm packages
#   (uPlot, binaryen's wasm-opt, playwright-core), Debian's Chromium + ChromeDriver, and Mesa's
#   Vulkan drivers (lavapipe) so `gradscope run --backend wgpu` works without a GPU.
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
say() { echo "[setup] $*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown
fi
if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  # --locked: the latest trunk needs a newer rustc than this toolchain (see shared/toolchain.md).
  say "installing trunk $TRUNK_VERSION (≈10 min once)"; cargo install trunk --version "$TRUNK_VERSION" --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # No --locked: its lockfile pins a crate version the registry lacks.
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (≈6 min once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"; npm ci --no-audit --no-fund --loglevel=error
fi
say "ready (trunk $TRUNK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, target dir $CARGO_TARGET_DIR)"
