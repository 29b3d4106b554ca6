"""Plots a `gradscope sweep` results file (docs/sweeps.md): a phase diagram over two axes, or a
curve over one, of a verdict field's median across the other axes (seeds), with the runs that
never reached it marked apart. The page's #sweeps view draws the same from the same file.

    plot_sweep.py OUT.png RESULTS.jsonl --x grokking.task.train_frac [--y PATH] [--field test_step_99]
"""
import argparse
import json
import math
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402


def load(path):
    rows = []
    for line in open(path):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a killed sweep's truncated last line
        if r.get("format") == "gradscope-sweep":
            rows.append(r)
    return rows


def value(r, field):
    """A verdict value; a step never reached within the budget (null, or "never" in lines of
    format 1) is +inf."""
    v = r["verdict"].get(field)
    last = field.rsplit(".", 1)[-1]
    is_step = last.endswith("_step") or "_step_" in last
    return math.inf if v == "never" or (v is None and is_step) else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("results")
    ap.add_argument("--x", required=True)
    ap.add_argument("--y")
    ap.add_argument("--field", default="test_step_99")
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    rows = load(a.results)
    short = lambda p: p.split(".", 1)[1] if "." in p else p  # noqa: E731
    xs = sorted({r["point"][a.x] for r in rows})
    fig, ax = plt.subplots(figsize=(7.5, 4.6) if a.y else (6.5, 4))
    if a.y:
        ys = sorted({r["point"][a.y] for r in rows})
        grid = [[math.nan] * len(xs) for _ in ys]
        for j, y in enumerate(ys):
            for i, x in enumerate(xs):
                vals = [value(r, a.field) for r in rows if r["point"][a.x] == x and r["point"][a.y] == y]
                if vals:
                    grid[j][i] = statistics.median(vals)
        finite = [v for row in grid for v in row if math.isfinite(v)]
        log = a.field.endswith("step_99") and finite and min(finite) > 0
        shown = [[v if math.isfinite(v) else math.nan for v in row] for row in grid]
        im = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis",
                       norm=LogNorm(min(finite), max(finite)) if log else None)
        for j, row in enumerate(grid):
            for i, v in enumerate(row):
                if v == math.inf:
                    ax.add_patch(plt.Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor="#9a9a9a", hatch="xx", edgecolor="#eee"))
                elif math.isfinite(v):
                    ax.text(i, j, f"{v:.0f}" if v >= 10 else f"{v:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if im.norm(v) < 0.6 else "black")
        ax.set_xticks(range(len(xs)), [f"{x:.3g}" for x in xs])
        ax.set_yticks(range(len(ys)), [f"{y:.3g}" for y in ys])
        ax.set_ylabel(short(a.y))
        fig.colorbar(im, ax=ax, label=f"{a.field} (median; hatched grey = never)")
    else:
        seeds = sorted({tuple(sorted((k, json.dumps(v)) for k, v in r["point"].items() if k != a.x)) for r in rows})
        for s in seeds:
            pts = [(r["point"][a.x], value(r, a.field)) for r in rows
                   if tuple(sorted((k, json.dumps(v)) for k, v in r["point"].items() if k != a.x)) == s]
            pts.sort()
            ax.plot([p[0] for p in pts if math.isfinite(p[1])], [p[1] for p in pts if math.isfinite(p[1])],
                    "o-", alpha=0.35, color="#1c7ed6", lw=1)
            never = [p[0] for p in pts if p[1] == math.inf]
            if never:
                ax.scatter(never, [0] * len(never), marker="x", color="#c92a2a", transform=ax.get_xaxis_transform(),
                           clip_on=False, zorder=3)
        med = []
        for x in xs:
            vals = [value(r, a.field) for r in rows if r["point"][a.x] == x]
            med.append(statistics.median(vals))
        ax.plot([x for x, m in zip(xs, med) if math.isfinite(m)], [m for m in med if math.isfinite(m)], "o-",
                color="#1c7ed6", lw=2.5, label="median over seeds")
        ax.set_yscale("log")
        ax.set_ylabel(f"{a.field} (log)")
        ax.legend(title="× on the axis: never within the budget", fontsize=8, title_fontsize=8)
    ax.set_xlabel(short(a.x))
    ax.set_title(a.title or a.results)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)


main()
