#!/usr/bin/env bash
# The browser next to the native CLI, measured in one run and printed as markdown tables
# (scripts/bench-browser.mjs says what is measured): training steps/s on CPU-wasm and WebGPU
# (headless Chromium; SwiftShader without a GPU) beside native Flex and wgpu, GPU dispatches per
# step, the first step's latency, first load per path and network (cold and warm), the wasm's size,
# the 10-widget post's memory, and a run of several models in one worker against one per core.
#   scripts/bench-browser.sh                      the default and the two long presets
#   scripts/bench-browser.sh --to-grok            also the time to grok of the default preset
#   scripts/bench-browser.sh SPEC [SPEC …]        presets or spec files
#   scripts/bench-browser.sh --tiny               a tiny spec, 3 steps (CI runs this so it cannot rot)
# STEPS (default 20) sets the timed steps; BACKENDS (default cpu,webgpu) the browser backends;
# ONLY (e.g. ONLY=load,post) the tables to run, of speed, load, post and team (default all);
# BENCH_JSON=file keeps the raw figures; NATIVE_TIMEOUT
# (s, default 600) cuts a native measurement short (native wgpu autotunes slowly on lavapipe).
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$GRADSCOPE_ROOT/scripts/setup.sh" >/dev/null
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"

# The site as published (wasm-opt -Oz), whose size and first load are part of the table; the tiny
# run takes the tests' build instead (it only has to keep running).
specs=() extra=() load=() steps="${STEPS:-20}" dist=(--optimize)
for arg in "$@"; do
  case $arg in
    --tiny) specs=(scripts/bench-tiny.json); steps=3; dist=(); load=(--loopback-only --post-dwell 1000 --team-presets norm-placement --team-steps 20) ;;
    --to-grok) extra+=(--to-grok) ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) specs+=("$arg") ;;
  esac
done
if [ ${#specs[@]} -eq 0 ]; then specs=(doshi-quick-grok nanda-1l-transformer power-division); fi
# Time to grok is measured on the default preset only (the long ones take hours in a browser
# on a software GPU).
if [ ${#extra[@]} -gt 0 ] && [ $# -eq 1 ]; then specs=(doshi-quick-grok); fi
VENV="$GRADSCOPE_CACHE/bench-venv"
if [ ${#extra[@]} -gt 0 ] && "$VENV/bin/python" -c 'import torch' 2>/dev/null; then extra+=(--torch "$VENV/bin/python"); fi

cargo build --release --bin gradscope -q
scripts/dist.sh "${dist[@]}" >/dev/null
PORT="${BENCH_PORT:-8150}"
node e2e/server.mjs dist "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
# The server also takes the next port (a second origin); either one taken makes it exit.
curl -sf "http://127.0.0.1:$PORT/" >/dev/null || { echo "no site server answers on 127.0.0.1:$PORT: is port $PORT or $((PORT + 1)) already in use?" >&2; exit 1; }
specs_csv=$(IFS=,; echo "${specs[*]}")
node scripts/bench-browser.mjs --url "http://127.0.0.1:$PORT/" --gs "$CARGO_TARGET_DIR/release/gradscope" \
  --specs "$specs_csv" --steps "$steps" ${BENCH_JSON:+--json "$BENCH_JSON"} ${ONLY:+--only "$ONLY"} ${NATIVE_TIMEOUT:+--native-timeout "$NATIVE_TIMEOUT"} "${extra[@]}" "${load[@]}"
