#!/usr/bin/env bash
# Regenerates the PyTorch fixtures the tests compare against, from gradscope's own initial weights
# (`gradscope inspect init` of a tiny spec):
# - tests/native/transformer_reference.rs and tests/web.rs: the grokking transformer trained 20
#   steps by scripts/reference/transformer_torch.py in float64 (losses and logits);
# - tests/native/scans_reference.rs: the scans lab's four networks on one batch by
#   scripts/reference/scans_net_torch.py in float64 (logits, loss, every gradient), after that
#   script checked the weights against mamba_simple.py's and s4d.py's inits.
# Not part of the test suite (needs torch, installed once into ~/.cache/gradscope/bench-venv); the
# fixtures are committed.
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
VENV="$GRADSCOPE_CACHE/bench-venv"
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q torch numpy
fi
cargo build --release --bin gradscope -q
GS="$CARGO_TARGET_DIR/release/gradscope"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# name, task, transformer: tiny versions of nanda-1l-transformer and power-division, with a
# larger lr (1e-2) so 20 steps move the weights well away from their init.
make() {
  local name=$1 task=$2 model=$3
  cat > "$tmp/$name.spec.json" <<JSON
{"grokking": {"seed": 3, "task": $task, "model": {"transformer": $model},
  "loss": {"kind": "cross_entropy"},
  "optimizer": {"kind": "adam_w", "lr": 0.01, "weight_decay": 1.0, "beta1": 0.9, "beta2": 0.98,
                "eps": 1e-8, "warmup_steps": 10},
  "training": {"steps": 20, "batch_size": 0, "eval_every": 1}}}
JSON
  "$GS" inspect init "$tmp/$name.spec.json" --out "$tmp/$name.init.json"
  "$VENV/bin/python" scripts/reference/transformer_torch.py --init "$tmp/$name.init.json" \
    --fixture "tests/fixtures/transformer-$name.json" --dtype float64
}
make nanda-tiny '{"op": "add", "p": 11, "train_frac": 0.5}' \
  '{"layers": 1, "d_model": 16, "heads": 2, "d_mlp": 32, "layer_norm": false, "causal": true}'
make power-tiny '{"op": "div", "p": 7, "train_frac": 0.5}' \
  '{"layers": 2, "d_model": 16, "heads": 4, "d_mlp": 32, "layer_norm": true, "causal": true}'

# The scans lab: every mixer once, S4D-Lin with ZOH, S4D-Inv with ZOH without the gate, a gated S4D-Inv
# with bilinear and a Mamba.
# Δ ranges reach 1 (not only the defaults' 1e-3..0.1) so that the discretizations and the scan's
# decay differ by far more than float32 rounding; N = 4 and d_model 8 keep the fixture small.
cat > "$tmp/scans-tiny.spec.json" <<'JSON'
{"scans": {"seed": 5,
  "task": {"kind": "selective_copying", "len": 16, "vocab": 4, "data_tokens": 4},
  "models": {
    "s4d": {"mixer": "s4d", "layers": 2, "d_model": 8, "d_state": 4,
            "s4d_init": "lin", "discretization": "zoh", "dt_min": 0.01, "dt_max": 1.0},
    "s4d-no-gate": {"mixer": "s4d_no_gate", "layers": 2, "d_model": 8, "d_state": 4,
                    "s4d_init": "inv", "discretization": "zoh", "dt_min": 0.01, "dt_max": 1.0},
    "gated-s4d": {"mixer": "gated_s4d", "layers": 2, "d_model": 8, "d_state": 4, "expand": 2,
                  "s4d_init": "inv", "discretization": "bilinear", "dt_min": 0.1, "dt_max": 1.0},
    "mamba": {"mixer": "mamba", "layers": 2, "d_model": 8, "d_state": 4, "expand": 2,
              "dt_min": 0.01, "dt_max": 1.0}},
  "training": {"steps": 1, "batch_size": 4, "eval_every": 1},
  "eval": {"sequences": 4, "extrapolation": 1}}}
JSON
"$GS" inspect init "$tmp/scans-tiny.spec.json" --out "$tmp/scans-tiny.init.json"
"$VENV/bin/python" scripts/reference/scans_net_torch.py --init "$tmp/scans-tiny.init.json" \
  --fixture tests/fixtures/scans-tiny.json
