"""Plots `gradscope run --out` metrics files (JSON lines) for docs/reproductions.md:
loss (log) and accuracy over steps (log), one figure per file, optional overlays. Files of labs
with named series (the scans lab: `{"series": {"mamba.test_acc": …}}`) get one curve per model.

    python scripts/reference/plot_metrics.py out.png run.jsonl [other.jsonl ...] --title "…"
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    """The records of a metrics file, without its header line (format version ≥ 2)."""
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if "step" in r]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--title", default="")
    ap.add_argument("--labels", nargs="*")
    args = ap.parse_args()
    fig, (ax_loss, ax_acc, ax_extra) = plt.subplots(1, 3, figsize=(15, 4))
    styles = ["-", "--", ":", "-."]
    colors = ["#1c7ed6", "#d9480f", "#2b8a3e", "#862e9c"]
    for i, path in enumerate(args.runs):
        h = [r for r in load(path) if r["step"] > 0]
        if h and "series" in h[0]:
            models = sorted({k.rsplit(".", 1)[0] for r in h for k in r["series"]})
            for j, m in enumerate(models):
                ls, c = styles[i % len(styles)], colors[j % len(colors)]
                get = lambda key: ([r["step"] for r in h if key in r["series"]], [r["series"][key] for r in h if key in r["series"]])
                ax_loss.plot(*get(f"{m}.train_loss"), ls, color=c, label=f"{m} train")
                ax_acc.plot(*get(f"{m}.test_acc"), ls, color=c, label=f"{m} held-out")
                ax_extra.plot(*get(f"{m}.test_loss"), ls, color=c, label=f"{m} held-out loss")
            ax_extra.set_yscale("log")
            continue
        label = (args.labels or [None] * len(args.runs))[i] or path.split("/")[-1]
        steps = [r["step"] for r in h]
        ls = styles[i % len(styles)]
        ax_loss.plot(steps, [r["train_loss"] for r in h], ls, color="#d9480f", label=f"{label} train")
        ax_loss.plot(steps, [r["test_loss"] for r in h], ls, color="#1c7ed6", label=f"{label} test")
        ax_acc.plot(steps, [r["train_acc"] for r in h], ls, color="#d9480f", label=f"{label} train")
        ax_acc.plot(steps, [r["test_acc"] for r in h], ls, color="#1c7ed6", label=f"{label} test")
        ax_extra.plot(steps, [r["weight_norm"] for r in h], ls, color="#5f3dc4", label=f"{label} ‖w‖")
        if any(r.get("softmax_collapse", 0) > 0 for r in h):
            ax2 = ax_extra.twinx()
            ax2.plot(steps, [r["softmax_collapse"] for r in h], ls, color="#c92a2a", label=f"{label} SC fraction")
            ax2.set_ylabel("softmax collapse fraction")
            ax2.set_ylim(0, 1)
            ax2.legend(loc="lower right", fontsize=7)
    for ax in (ax_loss, ax_acc, ax_extra):
        ax.set_xscale("log")
        ax.set_xlabel("step (log)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("loss")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.02)
    ax_extra.set_ylabel("held-out loss" if ax_extra.get_yscale() == "log" else "weight norm")
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
