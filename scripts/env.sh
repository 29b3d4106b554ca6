# Shared environment for gradscope's scripts (sourced, not run).
# A failing step inside $(…) stops the script too (bash ≥ 4.4; without it, set -e does not reach
# a command substitution, and a function run there carries on after its failing command).
shopt -s inherit_errexit
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything built or installed lives outside the clone, in one cache folder, so fresh clones
# (CI) reuse it: the Rust target dir (cargo locks it safely), the tools' build dir, the built site.
GRADSCOPE_CACHE="${GRADSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gradscope}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$GRADSCOPE_CACHE/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$GRADSCOPE_ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' "$GRADSCOPE_ROOT/Cargo.lock")
export GRADSCOPE_ROOT GRADSCOPE_CACHE TRUNK_VERSION WASM_BINDGEN_VERSION
