#!/usr/bin/python3
"""Draws benchmarks/results.png from benchmarks/results/latest.json (written by run.py).

    /usr/bin/python3 benchmarks/plot.py [RESULTS.json] [OUT.png]

One bar per compared configuration: MedZoo time / PyTorch time (below 1 = MedZoo faster), on a
log scale so that 2x faster and 2x slower look alike. Needs Debian's python3-matplotlib.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def label(row):
    k = row["key"]
    if row["part"] == "train":
        return f"train {k[0]} {k[1]}³ b{k[2]}"
    if row["part"] == "infer":
        return f"infer {k[0]} win {k[1]}³"
    return f"read {k[0]}"


def main(argv):
    source = argv[0] if argv else os.path.join(HERE, "results", "latest.json")
    target = argv[1] if len(argv) > 1 else os.path.join(HERE, "results.png")
    with open(source) as f:
        results = json.load(f)
    rows = [r for r in results["compare"] if not (r["part"] == "io" and r["key"][0].endswith(".nii"))]
    names = [label(r) for r in rows]
    ratios = [r["ratio"] for r in rows]
    colors = ["#2e7d32" if v <= 1 else "#c62828" for v in ratios]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.2), dpi=90)
    y = range(len(rows))
    ax.barh(y, ratios, color=colors)
    for i, r in enumerate(rows):
        ax.text(r["ratio"], i, f" {r['ratio']:.2f}", va="center", fontsize=8)
        if "ratioTuned" in r:
            ax.plot([r["ratioTuned"]], [i], marker="|", color="black", markersize=10)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(list(y))
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("MedZoo time / PyTorch time (log scale; < 1 = MedZoo faster; | = against PyTorch with MedZoo's allocator settings)", fontsize=8)
    threads = results["settings"]["threads"]
    ax.set_title(f"MedZoo (TorchSharp) vs PyTorch 1.13, {threads} threads, {results['started'][:10]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(target)
    print(f"{target}: {os.path.getsize(target) // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
