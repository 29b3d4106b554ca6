"""gradscope's grokking transformer (the nanda-1l-transformer and power-division presets) in plain
PyTorch, written from the papers' code and sharing nothing with gradscope's Rust.

The model is Nanda et al.'s (`progress-measures-paper/transformers.py`): tokens [a, b, =] (vocab
p + 1, `=` is token p), learned token and position embeddings, causal multi-head attention
without biases (`torch.tril` mask, scores / sqrt(d_head)), a ReLU MLP with biases, an untied
unembedding, optionally pre-LayerNorm before attention, MLP and unembedding (the power-division
preset). Init N(0, 1/d_model) for every matrix, N(0, 1/(p+1)) for the unembedding, biases 0.
Softmax cross-entropy at `=`, AdamW with a linear warm-up. Two places where gradscope (and so
this reference) differ from Nanda's script, both on purpose: the readout has p classes, not p + 1
(the `=` token is never a label), and the warm-up's first step uses lr/10, not 0.

Two ways to run it:

* From gradscope's own numbers: `gradscope inspect init SPEC --out init.json`, then
  `transformer_torch.py --init init.json ...` starts from exactly gradscope's initial weights and
  split. With `--fixture OUT` it writes what `tests/native/transformer_reference.rs` and the browser test
  compare against: the dump, the per-step losses and accuracies, and the logits on every pair at
  the start and the end, computed in float64.
* On its own (`--preset nanda|power`): its own seeded init and split, for comparing when a run
  groks (`--steps`, `--eval-every`); prints one JSON object per evaluation, or writes them to
  `--out FILE`, where the run also keeps a checkpoint (FILE.ckpt, at each evaluation) that
  `--resume` carries on from with the same numbers. `--stop-after-grok N` ends the run N steps
  after test accuracy first reaches 0.99, as `gradscope run --stop-after-grok` does.

scripts/make-fixtures.sh regenerates the fixtures; torch lives in ~/.cache/gradscope/bench-venv.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F


class Transformer(torch.nn.Module):
    def __init__(self, p, layers, d_model, heads, d_mlp, layer_norm, causal):
        super().__init__()
        self.p, self.heads, self.causal, self.layer_norm = p, heads, causal, layer_norm
        P = lambda *shape: torch.nn.Parameter(torch.zeros(*shape))
        self.embed = P(p + 1, d_model)
        self.pos_embed = P(3, d_model)
        self.blocks = torch.nn.ModuleList()
        for _ in range(layers):
            blk = torch.nn.Module()
            for name in ["w_q", "w_k", "w_v", "w_o"]:
                setattr(blk, name, P(d_model, d_model))
            blk.w_in, blk.b_in = P(d_model, d_mlp), P(d_mlp)
            blk.w_out, blk.b_out = P(d_mlp, d_model), P(d_model)
            if layer_norm:
                blk.ln_attn = torch.nn.LayerNorm(d_model, eps=1e-5)
                blk.ln_mlp = torch.nn.LayerNorm(d_model, eps=1e-5)
            self.blocks.append(blk)
        self.ln_final = torch.nn.LayerNorm(d_model, eps=1e-5) if layer_norm else None
        self.unembed = P(d_model, p)

    def named_weights(self):
        """Parameters under gradscope's names (burn's LayerNorm calls weight/bias gamma/beta)."""
        out = {}
        for name, param in self.named_parameters():
            out[name.replace(".weight", ".gamma").replace(".bias", ".beta")] = param
        return out

    def init_like_nanda(self, generator):
        d_model = self.embed.shape[1]
        with torch.no_grad():
            for name, param in self.named_weights().items():
                if name.endswith(".gamma"):
                    param.fill_(1.0)
                elif name.endswith(".beta") or name.split(".")[-1] in ("b_in", "b_out"):
                    param.zero_()
                elif name == "unembed":
                    param.normal_(0.0, 1.0 / math.sqrt(self.p + 1), generator=generator)
                else:
                    param.normal_(0.0, 1.0 / math.sqrt(d_model), generator=generator)

    def forward(self, a, b):
        n = a.shape[0]
        tokens = torch.stack([a, b, torch.full_like(a, self.p)], 1)  # [n, 3]
        x = self.embed[tokens] + self.pos_embed  # [n, 3, d]
        t, d = x.shape[1], x.shape[2]
        dh = d // self.heads
        allowed = torch.tril(torch.ones(t, t, dtype=torch.bool))  # query i sees keys 0..=i
        for blk in self.blocks:
            h = blk.ln_attn(x) if self.layer_norm else x
            q = (h @ blk.w_q).view(n, t, self.heads, dh).transpose(1, 2)  # [n, H, t, dh]
            k = (h @ blk.w_k).view(n, t, self.heads, dh).transpose(1, 2)
            v = (h @ blk.w_v).view(n, t, self.heads, dh).transpose(1, 2)
            scores = q @ k.transpose(2, 3) / math.sqrt(dh)  # [n, H, t, t]
            if self.causal:
                scores = scores.masked_fill(~allowed, float("-inf"))
            z = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d)
            x = x + z @ blk.w_o
            h = blk.ln_mlp(x) if self.layer_norm else x
            x = x + F.relu(h @ blk.w_in + blk.b_in) @ blk.w_out + blk.b_out
        last = x[:, -1]  # [n, d]
        if self.ln_final is not None:
            last = self.ln_final(last)
        return last @ self.unembed  # [n, p]


def modular_pairs(op, p):
    pairs = [(a, b) for a in range(p) for b in range(p) if op != "div" or b != 0]
    fn = {
        "add": lambda a, b: (a + b) % p,
        "sub": lambda a, b: (a - b) % p,
        "mul": lambda a, b: (a * b) % p,
        "div": lambda a, b: (a * pow(b, p - 2, p)) % p,
    }[op]
    return [(a, b, fn(a, b)) for a, b in pairs]


def spec_for_preset(name):
    """The presets' settings (src/labs/grokking/presets.rs), as a gradscope spec dict."""
    transformer = dict(layers=1, d_model=128, heads=4, d_mlp=512, layer_norm=False, causal=True)
    optimizer = dict(lr=1e-3, weight_decay=1.0, beta1=0.9, beta2=0.98, eps=1e-8, warmup_steps=10)
    if name == "nanda":
        task = dict(op="add", p=113, train_frac=0.3)
        training = dict(steps=25000, batch_size=0, eval_every=100)
    elif name == "power":
        task = dict(op="div", p=97, train_frac=0.5)
        transformer.update(layers=2, layer_norm=True)
        training = dict(steps=10000, batch_size=512, eval_every=50)
    else:
        sys.exit(f"unknown preset {name}")
    return {"grokking": dict(seed=0, task=task, model={"transformer": transformer},
                             optimizer=optimizer, training=training)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", help="a `gradscope inspect init` dump: start from its weights and split")
    ap.add_argument("--preset", choices=["nanda", "power"], help="without --init: the preset's settings")
    ap.add_argument("--seed", type=int, default=0, help="without --init: init and split seed")
    ap.add_argument("--steps", type=int, help="override the spec's step budget")
    ap.add_argument("--eval-every", type=int, help="override the spec's evaluation interval")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    ap.add_argument("--fixture", help="write a test fixture here (needs --init)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", help="without --fixture: write the evaluations here (JSON lines), "
                    "checkpointing to OUT.ckpt at each one")
    ap.add_argument("--resume", action="store_true", help="with --out: carry on from OUT.ckpt")
    ap.add_argument("--stop-after-grok", type=int, help="stop this many steps after test acc >= 0.99")
    args = ap.parse_args()
    if args.out and (args.fixture or args.init):
        sys.exit("--out is for runs from the reference's own init (--preset), not fixtures")
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    torch.set_default_dtype(dtype)

    dump = None
    if args.init:
        with open(args.init) as f:
            dump = json.load(f)
        spec = dump["spec"]
    elif args.preset:
        spec = spec_for_preset(args.preset)
    else:
        sys.exit("give --init or --preset")
    g = spec["grokking"]
    task, opt, training = g["task"], g["optimizer"], dict(g["training"])
    tf = g["model"]["transformer"]
    loss_spec = g.get("loss", {})
    if loss_spec.get("kind", "cross_entropy") != "cross_entropy" or loss_spec.get("output_scale", 1.0) != 1.0 \
            or loss_spec.get("center") or loss_spec.get("class_mean") or task.get("label_noise", 0.0) != 0.0:
        sys.exit("this reference implements plain cross-entropy without label noise")
    if opt.get("kind", "adam_w") != "adam_w" or opt.get("orthograd") or opt.get("grad_clip", 0.0) > 0:
        sys.exit("this reference implements AdamW without ⊥Grad or clipping")
    if args.steps is not None:
        training["steps"] = args.steps
    if args.eval_every is not None:
        training["eval_every"] = args.eval_every
    p = task["p"]

    model = Transformer(p, tf["layers"], tf["d_model"], tf["heads"], tf["d_mlp"], tf["layer_norm"], tf["causal"])
    gen = torch.Generator().manual_seed(args.seed)
    if dump:
        weights = model.named_weights()
        names = [w["name"] for w in dump["params"]]
        if sorted(names) != sorted(weights):
            sys.exit(f"parameter names differ: dump {names}, reference {sorted(weights)}")
        with torch.no_grad():
            for w in dump["params"]:
                weights[w["name"]].copy_(torch.tensor(w["values"], dtype=dtype).view(w["shape"]))
        split = {k: [torch.tensor(dump[k][c]) for c in ("a", "b", "labels")] for k in ("train", "test")}
    else:
        model.init_like_nanda(gen)
        data = torch.tensor(modular_pairs(task["op"], p))
        data = data[torch.randperm(len(data), generator=gen)]
        n_train = int(task["train_frac"] * len(data))
        split = {"train": list(data[:n_train].T), "test": list(data[n_train:].T)}

    optimizer = torch.optim.AdamW(model.parameters(), lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]),
                                  eps=opt["eps"], weight_decay=opt["weight_decay"])
    warmup = opt.get("warmup_steps", 0)
    # gradscope's schedule (src/train/optim.rs): step s (0-based) uses lr·min((s+1)/warmup, 1).
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, 1.0) if warmup else 1.0)

    def evaluate(step):
        with torch.no_grad():
            out = {"step": step}
            for k in ("train", "test"):
                a, b, y = split[k]
                logits = model(a, b)
                out[f"{k}_loss"] = F.cross_entropy(logits, y).item()
                out[f"{k}_acc"] = (logits.argmax(1) == y).double().mean().item()
            return out

    def all_logits():
        with torch.no_grad():
            a = torch.cat([split["train"][0], split["test"][0]])
            b = torch.cat([split["train"][1], split["test"][1]])
            return model(a, b).flatten().tolist()

    batch = training.get("batch_size", 0)
    n_train = len(split["train"][0])
    if args.fixture and not (dump and (batch == 0 or batch >= n_train)):
        sys.exit("--fixture needs --init and a full-batch spec (the batch order is gradscope's own)")
    order, cursor, first_step, grokked = None, n_train, 1, None
    ckpt = args.out + ".ckpt" if args.out else None
    if ckpt and args.resume and os.path.exists(ckpt):
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        gen.set_state(state["generator"])
        order, cursor, grokked, history = state["order"], state["cursor"], state["grokked"], state["history"]
        first_step = history[-1]["step"] + 1
        print(f"resuming at step {first_step} from {ckpt}", file=sys.stderr)
    else:
        history = [evaluate(0)]
    start_logits = all_logits() if args.fixture else None
    sink = open(args.out, "w") if args.out else sys.stdout
    if not args.fixture:
        for record in history:  # on resume, the records up to the checkpoint
            print(json.dumps(record), file=sink, flush=True)
    for step in range(first_step, training["steps"] + 1):
        a, b, y = split["train"]
        if 0 < batch < n_train:
            if cursor + batch > n_train:
                order, cursor = torch.randperm(n_train, generator=gen), 0
            idx = order[cursor:cursor + batch]
            cursor += batch
            a, b, y = a[idx], b[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(a, b), y).backward()
        optimizer.step()
        schedule.step()
        if step % training["eval_every"] == 0 or step == training["steps"]:
            record = evaluate(step)
            history.append(record)
            if not args.fixture:
                print(json.dumps(record), file=sink, flush=True)
            if grokked is None and record["test_acc"] >= 0.99:
                grokked = step
            if args.stop_after_grok is not None and grokked is not None \
                    and step >= grokked + args.stop_after_grok:
                break
            if ckpt and step < training["steps"]:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "schedule": schedule.state_dict(), "generator": gen.get_state(),
                            "order": order, "cursor": cursor, "grokked": grokked, "history": history},
                           ckpt + ".tmp")
                os.replace(ckpt + ".tmp", ckpt)
    if ckpt and os.path.exists(ckpt):
        os.remove(ckpt)

    if args.fixture:
        fixture = {
            "made_by": "scripts/reference/transformer_torch.py --init <dump> --fixture <this file> "
                       f"--steps {training['steps']} --dtype {args.dtype}",
            "torch": torch.__version__,
            "dtype": args.dtype,
            "init": dump,
            "history": history,
            "logits_start": start_logits,
            "logits_end": all_logits(),
        }
        with open(args.fixture, "w") as f:
            json.dump(fixture, f)
        print(f"wrote {args.fixture}: losses {history[0]['train_loss']:.4f} → {history[-1]['train_loss']:.4f}")


if __name__ == "__main__":
    main()
