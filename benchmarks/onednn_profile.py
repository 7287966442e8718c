#!/usr/bin/env python3
"""Where oneDNN's time goes in a MedZoo (or PyTorch) run, from oneDNN's own execution log.

Runs `medzoo bench --json ...` with ONEDNN_VERBOSE=profile_exec, or reads a log that another program wrote with it
(PyTorch's side: `ONEDNN_VERBOSE=profile_exec DNNL_VERBOSE=1 python3 benchmarks/pytorch_bench.py ... > log`;
Debian 12's PyTorch 1.13 has oneDNN 2, which reads DNNL_VERBOSE), and prints oneDNN's
time per unit of work (one inference window, one training step) split into convolutions by shape, with their speed
in multiply-adds per second, weight reorders (a weight converted to the kernel's blocked layout, once per call) and
activation reorders.

    /usr/bin/python3 benchmarks/onednn_profile.py -- --only infer --models VNET --dim 32 --volume 64 --infer_repeats 1
    /usr/bin/python3 benchmarks/onednn_profile.py --log pytorch.log --units 54

With `--` the units are the windows of every volume the bench ran (its untimed first volume included), or its
training steps (warm-up included); with --log, --units says how many there were. oneDNN only times its own
primitives: what libtorch runs itself (elementwise layers, norms, libtorch's own convolution kernels) is not in it.
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys

DLL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "MedZoo.Web", "bin", "Release", "net10.0", "medzoo.dll")
PROBLEM = re.compile(r"mb(\d+)_ic(\d+)oc(\d+)_id(\d+)od(\d+)kd(\d+)\S*?_ih(\d+)oh(\d+)kh(\d+)\S*?_iw(\d+)ow(\d+)kw(\d+)")


def parse(lines):
    """oneDNN execution records -> (kind, implementation, problem, milliseconds)."""
    records = []
    for line in lines:
        # oneDNN 3 (libtorch 2.x): onednn_verbose,v1,primitive,exec,...; oneDNN 2 (Debian's PyTorch 1.13): dnnl_verbose,exec,...
        if not line.startswith(("onednn_verbose,", "dnnl_verbose,")) or ",exec," not in line:
            continue
        fields = line.rstrip("\n").split(",")
        try:
            ms = float(fields[-1])
        except ValueError:
            continue
        # after "exec": <engine>,<kind>,<implementation>,<propagation>,<descriptors>,<attributes>,<auxiliary>,<problem>,<ms>
        start = fields.index("exec") + 1  # the engine
        records.append((fields[start + 1], fields[start + 2], fields[-2], ms))
    return records


def multiply_adds(problem):
    m = PROBLEM.search(problem)
    if not m:
        return None
    mb, ic, oc, _, od, kd, _, oh, kh, _, ow, kw = map(int, m.groups())
    return mb * ic * oc * od * oh * ow * kd * kh * kw


def weight_dims(kind, problem):
    """The weight shape of a convolution problem as a reorder names it (groups left out): O×I×KD×KH×KW, or I×O×… for a
    deconvolution, whose weight keeps its input channels first."""
    m = PROBLEM.search(problem)
    if not m:
        return None
    _, ic, oc, _, _, kd, _, _, kh, _, _, kw = map(int, m.groups())
    first, second = (ic, oc) if kind == "deconvolution" else (oc, ic)
    return f"{first}x{second}x{kd}x{kh}x{kw}"


def report(records, units, unit_name, wall_seconds=None):
    if not records:
        sys.exit("no oneDNN execution records in the log: was ONEDNN_VERBOSE=profile_exec (oneDNN 3) or DNNL_VERBOSE=1 (oneDNN 2) set, and does this libtorch use oneDNN?")
    weights = set()
    for kind, _, problem, _ in records:
        if kind in ("convolution", "deconvolution"):
            weights.add(weight_dims(kind, problem))
    # Per entry: its calls' median time × its calls per unit, so that a first call's one-off cost (page faults,
    # kernel generation) does not count as if every unit paid it.
    calls = collections.defaultdict(list)
    for kind, impl, problem, ms in records:
        if kind == "reorder":
            key = ("weight reorders" if problem in weights else "activation reorders", f"reorder {problem}", None)
        elif kind in ("convolution", "deconvolution"):
            key = ("convolutions", f"{kind} {impl} {problem}", multiply_adds(problem))
        else:
            key = ("other primitives", f"{kind} {impl} {problem}", None)
        calls[key].append(ms)
    groups = {}
    totals = collections.Counter()
    for key, times in calls.items():
        median = statistics.median(times)
        groups[key] = (median * len(times), len(times))
        totals[key[0]] += median * len(times)
    everything = sum(totals.values())
    print(f"oneDNN time per {unit_name} ({units:g} {unit_name}s in the log, {len(records)} primitive calls; "
          f"each entry's median call × its calls):")
    for part in ("convolutions", "weight reorders", "activation reorders", "other primitives"):
        if totals[part]:
            print(f"  {part:<20} {totals[part] / units:9.2f} ms  {100 * totals[part] / everything:5.1f} %")
    print(f"  {'all of oneDNN':<20} {everything / units:9.2f} ms")
    if wall_seconds:
        print(f"  {'wall time':<20} {1000 * wall_seconds:9.2f} ms  (oneDNN {100 * everything / units / (1000 * wall_seconds):.0f} % of it)")
    print(f"\nlargest entries (ms per {unit_name}, calls per {unit_name}, G multiply-adds per second):")
    for (part, name, macs), (ms, count) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:25]:
        speed = f"{macs * count / (ms / 1000) / 1e9:6.0f}" if macs else "      "
        print(f"  {ms / units:8.2f} {count / units:6.2f} {speed}  {part:<19} {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", help="parse this ONEDNN_VERBOSE=profile_exec log instead of running medzoo bench")
    ap.add_argument("--units", type=float, help="with --log: the windows or steps the log covers")
    ap.add_argument("--unit", default="window", help="with --log: what a unit is called (default window)")
    ap.add_argument("--dll", default=DLL, help="medzoo.dll to run (default: the Release build)")
    ap.add_argument("bench", nargs=argparse.REMAINDER, help="-- then medzoo bench arguments (one model, one --dim, one of --only infer / train)")
    a = ap.parse_args()
    if a.log:
        if not a.units or a.units <= 0:
            sys.exit("--log needs --units: how many windows or steps the log covers")
        with open(a.log, encoding="utf-8", errors="replace") as f:
            report(parse(f), a.units, a.unit)
        return
    args = [x for x in a.bench if x != "--"]
    if not args:
        sys.exit("give medzoo bench arguments after --, e.g. -- --only infer --models VNET --dim 32 --volume 64 --infer_repeats 1")
    if not os.path.exists(a.dll):
        sys.exit(f"{a.dll} does not exist: build it with `dotnet build MedZoo.Web -c Release`")
    env = dict(os.environ, ONEDNN_VERBOSE="profile_exec")
    run = subprocess.run(["dotnet", a.dll, "bench", "--json", *args], env=env, capture_output=True, text=True)
    lines = run.stdout.splitlines(keepends=True)
    rest = "".join(l for l in lines if not l.startswith(("onednn_verbose,", "dnnl_verbose,")))
    if run.returncode != 0:
        sys.exit(f"medzoo bench failed ({run.returncode}):\n{run.stderr[-2000:]}")
    bench = json.loads(rest)
    infer, train = bench.get("infer") or [], bench.get("train") or []
    if len(infer) + len(train) != 1:
        sys.exit("profile one configuration at a time: one model, one --dim, and --only infer or --only train")
    if infer:
        row = infer[0]
        volumes = row["warmup"] + row["repeats"]
        units = row["windows"] * volumes + (1 if row.get("warmupOnWindow") else 0)
        print(f"{row['model']}, {row['window'][0]}³ windows on {'×'.join(map(str, row['volume']))}, "
              f"{row['windowsPerBatch']} per pass; {bench['cpu']}, {bench['threads']['intraOp']} threads")
        report(parse(lines), units, "window", row["seconds"]["median"] / row["windows"])
    else:
        row = train[0]
        units = row["warmup"] + row["repeats"]
        print(f"{row['model']}, {row['patch'][0]}³ patches, batch {row['batch']}; {bench['cpu']}, {bench['threads']['intraOp']} threads")
        report(parse(lines), units, "step", row["seconds"]["median"])


if __name__ == "__main__":
    main()
