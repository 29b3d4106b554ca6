#!/usr/bin/env bash
# Speed against the reference a user would otherwise run, in PyTorch on the CPU, vs `gradscope
# bench` on the Flex CPU backend, measured in one run (ROUNDS interleaved rounds, default 3) and
# printed as ratios of medians:
#   scripts/bench-reference.sh                 the Doshi quick-grok preset (reference/doshi_torch.py)
#   scripts/bench-reference.sh norm-placement  the gradient-flow lab's depth-24 preset, four stacks
#                                              (reference/gradient_flow_torch.py), with the
#                                              per-block instrumentation's overhead on both sides
# Not part of the test suite: it installs torch (≈3 GB with its CUDA wheels, from PyPI) into
# ~/.cache/gradscope/bench-venv once.
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
VENV="$GRADSCOPE_CACHE/bench-venv"
TARGET="${1:-doshi}"
case $TARGET in
  doshi) STEPS="${STEPS:-50}" ;;
  norm-placement) STEPS="${STEPS:-20}" ;;
  *) echo "usage: $0 [doshi|norm-placement]" >&2; exit 2 ;;
esac
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "[bench] installing torch into $VENV (once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch numpy
fi
cargo build --release --bin gradscope -q
GS="$CARGO_TARGET_DIR/release/gradscope"

# Both sides run ROUNDS times, interleaved, so a slow spell on this shared machine hits both;
# the ratios are of the medians.
ROUNDS="${ROUNDS:-3}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

if [ "$TARGET" = norm-placement ]; then
  "$GS" spec norm-placement > "$out/spec.json"
  for r in $(seq "$ROUNDS"); do
    echo "== round $r/$ROUNDS: gradscope (Flex CPU) =="
    "$GS" bench "$out/spec.json" --steps "$STEPS" | grep -v '^spec:' | tee "$out/ours.$r"
    echo "== round $r/$ROUNDS: PyTorch reference (CPU) =="
    "$VENV/bin/python" scripts/reference/gradient_flow_torch.py "$out/spec.json" --steps "$STEPS" | tee "$out/ref.$r"
  done
  python3 - "$out" "$ROUNDS" <<'PY'
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ours, ref = [], []
for r in range(1, rounds + 1):
    text = open(f"{out}/ours.{r}").read()
    ours.append({
        "train": float(re.search(r"CPU \(Flex\)\s+([\d.]+) steps/s", text).group(1)),
        "instrumented": float(re.search(r"([\d.]+) steps/s with the per-step metrics", text).group(1)),
        "eval": float(re.search(r"([\d.]+) steps/s with an evaluation", text).group(1)),
    })
    j = json.load(open(f"{out}/ref.{r}"))
    ref.append({"train": j["train_steps_per_sec"], "instrumented": j["instrumented_steps_per_sec"],
                "eval": j["eval_steps_per_sec"], "torch": j["torch"], "threads": j["threads"]})
med = lambda rows, k: statistics.median(r[k] for r in rows)
span = lambda rows, k: f"{min(r[k] for r in rows):.2f}–{max(r[k] for r in rows):.2f}"
print(f"\nnorm-placement (4 stacks of 24 blocks), medians of {rounds} interleaved rounds; torch {ref[0]['torch']}, {ref[0]['threads']} threads")
for k, what in [("train", "training steps/s"), ("instrumented", "steps/s, per-block metrics every step"),
                ("eval", "steps/s, evaluation every step")]:
    print(f"{what}: gradscope {med(ours, k):.2f} [{span(ours, k)}] vs torch {med(ref, k):.2f} "
          f"[{span(ref, k)}] → {med(ours, k) / med(ref, k):.2f}×")
for name, rows in [("gradscope", ours), ("torch", ref)]:
    print(f"instrumentation overhead, {name}: ×{med(rows, 'train') / med(rows, 'instrumented'):.2f} per measured step")
PY
  exit 0
fi

for r in $(seq "$ROUNDS"); do
  echo "== round $r/$ROUNDS: gradscope (Flex CPU) =="
  "$GS" bench doshi-quick-grok --steps "$STEPS" --to-grok | grep -v '^spec:' | tee "$out/ours.$r"
  echo "== round $r/$ROUNDS: PyTorch reference (CPU) =="
  "$VENV/bin/python" scripts/reference/doshi_torch.py --steps "$STEPS" | tee "$out/ref.$r"
done

python3 - "$out" "$ROUNDS" <<'PY'
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ours, ref = [], []
for r in range(1, rounds + 1):
    text = open(f"{out}/ours.{r}").read()
    grok = re.search(r"test acc ≥ 0.99 at step (\d+) after ([\d.]+) s", text)
    ours.append({
        "train": float(re.search(r"CPU \(Flex\)\s+([\d.]+) steps/s", text).group(1)),
        "eval": float(re.search(r"([\d.]+) steps/s with an evaluation", text).group(1)),
        "grok_step": int(grok.group(1)) if grok else None,
        "grok_s": float(grok.group(2)) if grok else float("nan"),
    })
    j = json.load(open(f"{out}/ref.{r}"))
    ref.append({"train": j["train_steps_per_sec"], "eval": j["eval_steps_per_sec"],
                "grok_step": j["grok_step"], "grok_s": j["grok_seconds"],
                "torch": j["torch"], "threads": j["threads"]})
med = lambda rows, k: statistics.median(r[k] for r in rows)
span = lambda rows, k: f"{min(r[k] for r in rows):.2f}–{max(r[k] for r in rows):.2f}"
print(f"\nmedians of {rounds} interleaved rounds (range in brackets); torch {ref[0]['torch']}, {ref[0]['threads']} threads")
for k, what in [("train", "training steps/s"), ("eval", "steps/s, evaluation every step")]:
    print(f"{what}: gradscope {med(ours, k):.2f} [{span(ours, k)}] vs torch {med(ref, k):.2f} "
          f"[{span(ref, k)}] → {med(ours, k) / med(ref, k):.2f}×")
print(f"time to test acc ≥ 0.99: gradscope step {ours[0]['grok_step']} in {med(ours, 'grok_s'):.2f} s "
      f"vs torch step {ref[0]['grok_step']} in {med(ref, 'grok_s'):.2f} s → "
      f"{med(ref, 'grok_s') / med(ours, 'grok_s'):.2f}×")
PY
