#!/usr/bin/env bash
# Speed against the reference a user would otherwise run: the Doshi quick-grok preset in
# PyTorch on the CPU (scripts/reference/doshi_torch.py) vs `gradscope bench` on the Flex CPU
# backend, measured in one run, printed as a ratio. Not part of the test suite: it installs
# torch (≈3 GB with its CUDA wheels, from PyPI) into ~/.cache/gradscope/bench-venv once.
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/gradscope/bench-venv"
STEPS="${STEPS:-50}"
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "[bench] installing torch into $VENV (once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch numpy
fi
cargo build --release --bin gradscope -q
GS="$CARGO_TARGET_DIR/release/gradscope"

echo "== gradscope (Flex CPU) =="
ours=$("$GS" bench doshi-quick-grok --steps "$STEPS" --to-grok | tee /dev/stderr)
echo "== PyTorch reference (CPU) =="
ref=$("$VENV/bin/python" scripts/reference/doshi_torch.py --steps "$STEPS" | tee /dev/stderr)

python3 - "$ours" "$ref" <<'PY'
import json, re, sys
ours, ref = sys.argv[1], json.loads(sys.argv[2])
sps = float(re.search(r"CPU \(Flex\)\s+([\d.]+) steps/s", ours).group(1))
eval_sps = float(re.search(r"([\d.]+) steps/s with an evaluation", ours).group(1))
grok = re.search(r"test acc ≥ 0.99 at step (\d+) after ([\d.]+) s", ours)
print(f"\ntraining steps/s: gradscope {sps:.2f} vs torch {ref['train_steps_per_sec']:.2f} "
      f"→ {sps / ref['train_steps_per_sec']:.2f}× (torch {ref['torch']}, {ref['threads']} threads)")
print(f"with an evaluation every step: gradscope {eval_sps:.2f} vs torch {ref['eval_steps_per_sec']:.2f} "
      f"→ {eval_sps / ref['eval_steps_per_sec']:.2f}×")
if grok:
    print(f"time to test acc ≥ 0.99: gradscope step {grok.group(1)} in {float(grok.group(2)):.2f} s vs torch "
          f"step {ref['grok_step']} in {ref['grok_seconds']:.2f} s → {ref['grok_seconds'] / float(grok.group(2)):.2f}×")
PY
