#!/usr/bin/env bash
# Regenerates the PyTorch fixtures that tests/native/transformer_reference.rs and tests/web.rs compare
# the grokking transformer against: gradscope dumps a tiny spec's initial weights and split
# (`gradscope inspect init`), scripts/reference/transformer_torch.py trains from them in float64
# and stores losses and logits. Not part of the test suite (needs torch, installed once into
# ~/.cache/gradscope/bench-venv); the fixtures are committed.
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
