# Shared environment for gradscope's scripts (sourced, not run).
# Build output lives outside the clone so fresh clones (CI) reuse it; cargo locks it safely.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gradscope/target}"
export PATH="$HOME/.cargo/bin:$GRADSCOPE_ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' "$GRADSCOPE_ROOT/Cargo.lock")
export TRUNK_VERSION WASM_BINDGEN_VERSION
