#!/usr/bin/env bash
# Installs what gradscope needs on a fresh Debian machine; each step is skipped when done.
#   Rust wasm32 target, trunk, wasm-bindgen-cli (= Cargo.lock's wasm-bindgen), npm packages
#   (uPlot, binaryen's wasm-opt, playwright-core), Debian's Chromium + ChromeDriver, and Mesa's
#   Vulkan drivers (lavapipe) so `gradscope run --backend wgpu` works without a GPU.
#   scripts/setup.sh --build-only  skips the browser and the Vulkan drivers: what building the
#                                  site needs, no more (the Pages and release workflows)
# No package registry here ships trunk or wasm-bindgen-cli prebuilt (npm's wasm-pack and the
# like download from GitHub at install time, which fails offline), so both compile once, ≈4 min.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GRADSCOPE_ROOT"
say() { echo "[setup] $*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
build_only=false
case "${1:-}" in
  "") ;;
  --build-only) build_only=true ;;
  *) echo "usage: scripts/setup.sh [--build-only]" >&2; exit 2 ;;
esac

# install_tool OPT_LEVEL CRATE…: cargo install, with the build settings of a build tool rather
# than of the tool's own release profile (trunk's asks for fat LTO and one codegen unit: ≈14 min
# of CPU here, for a program that runs for seconds per build). Its build folder is kept, so a
# version bump is incremental.
install_tool() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$1 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install --quiet --target-dir "$GRADSCOPE_CACHE/tools-target" "${@:2}"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown
fi
if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  # --locked: the latest trunk needs a newer rustc than this toolchain. No default features:
  # they are its TLS stack and self-update check, and trunk runs offline here (Trunk.toml).
  say "installing trunk $TRUNK_VERSION (once)"
  # Unoptimized: it copies files and runs wasm-bindgen, whose own speed matters (opt-level 1).
  install_tool 0 trunk --version "$TRUNK_VERSION" --locked --no-default-features --force
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # No --locked: its lockfile pins a crate version the registry lacks.
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once)"
  install_tool 1 wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
missing=()
if ! $build_only; then
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"; npm ci --no-audit --no-fund --loglevel=error
fi
say "ready (trunk $TRUNK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, target dir $CARGO_TARGET_DIR)"
