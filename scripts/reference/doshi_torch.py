"""The Doshi et al. quick-grok preset in plain PyTorch on the CPU, as a user of the paper's code
(d-doshi/Grokking) would run it: one-hot(a) ⊕ one-hot(b) → 500 → 97, x², no bias,
N(0, 0.5/(2N)^(1/3)) init, MSE on one-hot targets, AdamW(1e-2, wd 5, β (0.9, 0.98)), full batch.

Prints one JSON object: steps/s without and with per-step evaluation, and the step and wall time
at which test accuracy first reached 0.99. Used by scripts/bench-reference.sh.
"""
import argparse
import json
import os
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50, help="timed steps per measurement")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    p, n, frac = 97, 500, 0.5
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    labels = (pairs[:, 0] + pairs[:, 1]) % p
    perm = torch.randperm(len(pairs))
    n_train = int(frac * len(pairs))
    x = torch.cat([torch.nn.functional.one_hot(pairs[:, 0], p), torch.nn.functional.one_hot(pairs[:, 1], p)], 1).float()
    y = torch.nn.functional.one_hot(labels, p).float()
    tr, te = perm[:n_train], perm[n_train:]
    x_tr, y_tr, l_tr, x_te, l_te = x[tr], y[tr], labels[tr], x[te], labels[te]

    class FCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(2 * p, n, bias=False)
            self.fc2 = torch.nn.Linear(n, p, bias=False)
            std = 0.5 / (2 * n) ** (1 / 3)
            torch.nn.init.normal_(self.fc1.weight, std=std)
            torch.nn.init.normal_(self.fc2.weight, std=std)

        def forward(self, x):
            return self.fc2(self.fc1(x) ** 2)

    def fresh():
        model = FCN()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=5.0, betas=(0.9, 0.98))
        return model, opt

    loss_fn = torch.nn.MSELoss()

    def step(model, opt):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x_tr), y_tr).backward()
        opt.step()

    @torch.no_grad()
    def evaluate(model):
        train_out, test_out = model(x_tr), model(x_te)
        return {
            "train_loss": loss_fn(train_out, y_tr).item(),
            "train_acc": (train_out.argmax(1) == l_tr).float().mean().item(),
            "test_acc": (test_out.argmax(1) == l_te).float().mean().item(),
        }

    model, opt = fresh()
    step(model, opt)  # warm-up
    t = time.perf_counter()
    for _ in range(args.steps):
        step(model, opt)
    train_sps = args.steps / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(args.steps):
        step(model, opt)
        evaluate(model)
    eval_sps = args.steps / (time.perf_counter() - t)

    model, opt = fresh()
    t = time.perf_counter()
    grok_step = None
    for s in range(1, 101):
        step(model, opt)
        if evaluate(model)["test_acc"] >= 0.99:
            grok_step = s
            break
    grok_s = time.perf_counter() - t
    print(json.dumps({
        "torch": torch.__version__, "threads": args.threads,
        "train_steps_per_sec": train_sps, "eval_steps_per_sec": eval_sps,
        "grok_step": grok_step, "grok_seconds": grok_s,
    }))


if __name__ == "__main__":
    main()
