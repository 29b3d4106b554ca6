"""Trains one of the scans lab's selective-copying models in PyTorch, end to end, sharing no code,
weights or data with gradscope's Rust: the independent reference for the lab's long runs.

* The models are `scans_net_torch.py`'s (written from s4d.py and mamba_simple.py), in float32,
  with Mamba's scan computed by `scans_torch.py`'s `selective_scan_seq`: selective_scan_ref's loop
  with a written-out backward (it agrees with selective_scan_ref to 1e-14 in float64, outputs and
  gradients, `scans_torch.py bench` checks it; ~3x faster than mamba.py's pscan on a CPU here).
* The weights start from the sources' own inits, drawn by torch's generator from `--seed`:
  - S4D (s4d.py's S4DKernel and S4D): log dt ~ U[log dt_min, log dt_max] per channel,
    C ~ randn(H, N/2) complex (real and imaginary parts N(0, 1/2)), D ~ randn(H); A by the spec's
    init (S4D-Lin: -1/2 + i pi n; S4D-Inv: -1/2 + i (N/pi)(N/(2n+1) - 1); S4D-Real: -(n+1));
    its output Conv1d(H, 2H, 1) PyTorch's default.
  - Mamba (mamba_simple.py): A_log = log(1..N), D = 1, dt_proj.weight U(+-dt_rank^-1/2), dt_proj's
    bias the inverse softplus of exp(U[log dt_min, log dt_max]) floored at 1e-4, every other
    layer PyTorch's default.
  - Then mamba_ssm's `_init_weights` (models/mixer_seq_simple.py): nn.Linear biases zeroed (but
    dt_proj's, marked _no_reinit), embeddings N(0, 0.02^2), and each out_proj.weight redrawn
    kaiming_uniform(a=sqrt(5)) and divided by sqrt(n_layer) (one residual per layer).
* The task is generated here with numpy, from the Mamba paper's description (Gu & Dao 2023,
  section 4.1.1 and appendix E.1): `data_tokens` tokens of `vocab` symbols at sorted random
  positions among noise in the first `len - data_tokens` positions, then `data_tokens` answer
  slots where the model must output them in order. Token ids: 0 noise, 1 answer slot, 2.. data.
  Training batches come from numpy's PCG64 seeded with `--seed`; the held-out evaluation set
  (`eval.sequences` of them) from a second stream, fixed for the run.
* The loss is the lab's: mean cross-entropy over the answer slots. AdamW with the spec's rate,
  betas, eps and weight decay, `clip_grad_norm_` at `optimizer.grad_clip`.

Input: a scans spec or sweep file (`sweeps/selective-copying-long.json`: its base), whose first
model sets the widths; `--mixer` picks which of the three models to train, `--seed` the draw,
`--vocab` overrides `task.vocab`. `--s4d-readout linear` turns `--mixer s4d` into `s4d_no_gate`,
s4d.py's block with a linear map H -> H in place of its GLU (the Mamba paper's "no gate" S4 row).
Output (`--out`): a gradscope metrics file (its header names this script as the source), one
record every `training.eval_every` steps with `NAME.test_acc`, `NAME.test_loss` and the last
training batch's `NAME.train_acc`, `NAME.train_loss`, so the page opens it with `#metrics=`
beside gradscope's own curves. A summary (final and best accuracy, first step >= 0.9 and
>= 0.99) goes to stdout. At each evaluation the run's state (weights, optimizer, both random
streams) is saved to OUT.ckpt; the same command with `--resume` carries on from there with the
same numbers, and the checkpoint is removed when the run ends.

torch lives in ~/.cache/gradscope/bench-venv (see scripts/bench-reference.sh). One thread by
default: two runs side by side on a 2-core machine do not fight over cores.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scans_net_torch import EMBED_STD, MambaBlock, Net, S4DLayer  # noqa: E402
from scans_torch import selective_scan_seq  # noqa: E402

NOISE, ANSWER_SLOT, FIRST_DATA = 0, 1, 2
# The sweep's model names (the `selective-copying` preset names its no-gate S4D "s4d").
NAMES = {"mamba": "mamba", "gated_s4d": "gated-s4d", "s4d": "s4d", "s4d_no_gate": "s4d"}


def load_spec(path):
    with open(path) as f:
        doc = json.load(f)
    if "base" in doc:  # a sweep file
        doc = doc["base"]
    if "scans" not in doc:
        raise SystemExit(f"{path}: not a scans spec (no `scans` at the top or under `base`)")
    return doc["scans"]


def sample(task, n, rng):
    """n sequences: tokens (n, len) and answers (n, data_tokens), as int64 arrays."""
    length, k, vocab = task["len"], task["data_tokens"], task["vocab"]
    context = length - k
    tokens = np.full((n, length), NOISE, dtype=np.int64)
    tokens[:, context:] = ANSWER_SLOT
    answers = rng.integers(FIRST_DATA, FIRST_DATA + vocab, size=(n, k))
    for i in range(n):
        positions = np.sort(rng.choice(context, size=k, replace=False))
        tokens[i, positions] = answers[i]
    return torch.from_numpy(tokens), torch.from_numpy(answers)


def s4d_init(layer, init, dt_min, dt_max):
    H, half = layer.A_imag.shape
    N = 2 * half
    n = torch.arange(half, dtype=torch.float32)
    re, im = {
        "lin": (torch.full((half,), 0.5), math.pi * n),
        "inv": (torch.full((half,), 0.5), N / math.pi * (N / (2 * n + 1) - 1)),
        "real": (n + 1, torch.zeros(half)),
    }[init]
    with torch.no_grad():
        layer.log_A_real.copy_(torch.log(re).expand(H, half))  # A = -exp(log_A_real) + i A_imag
        layer.A_imag.copy_(im.expand(H, half))
        C = torch.randn(H, half, dtype=torch.cfloat)
        layer.C_re.copy_(C.real)
        layer.C_im.copy_(C.imag)
        layer.log_dt.copy_(torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        layer.D.copy_(torch.randn(H))


def mamba_init(block, dt_min, dt_max):
    with torch.no_grad():
        d_inner, N = block.A_log.shape
        block.A_log.copy_(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(d_inner, 1))
        block.D.fill_(1.0)
        bound = block.dt_rank ** -0.5
        torch.nn.init.uniform_(block.dt_proj.weight, -bound, bound)
        dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min))
                       + math.log(dt_min)).clamp(min=1e-4)
        block.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        block.dt_proj.bias._no_reinit = True


def init_weights(net, m):
    """The sources' inits, then mamba_ssm's `_init_weights` (see the module doc)."""
    for mixer in net.mixers:
        if isinstance(mixer, MambaBlock):
            if mixer.lti is not None:
                s4d_init(mixer.lti, m["s4d_init"], m["dt_min"], m["dt_max"])
            else:
                mamba_init(mixer, m["dt_min"], m["dt_max"])
        else:
            s4d_init(mixer.s4d, m["s4d_init"], m["dt_min"], m["dt_max"])
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.Linear) and module.bias is not None:
                if not getattr(module.bias, "_no_reinit", False):
                    module.bias.zero_()
        torch.nn.init.normal_(net.embedding.weight, std=EMBED_STD)
        for name, p in net.named_parameters():
            if name.endswith("out_proj.weight"):
                torch.nn.init.kaiming_uniform_(p, a=math.sqrt(5))
                p /= math.sqrt(m["layers"])


def answer_loss(net, tokens, answers):
    k = answers.size(1)
    logits = net(tokens)[:, -k:, :]  # (n, k, vocab)
    flat = logits.reshape(-1, logits.size(-1))
    loss = F.cross_entropy(flat, answers.reshape(-1))
    acc = (flat.argmax(-1) == answers.reshape(-1)).float().mean()
    return loss, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", required=True, help="a scans spec or sweep file")
    ap.add_argument("--mixer", required=True, choices=sorted(NAMES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, help="override training.steps")
    ap.add_argument("--out", required=True, help="the metrics file to write")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--vocab", type=int, help="override task.vocab (data symbols)")
    ap.add_argument("--s4d-readout", choices=["glu", "linear"], default="glu",
                    help="the s4d block's output map: s4d.py's GLU, or a linear map (no gate)")
    ap.add_argument("--resume", action="store_true", help="carry on from OUT.ckpt if it exists")
    ap.add_argument("--stop-after", type=int, help="stop after the evaluation at this step, "
                    "keeping the checkpoint (`--resume` carries on)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec = load_spec(args.spec)
    if args.vocab is not None:
        spec["task"]["vocab"] = args.vocab
    if args.s4d_readout == "linear" and args.mixer == "s4d":
        args.mixer = "s4d_no_gate"
    task, opt, train = spec["task"], spec["optimizer"], spec["training"]
    if task["kind"] != "selective_copying":
        raise SystemExit(f"task.kind is {task['kind']!r}; this reference trains selective_copying")
    if opt["kind"] != "adam_w" or opt.get("orthograd") or opt.get("warmup_steps", 0):
        raise SystemExit("this reference trains plain AdamW (no warm-up, no ⊥Grad)")
    m = dict(next(iter(spec["models"].values())))
    m["mixer"] = args.mixer
    name = NAMES[args.mixer]
    steps = args.steps if args.steps is not None else train["steps"]

    torch.manual_seed(args.seed)
    vocab = task["vocab"] + 2
    net = Net(vocab, args.mixer, m["layers"], m["d_model"], m["d_state"], m["expand"],
              m["discretization"], scan=selective_scan_seq)
    init_weights(net, m)
    optimizer = torch.optim.AdamW(net.parameters(), lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]),
                                  eps=opt["eps"], weight_decay=opt["weight_decay"])
    train_rng = np.random.default_rng([args.seed, 0])
    eval_tokens, eval_answers = sample(task, spec["eval"]["sequences"], np.random.default_rng([args.seed, 1]))

    run_spec = dict(spec, seed=args.seed, models={name: m}, training=dict(train, steps=steps))
    header = {"format": "gradscope-metrics", "version": 2, "lab": "scans", "spec": {"scans": run_spec},
              "source": "scripts/reference/selective_copying_torch.py (PyTorch "
                        f"{torch.__version__}, float32, its own init and data)"}
    ckpt = args.out + ".ckpt"
    summary = {"first_0.9": None, "first_0.99": None, "best": 0.0}
    last, first_step, elapsed = None, 0, 0.0
    if args.resume and os.path.exists(ckpt):
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        train_rng.bit_generator.state = state["train_rng"]
        torch.set_rng_state(state["torch_rng"])
        summary, last, first_step, elapsed = state["summary"], state["last"], state["step"], state["elapsed"]
        if "records" in state:  # the file's lines up to the checkpoint's evaluation
            kept = state["records"]
        else:  # a checkpoint from before the records were kept in it: take them from the file
            with open(args.out) as f:
                kept = [l for l in f if "format" in json.loads(l) or json.loads(l)["step"] <= first_step]
        print(f"{name}: resuming at step {first_step} from {ckpt}", file=sys.stderr)
    else:
        kept = [json.dumps(header) + "\n"]
    start = time.perf_counter() - elapsed
    # The checkpoint keeps the records written so far, so a run killed at any moment (even while
    # this rewrites OUT) loses nothing the checkpoint had: an earlier version read them back from
    # OUT, and a kill before the first flush after a resume emptied it.
    with open(args.out, "w") as out:
        out.writelines(kept)
        out.flush()
        for step in range(first_step, steps + 1):
            if step == first_step and first_step > 0:
                pass  # evaluated before the checkpoint
            elif step % train["eval_every"] == 0 or step == steps:
                with torch.no_grad():
                    losses, accs = zip(*(answer_loss(net, eval_tokens[i:i + 64], eval_answers[i:i + 64])
                                         for i in range(0, len(eval_tokens), 64)))
                    sizes = [len(eval_tokens[i:i + 64]) for i in range(0, len(eval_tokens), 64)]
                    test_loss = sum(l.item() * s for l, s in zip(losses, sizes)) / sum(sizes)
                    test_acc = sum(a.item() * s for a, s in zip(accs, sizes)) / sum(sizes)
                series = {f"{name}.test_acc": test_acc, f"{name}.test_loss": test_loss}
                if last is not None:
                    series[f"{name}.train_acc"], series[f"{name}.train_loss"] = last
                wall_ms = 1000 * (time.perf_counter() - start)
                kept.append(json.dumps({"step": step, "wall_ms": wall_ms, "series": series}) + "\n")
                out.write(kept[-1])
                out.flush()
                summary["best"] = max(summary["best"], test_acc)
                for t in ("0.9", "0.99"):
                    if summary[f"first_{t}"] is None and test_acc >= float(t):
                        summary[f"first_{t}"] = step
                print(f"{name} seed {args.seed} step {step}: test acc {test_acc:.4f} loss {test_loss:.4f}"
                      f" ({wall_ms / 1000:.0f} s)", file=sys.stderr, flush=True)
                if not math.isfinite(test_loss):
                    raise SystemExit(f"{name}: the loss is {test_loss} at step {step}; stopped")
                if step < steps:
                    torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(),
                                "train_rng": train_rng.bit_generator.state,
                                "torch_rng": torch.get_rng_state(), "summary": summary, "last": last,
                                "step": step, "elapsed": time.perf_counter() - start, "records": kept},
                               ckpt + ".tmp")
                    os.replace(ckpt + ".tmp", ckpt)
                    if args.stop_after is not None and step >= args.stop_after:
                        print(f"{name}: stopped at step {step}; --resume carries on", file=sys.stderr)
                        return
            if step == steps:
                break
            tokens, answers = sample(task, train["batch_size"], train_rng)
            loss, acc = answer_loss(net, tokens, answers)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if opt["grad_clip"] > 0:
                torch.nn.utils.clip_grad_norm_(net.parameters(), opt["grad_clip"])
            optimizer.step()
            last = (acc.item(), loss.item())
    if os.path.exists(ckpt):
        os.remove(ckpt)
    with open(args.out) as f:
        test_acc = json.loads(f.readlines()[-1])["series"][f"{name}.test_acc"]
    print(json.dumps({"mixer": args.mixer, "seed": args.seed, "steps": steps, "final": test_acc,
                      **summary, "wall_s": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
