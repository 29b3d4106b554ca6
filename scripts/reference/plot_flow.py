"""Plots a gradient-flow lab metrics file (`gradscope run <spec> --out run.jsonl`) for
docs/reproductions.md, as the page shows it: per stack a block × evaluation-step heatmap of one
per-block metric on one shared log colour scale (white: exactly 0), then the held-out loss of
every stack (log).

    python scripts/reference/plot_flow.py out.png run.jsonl [--metric grad_norm] --title "…"
"""
import argparse
import json
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

COLORS = ["#1c7ed6", "#d9480f", "#2b8a3e", "#862e9c"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("run")
    ap.add_argument("--metric", default="grad_norm", help="grad_norm, act_rms, update_ratio, max_logit, grad_q, …")
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    with open(args.run) as f:
        records = [r for r in (json.loads(line) for line in f if line.strip()) if "step" in r]
    stacks = sorted({k.split(".")[0] for r in records for k in r["series"] if k.endswith(".test_loss")})
    grids = {}
    for s in stacks:
        prefix = f"{s}.{args.metric}."
        blocks = sorted({int(k[len(prefix):]) for r in records for k in r["series"] if k.startswith(prefix)})
        grids[s] = [[r["series"].get(f"{prefix}{b:02}", math.nan) for r in records] for b in blocks]
    positive = [v for g in grids.values() for row in g for v in row if v > 0 and math.isfinite(v)]
    norm = mcolors.LogNorm(min(positive), max(positive)) if positive else None
    n = len(stacks)
    fig, axes = plt.subplots(1, n + 2, figsize=(3.0 * n + 4.5, 3.6),
                             gridspec_kw={"width_ratios": [1] * n + [0.06, 1.3]})
    steps = [r["step"] for r in records]
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("#ced4da")  # not taken
    image = None
    for ax, s in zip(axes, stacks):
        g = grids[s]
        masked = [[(v if v > 0 else math.nan) for v in row] for row in g]
        zeros = [[(1.0 if v == 0 else math.nan) for v in row] for row in g]
        extent = (-0.5, len(steps) - 0.5, len(g) + 0.5, 0.5)
        image = ax.imshow(masked, aspect="auto", interpolation="nearest", cmap=cmap, norm=norm, extent=extent)
        ax.imshow(zeros, aspect="auto", interpolation="nearest", cmap=mcolors.ListedColormap(["white"]), extent=extent)
        ticks = sorted({0, len(steps) // 2, len(steps) - 1})
        ax.set_xticks(ticks, [str(steps[t]) for t in ticks])
        ax.set_xlabel("step")
        ax.set_ylabel("block")
        depth = len(g)
        ax.set_yticks(sorted({1, *range(0, depth + 1, max(1, depth // 4))} - {0}))
        ax.set_title(s, fontsize=9)
    if image is not None:
        fig.colorbar(image, cax=axes[n], label=f"{args.metric} (log)")
    loss = axes[-1]
    for i, s in enumerate(stacks):
        xs = [r["step"] for r in records if f"{s}.test_loss" in r["series"]]
        ys = [r["series"][f"{s}.test_loss"] for r in records if f"{s}.test_loss" in r["series"]]
        loss.plot(xs, ys, color=COLORS[i % len(COLORS)], label=s)
    loss.set_yscale("log")
    loss.set_xlabel("step")
    loss.set_ylabel("held-out loss")
    loss.grid(alpha=0.3)
    loss.legend(fontsize=7)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
