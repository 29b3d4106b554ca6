"""The gradient-flow lab's deep stacks in plain PyTorch on the CPU, as a user would write them:
a gradscope spec's stacks (MLP blocks; read from `gradscope spec <preset>`), trained side by side
on the same batches of its teacher–student task, timed three ways:

  * train: optimizer steps only;
  * instrumented: every step also takes the lab's per-block metrics on the device, as
    gradscope's `train_step(measure = true)` does — ‖∂L/∂W_l‖ over each block's W_in and W_out,
    the RMS of each block's output, ‖ΔW_l‖/‖W_l‖ of the step — without reading them back;
  * eval: every step followed by the held-out loss on 512 inputs and one readback of everything.

Block (as models/deep_stack.rs): branch F(h) = W_out·act(W_in h + b_in) + b_out; none: h + s·F(h),
Post-LN: LN(h + s·F(h)), Pre-LN: h + s·F(LN(h)), Peri-LN: h + s·LN(F(LN(h))), Mix-LN: Post for
the first ⌊ρL⌋ blocks then Pre; a final LN after Pre/Peri stacks; Kaiming init N(0, 2/fan_in)
on W_in, N(0, 1/fan_in) on W_out; readout N(0, 1/w). Only the spec's shape is reproduced, not
gradscope's random numbers: this is a speed reference.

Prints one JSON object. Used by `scripts/bench-reference.sh norm-placement`.
"""
import argparse
import json
import math
import os
import time

import torch


class Block(torch.nn.Module):
    def __init__(self, w, placement, act, scale, residual, norm_kind):
        super().__init__()
        self.w_in = torch.nn.Linear(w, w)
        self.w_out = torch.nn.Linear(w, w)
        torch.nn.init.normal_(self.w_in.weight, std=math.sqrt(2 / w))
        torch.nn.init.normal_(self.w_out.weight, std=math.sqrt(1 / w))
        torch.nn.init.zeros_(self.w_in.bias)
        torch.nn.init.zeros_(self.w_out.bias)
        norm = (lambda: torch.nn.LayerNorm(w)) if norm_kind == "layer_norm" else (lambda: torch.nn.RMSNorm(w, eps=1e-5))
        self.norm_in = norm() if placement in ("pre", "peri") else None
        self.norm_out = norm() if placement in ("post", "peri") else None
        self.placement, self.act, self.scale, self.residual = placement, act, scale, residual

    def forward(self, h):
        x = self.norm_in(h) if self.norm_in is not None else h
        f = self.w_out(self.act(self.w_in(x)))
        if self.placement == "peri":
            f = self.norm_out(f)
        out = (h if self.residual else 0) + self.scale * f
        return self.norm_out(out) if self.placement == "post" else out


class Stack(torch.nn.Module):
    def __init__(self, m, d_in, d_out):
        super().__init__()
        w, depth = m["width"], m["depth"]
        acts = {"relu": torch.relu, "gelu": torch.nn.functional.gelu, "tanh": torch.tanh,
                "selu": torch.selu, "linear": lambda x: x}
        if m["init"] != "kaiming" or m["block"] != "mlp":
            raise SystemExit("this reference covers Kaiming-initialised MLP stacks")
        post = math.floor(m["mix_ratio"] * depth)
        placements = [("post" if l < post else "pre") if m["norm"] == "mix" else m["norm"] for l in range(depth)]
        scale = 1 / math.sqrt(depth) if m["residual"] == "inv_sqrt_depth" else 1.0
        self.input = torch.nn.Linear(d_in, w, bias=False)
        torch.nn.init.normal_(self.input.weight, std=math.sqrt(1 / d_in))
        self.blocks = torch.nn.ModuleList(
            Block(w, p, acts[m["activation"]], scale, m["residual"] != "none", m["norm_kind"]) for p in placements)
        self.final = torch.nn.LayerNorm(w) if placements[-1] in ("pre", "peri") else None
        self.head = torch.nn.Linear(w, d_out, bias=False)
        torch.nn.init.normal_(self.head.weight, std=math.sqrt(1 / w))

    def forward(self, x):
        h, trace = self.input(x), []
        for b in self.blocks:
            h = b(h)
            trace.append(h)
        h = self.final(h) if self.final is not None else h
        return self.head(h), trace


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", help="a gradient-flow spec file (`gradscope spec norm-placement`)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    g = json.load(open(args.spec))["gradient_flow"]
    task, opt_spec, batch = g["task"], g["optimizer"], g["training"]["batch_size"]
    if task["kind"] != "teacher_student" or opt_spec["kind"] != "adam_w":
        raise SystemExit("this reference covers teacher–student specs trained by AdamW")
    d_in, d_out = task["input_dim"], task["output_dim"]
    teacher = [torch.randn(d_in, d_in) / math.sqrt(d_in) for _ in range(task["teacher_depth"] - 1)]
    teacher.append(torch.randn(d_in, d_out) / math.sqrt(d_in))

    def targets(x):
        for k, w in enumerate(teacher):
            x = x @ w
            x = torch.tanh(x) if k < len(teacher) - 1 else x
        return x

    x_eval = torch.randn(512, d_in)
    y_eval = targets(x_eval)
    stacks = [Stack(m, d_in, d_out) for m in g["models"].values()]
    opts = [torch.optim.AdamW(s.parameters(), lr=opt_spec["lr"], betas=(opt_spec["beta1"], opt_spec["beta2"]),
                              eps=opt_spec["eps"], weight_decay=opt_spec["weight_decay"]) for s in stacks]

    def step(measure):
        x = torch.randn(batch, d_in)
        y = targets(x)
        out = []
        for s, o in zip(stacks, opts):
            o.zero_grad(set_to_none=True)
            pred, trace = s(x)
            loss = 0.5 * ((pred - y) ** 2).sum() / batch
            loss.backward()
            if measure:
                with torch.no_grad():
                    grads = torch.stack([torch.sqrt(b.w_in.weight.grad.square().sum() + b.w_out.weight.grad.square().sum())
                                         for b in s.blocks])
                    rms = torch.stack([h.detach().square().mean().sqrt() for h in trace])
                    old = [(b.w_in.weight.clone(), b.w_out.weight.clone()) for b in s.blocks]
            o.step()
            if measure:
                with torch.no_grad():
                    ratio = torch.stack([torch.sqrt(((b.w_in.weight - wi).square().sum() + (b.w_out.weight - wo).square().sum())
                                                    / (wi.square().sum() + wo.square().sum()))
                                         for b, (wi, wo) in zip(s.blocks, old)])
                    out.append(torch.cat([loss.detach().reshape(1), grads, rms, ratio]))
            else:
                out.append(loss.detach().reshape(1))
        return out

    @torch.no_grad()
    def evaluate(parts):
        test = [0.5 * ((s(x_eval)[0] - y_eval) ** 2).sum().reshape(1) / 512 for s in stacks]
        return torch.cat(parts + test).tolist()  # the one readback

    def timed(fn):
        t = time.perf_counter()
        for _ in range(args.steps):
            fn()
        return args.steps / (time.perf_counter() - t)

    step(True)  # warm-up
    train = timed(lambda: step(False))
    instrumented = timed(lambda: step(True))
    evaluated = timed(lambda: evaluate(step(True)))
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "steps": args.steps,
        "stacks": len(stacks), "train_steps_per_sec": train, "instrumented_steps_per_sec": instrumented,
        "eval_steps_per_sec": evaluated,
    }))


if __name__ == "__main__":
    main()
