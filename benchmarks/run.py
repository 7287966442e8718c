#!/usr/bin/python3
"""Runs MedZoo's and PyTorch's benchmarks side by side and prints MedZoo time / PyTorch time.

    /usr/bin/python3 benchmarks/run.py                 # everything, 2 rounds (about 40 minutes on 2 idle cores)
    /usr/bin/python3 benchmarks/run.py --quick         # one round, 32^3 only, fewer repeats (minutes)
    /usr/bin/python3 benchmarks/run.py --parts train --models UNET3D --patches 64
    /usr/bin/python3 benchmarks/plot.py                # benchmarks/results/latest.json -> benchmarks/results.png

Method (benchmarks/README.md has the details):
* Both sides run the same work with the same definitions (benchmarks/pytorch_bench.py mirrors
  ``medzoo bench``), the same thread settings (--threads intra-op, --interop inter-op) and the
  same input sizes; networks come from MedZoo's zoo and from reference_models.py, whose parameter
  counts are checked to be equal before anything is compared.
* Every configuration (part, model, size) runs in a fresh process per side and per round; within
  a round the two sides run back to back, and the side that goes first alternates between
  rounds, so a change in machine load hits both sides alike. The timed values of all rounds are
  pooled per side and the ratio is median(MedZoo) / median(PyTorch).
* Load averages before and after every process are recorded and reported with the results.

* Training also runs a third side: PyTorch with the glibc allocator settings MedZoo applies to
  itself (MedZoo.Engine/Devices/MallocTuning.cs: large blocks from the heap, no trimming), given
  through GLIBC_TUNABLES, to show how much of a difference is the allocator rather than the code.

MedZoo-only measurements with targets but no PyTorch counterpart (data pipeline throughput, the
trainer's data-wait fraction in the demo configuration, resident memory over 500 trainer steps)
are the parts data and trainer.

The part realsize (issue 19.4) works at the nnU-Net plan's sizes: sliding-window inference of a
181 x 217 x 181 volume (1 mm MNI grid) with 64^3 windows at overlap 0.5 beside PyTorch (same windows,
Gaussian blending), and a MedZoo trainer run on synthetic subjects of that size with 64^3 patches
and augmentation, reporting the per-step data wait (median, p95) and resident memory over epochs.
--plan prints the commands as JSON without running anything.

Writes the raw results to benchmarks/results/latest.json (--output) for plot.py.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MEDZOO_DLL = os.path.join(ROOT, "MedZoo.Web", "bin", "Release", "net10.0", "medzoo.dll")
CH2 = os.path.join(ROOT, "testdata", "root", "usr", "share", "mricron", "templates", "ch2.nii.gz")


def load_average():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def run_json(command, log, env=None):
    started = time.time()
    proc = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=None if env is None else {**os.environ, **env})
    prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    log.write(f"  {time.time() - started:6.1f} s  {prefix + ' ' if prefix else ''}{' '.join(command[-12:])}\n")
    if proc.returncode != 0:
        # A failed configuration is reported in the table (and its reason kept), not hidden by aborting the rest.
        # stderr starts with progress lines ("benchmarking: 0%"); the error is at its end. The reason is the last line
        # that is neither progress nor a stack frame, and the log keeps the whole tail so that a failure seen once can be read afterwards.
        lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
        errors = [l for l in lines if not re.match(r"^\S[^:]*: \d+%", l) and not l.lstrip().startswith("at ")]  # nor .NET stack frames
        reason = (errors or lines or [f"exit code {proc.returncode}"])[-1]
        log.write(f"  FAILED ({proc.returncode}): {reason}\n")
        for line in lines[-30:]:
            log.write(f"    | {line}\n")
        log.flush()
        return {"failed": reason}
    log.flush()
    return json.loads(proc.stdout)


# What each part needs on the PyTorch side, and the Debian package that provides it.
PYTHON_MODULES = {"torch": "python3-torch", "numpy": "python3-numpy", "nibabel": "python3-nibabel"}
PART_MODULES = {"train": ["numpy", "torch"], "infer": ["numpy", "torch"], "io": ["numpy", "nibabel"], "data": [], "trainer": [],
                "realsize": ["numpy", "torch"], "realsize-infer": ["numpy", "torch"], "realsize-trainer": []}


def missing_prerequisites(parts, python):
    """Lines naming what this run cannot do without (empty: all there), instead of tracebacks later."""
    problems = []
    needed = sorted({m for part in parts for m in PART_MODULES[part]})
    if not shutil.which("dotnet"):
        problems.append("dotnet (the .NET 10 SDK) is not on PATH: install it (https://dotnet.microsoft.com/download), "
                        "then `dotnet build MedZoo.Web -c Release`")
    elif not os.path.exists(MEDZOO_DLL):
        problems.append(f"{os.path.relpath(MEDZOO_DLL, ROOT)} is missing: run `dotnet build MedZoo.Web -c Release` first")
    if needed:
        if not (os.path.isfile(python) and os.access(python, os.X_OK)):
            problems.append(f"the PyTorch side runs on {python}, which does not exist: install Debian's python3 "
                            f"(`scripts/prereqs.sh --bench`) or name another interpreter with --python")
        else:
            missing = []
            for module in needed:
                probe = subprocess.run([python, "-c", f"import {module}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if probe.returncode != 0:
                    missing.append(module)
            if missing:
                packages = " ".join(PYTHON_MODULES[m] for m in missing)
                problems.append(f"{python} cannot import {', '.join(missing)} (needed by --parts {','.join(parts)}): "
                                f"run `scripts/prereqs.sh --bench`, or `sudo apt-get install {packages}` on Debian")
    if "io" in parts:
        try:
            import nibabel  # noqa: F401  (run.py writes the io part's files itself)
            import numpy  # noqa: F401
        except ImportError as e:
            problems.append(f"this interpreter ({sys.executable}) cannot import {e.name}, which run.py needs to write the io files: "
                            "run it as `/usr/bin/python3 benchmarks/run.py` (after `scripts/prereqs.sh --bench`)")
    return problems


def medzoo_command(args, only, extra):
    return ["dotnet", MEDZOO_DLL, "bench", "--json", "--only", only, "--threads", str(args.threads),
            "--interop", str(args.interop)] + extra


def pytorch_command(args, only, extra):
    return [args.python, os.path.join(HERE, "pytorch_bench.py"), "--json", "--only", only,
            "--threads", str(args.threads), "--interop", str(args.interop)] + extra


def write_io_files(folder):
    """The files both sides read: Colin27 (ch2, uint8) when the test data is present, and an int16 head-like volume."""
    import nibabel as nib
    import numpy as np
    files = []
    if os.path.exists(CH2):
        img = nib.load(CH2)
        plain = os.path.join(folder, "ch2.nii")
        nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj), img.affine, img.header), plain)
        files += [plain, CH2]
    nx, ny, nz = 192, 224, 192
    rng = np.random.default_rng(1777777)
    x, y, z = np.meshgrid(*(np.linspace(-1.1, 1.1, n) for n in (nx, ny, nz)), indexing="ij")
    r = np.sqrt(x * x + y * y + z * z)
    head = np.where(r > 1, 0, np.where(r > 0.9, 300, np.where(r > 0.6, 700, 1000)))
    data = (head + np.where(r > 1, rng.integers(0, 6, r.shape), rng.integers(-25, 26, r.shape))).astype(np.int16)
    for name in ("head_int16.nii", "head_int16.nii.gz"):
        path = os.path.join(folder, name)
        nib.save(nib.Nifti1Image(data, np.eye(4)), path)
        files.append(path)
    return files


def infer_jobs(args, models, window, volume, warmup_window):
    """One infer configuration per model, the same windows on both sides (MedZoo's start positions, Gaussian blending)."""
    v = [str(x) for x in volume]
    jobs = []
    for m in models:
        ours = ["--models", m, "--dim", str(window), "--volume", *v, "--overlap", str(args.overlap), "--infer_repeats", str(args.infer_repeats)]
        theirs = ["--models", m, "--patches", str(window), "--volume", *v, "--overlap", str(args.overlap), "--infer-repeats", str(args.infer_repeats)]
        if warmup_window:
            ours.append("--infer_warmup_window")
            theirs.append("--infer-warmup-window")
        if args.windows_per_batch != 1:
            ours += ["--windows_per_batch", str(args.windows_per_batch)]
            theirs += ["--windows-per-batch", str(args.windows_per_batch)]
        per_pass = f", {args.windows_per_batch} per pass" if args.windows_per_batch != 1 else ""
        jobs.append(("infer", f"{m} window {window}^3 on {'x'.join(v)}{per_pass}", [
            ("medzoo", medzoo_command(args, "infer", ours), None), ("pytorch", pytorch_command(args, "infer", theirs), None)]))
    return jobs


def realsize_trainer_command(args):
    return medzoo_command(args, "trainer", ["--steps", str(args.realsize_steps), "--trainer_epochs", str(args.realsize_epochs), "--no_validation",
                                            "--dim", str(args.realsize_window), "--synthetic_size", *[str(x) for x in args.realsize_volume]]
                          + args.realsize_trainer_args.split())


def key_of(part, row):
    if part == "train":
        return (row["model"], row["patch"][0], row["batch"])
    if part == "infer":
        return (row["model"], row["window"][0], tuple(row["volume"]))
    return (os.path.basename(row["file"]),)


# MedZoo tunes glibc's malloc in-process (MallocTuning.cs: mmap threshold and trim threshold 1 GiB).
# This third side gives PyTorch the same settings, to separate the allocator from the rest.
TUNED = {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"}
SIDES = ("medzoo", "pytorch", "pytorch_tuned")


def main():
    p = argparse.ArgumentParser(description="MedZoo vs PyTorch, side by side")
    p.add_argument("--parts", default="train,infer,io,data,trainer",
                   help="comma-separated: train, infer, io, data, trainer, realsize (= realsize-infer and realsize-trainer)")
    p.add_argument("--models", nargs="+", default=["UNET3D", "VNET"])
    p.add_argument("--patches", nargs="+", type=int, default=[32, 64])
    p.add_argument("--batch2-patches", nargs="*", type=int, default=[32],
                   help="patch sizes also timed at batch 2 (none: skip)")
    p.add_argument("--volume", nargs="+", type=int, default=[80], help="volume infer predicts: a cube edge, or D H W")
    p.add_argument("--overlap", type=float, default=0.5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1, help="untimed training steps per process")
    p.add_argument("--repeats", type=int, default=4, help="timed training steps per process")
    p.add_argument("--infer-repeats", type=int, default=2, help="timed inferences per process (after one untimed)")
    p.add_argument("--windows-per-batch", type=int, default=1,
                   help="infer parts: windows per forward pass on both sides (MONAI's sw_batch_size; default 1, as MONAI's)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--interop", type=int, default=1)
    p.add_argument("--wait-steps", type=int, default=40, help="trainer part: steps of the data-wait run in the demo configuration")
    p.add_argument("--wait-args", default="--models UNET3D --dim 32 --data_batch 2",
                   help="trainer part: the demo configuration (the train verb's defaults: UNET3D, 32^3, batch 2, synthetic, augmentation on)")
    p.add_argument("--memory-steps", type=int, default=500, help="trainer part: steps of the resident-memory run")
    p.add_argument("--memory-args", default="--models UNET3D_CICEK --base_filters 8 --depth 3 --dim 32 --data_batch 2",
                   help="trainer part: model of the memory run (small, so that 500 steps take minutes)")
    p.add_argument("--realsize-volume", nargs=3, type=int, default=[181, 217, 181], metavar=("D", "H", "W"),
                   help="realsize part: volume of the inference and of the trainer run's synthetic subjects (1 mm MNI grid)")
    p.add_argument("--realsize-window", type=int, default=64, help="realsize part: window (inference) and patch (trainer run) edge")
    p.add_argument("--realsize-models", nargs="+", default=["UNET3D", "VNET"], help="realsize part: models of the inference beside PyTorch")
    p.add_argument("--realsize-steps", type=int, default=60, help="realsize part: training steps of the trainer run, over all its epochs")
    p.add_argument("--realsize-epochs", type=int, default=3, help="realsize part: epochs of the trainer run (memory is judged from the second)")
    p.add_argument("--realsize-trainer-args", default="--models UNET3D --data_batch 2 --synthetic_subjects 4",
                   help="realsize part: model, batch and subjects of the trainer run (augmentation is on, validation off)")
    p.add_argument("--plan", action="store_true", help="print the commands each part would run, as JSON, and exit")
    p.add_argument("--quick", action="store_true", help="one round, 32^3 only, 2 timed steps, 1 inference, short trainer runs")
    p.add_argument("--output", default=os.path.join(HERE, "results", "latest.json"))
    p.add_argument("--python", default="/usr/bin/python3", help="interpreter of the PyTorch side (Debian's, with python3-torch and python3-nibabel)")
    args = p.parse_args()
    if args.quick:
        args.rounds, args.patches, args.repeats, args.infer_repeats = 1, [32], 2, 1
        args.wait_steps, args.memory_steps = 10, 50
    parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    unknown = set(parts) - set(PART_MODULES)
    if unknown:
        p.error(f"--parts: unknown part(s) {', '.join(sorted(unknown))}: use {', '.join(PART_MODULES)}")
    if "realsize" in parts:   # both halves; each can also be asked for alone
        parts = [q for q in parts if q != "realsize"] + ["realsize-infer", "realsize-trainer"]
    if len(args.volume) not in (1, 3) or min(args.volume) < 1:
        p.error(f"--volume: give one cube edge or three sizes D H W, all positive (got {' '.join(map(str, args.volume))})")
    volume = args.volume * 3 if len(args.volume) == 1 else args.volume
    if min(args.realsize_volume) < args.realsize_window:
        p.error(f"--realsize-volume {' '.join(map(str, args.realsize_volume))} must be at least --realsize-window {args.realsize_window} on every axis")
    if args.realsize_epochs < 1 or args.realsize_steps % args.realsize_epochs != 0:
        p.error(f"--realsize-steps {args.realsize_steps} must be a positive multiple of --realsize-epochs {args.realsize_epochs} (epochs of equal length)")
    if args.windows_per_batch < 1:
        p.error(f"--windows-per-batch must be at least 1 (got {args.windows_per_batch})")
    if args.plan:
        print_plan(args, parts, volume)
        return
    problems = missing_prerequisites(parts, args.python)
    if problems:
        raise SystemExit("benchmarks/run.py cannot start:\n" + "\n".join(f"  - {line}" for line in problems))

    log = sys.stderr
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "settings": vars(args), "loadAverages": [], "compare": [], "medzooOnly": {}}
    samples = {}   # (part, key) -> {side: [timed values], "phases": {side: [...]}, "meta": {side: row}}

    def record(part, side, report, config):
        if "failed" in report:
            results.setdefault("failures", []).append({"part": part, "side": side, "configuration": config, "reason": report["failed"]})
            return
        results["loadAverages"].append({"side": side, "part": part, "start": report.get("loadAverageStart"), "end": report.get("loadAverageEnd")})
        for row in report.get(part, []):
            entry = samples.setdefault((part, key_of(part, row)), {**{s: [] for s in SIDES}, "phases": {s: [] for s in SIDES}, "meta": {}})
            entry["meta"].setdefault(side, {k: v for k, v in row.items() if k != "seconds"})
            entry[side] += row["seconds"]["all"]
            if part == "train":
                entry["phases"][side].append([row["forwardSeconds"], row["backwardSeconds"], row["optimizerSeconds"]])

    with tempfile.TemporaryDirectory(prefix="medzoo-bench-") as folder:
        io_files = write_io_files(folder) if "io" in parts else []
        jobs = []   # (part, [(side, command, env)])
        if "train" in parts:
            configs = [(m, s, 1) for m in args.models for s in args.patches] + [(m, s, 2) for m in args.models for s in args.batch2_patches]
            for m, s, b in configs:
                ours = medzoo_command(args, "train", ["--models", m, "--batchSz", str(b), "--dim", str(s), "--warmup", str(args.warmup),
                                                      "--repeats", str(args.repeats), "--inChannels", "2", "--classes", "4"])
                theirs = pytorch_command(args, "train", ["--models", m, "--batch", str(b), "--patches", str(s), "--warmup", str(args.warmup),
                                                         "--repeats", str(args.repeats)])
                sides = [("medzoo", ours, None), ("pytorch", theirs, None)]
                sides.append(("pytorch_tuned", theirs, TUNED))
                jobs.append(("train", f"{m} {s}^3 batch {b}", sides))
        if "infer" in parts:
            for s in args.patches:
                jobs += infer_jobs(args, args.models, s, volume, warmup_window=False)
        if "realsize-infer" in parts:
            jobs += infer_jobs(args, args.realsize_models, args.realsize_window, args.realsize_volume, warmup_window=True)
        if "io" in parts:
            jobs.append(("io", "read", [("medzoo", medzoo_command(args, "io", ["--io_file"] + io_files), None),
                                ("pytorch", pytorch_command(args, "io", ["--io-file"] + io_files), None)]))

        for round_index in range(args.rounds):
            log.write(f"round {round_index + 1} of {args.rounds}\n")
            for part, config, sides in jobs:
                # The side that goes first alternates, so a change of machine load hits both alike.
                order = sides if round_index % 2 == 0 else list(reversed(sides))
                for side, command, env in order:
                    record(part, side, run_json(command, log, env), config)

        only = results["medzooOnly"]
        if "data" in parts:
            report = run_json(medzoo_command(args, "data", []), log)
            only["data"] = report.get("data", report)
        if "trainer" in parts:
            report = run_json(medzoo_command(args, "trainer", ["--steps", str(args.wait_steps)] + args.wait_args.split()), log)
            only["dataWait"] = report.get("trainer", report)
            report = run_json(medzoo_command(args, "trainer", ["--steps", str(args.memory_steps)] + args.memory_args.split()), log)
            only["memory"] = report.get("trainer", report)
            only["memoryProcess"] = report.get("memory")
        if "realsize-trainer" in parts:
            report = run_json(realsize_trainer_command(args), log)
            only["realsize"] = report.get("trainer", report)
            only["realsizeProcess"] = report.get("memory")

    rows = []
    for (part, key), entry in samples.items():
        if not entry["medzoo"] or not entry["pytorch"]:
            continue
        ours, theirs = statistics.median(entry["medzoo"]), statistics.median(entry["pytorch"])
        meta = entry["meta"]
        row = {"part": part, "key": list(key), "medzoo": ours, "pytorch": theirs, "ratio": ours / theirs,
               "medzooSamples": entry["medzoo"], "pytorchSamples": entry["pytorch"]}
        if entry["pytorch_tuned"]:
            row["pytorchTuned"] = statistics.median(entry["pytorch_tuned"])
            row["pytorchTunedSamples"] = entry["pytorch_tuned"]
            row["ratioTuned"] = ours / row["pytorchTuned"]
        if part in ("train", "infer"):
            pm, pp = meta["medzoo"]["parameters"], meta["pytorch"]["parameters"]
            if pm != pp:
                raise SystemExit(f"{key[0]}: MedZoo has {pm:,} parameters, the PyTorch reference {pp:,}: not the same network")
            row["parameters"] = pm
        if part == "train":
            row["phases"] = {side: [statistics.median(v[i] for v in entry["phases"][side]) for i in range(3)]
                             for side in SIDES if entry["phases"][side]}
        if part == "infer":
            row["windows"] = meta["medzoo"]["windows"]
            if meta["pytorch"]["windows"] != row["windows"]:
                raise SystemExit(f"{key}: MedZoo predicted {row['windows']} windows, PyTorch {meta['pytorch']['windows']}")
            row["windowsPerBatch"] = meta["medzoo"].get("windowsPerBatch", 1)
            if meta["pytorch"].get("windowsPerBatch", 1) != row["windowsPerBatch"]:
                raise SystemExit(f"{key}: MedZoo ran {row['windowsPerBatch']} windows per pass, PyTorch {meta['pytorch'].get('windowsPerBatch', 1)}")
        if part == "io":
            row["megabytes"] = meta["medzoo"]["megabytes"]
            if abs(meta["pytorch"]["megabytes"] - row["megabytes"]) > 1e-9:
                raise SystemExit(f"{key[0]}: MedZoo decoded {row['megabytes']} MB, nibabel {meta['pytorch']['megabytes']} MB")
            row["medzooMBps"] = row["megabytes"] / ours
            row["pytorchMBps"] = row["megabytes"] / theirs
        rows.append(row)
    results["compare"] = rows
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    loads = [v for l in results["loadAverages"] for v in ((l["start"] or [None])[0], (l["end"] or [None])[0]) if v is not None]
    results["loadAverageRange"] = [min(loads), max(loads)] if loads else None

    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print_table(results, args)
    print(f"results: {os.path.relpath(args.output, ROOT)}")


def print_plan(args, parts, volume):
    """The commands of a run, per part, without running them (what --plan prints)."""
    plan = {"parts": parts, "jobs": []}
    if "infer" in parts:
        for s in args.patches:
            plan["jobs"] += [{"part": part, "configuration": c, "sides": {side: cmd for side, cmd, _ in sides}}
                             for part, c, sides in infer_jobs(args, args.models, s, volume, warmup_window=False)]
    if "realsize-infer" in parts:
        plan["jobs"] += [{"part": part, "configuration": c, "sides": {side: cmd for side, cmd, _ in sides}}
                         for part, c, sides in infer_jobs(args, args.realsize_models, args.realsize_window, args.realsize_volume, warmup_window=True)]
    if "realsize-trainer" in parts:
        plan["realsizeTrainer"] = realsize_trainer_command(args)
    json.dump(plan, sys.stdout, indent=1)
    sys.stdout.write("\n")


def print_table(results, args):
    rows = results["compare"]
    print(f"threads: {args.threads} intra-op, {args.interop} inter-op; {args.rounds} round(s); "
          f"1-minute load average during the runs {results['loadAverageRange']}")
    print(f"{'part':6} {'configuration':40} {'MedZoo':>9} {'PyTorch':>9} {'ratio':>6}")
    for row in rows:
        if row["part"] == "train":
            what = f"{row['key'][0]} {row['key'][1]}^3 batch {row['key'][2]} (s/step)"
        elif row["part"] == "infer":
            per_pass = f", {row['windowsPerBatch']} per pass" if row.get("windowsPerBatch", 1) != 1 else ""
            what = f"{row['key'][0]} window {row['key'][1]}^3 on {'x'.join(map(str, row['key'][2]))}, {row['windows']} windows{per_pass} (s)"
        else:
            what = f"read {row['key'][0]} (s)"
        print(f"{row['part']:6} {what:40} {row['medzoo']:9.3f} {row['pytorch']:9.3f} {row['ratio']:6.2f}")
        if "pytorchTuned" in row:
            print(f"{'':6} {'  PyTorch with MedZoo allocator settings':40} {row['medzoo']:9.3f} {row['pytorchTuned']:9.3f} {row['ratioTuned']:6.2f}")
    for row in rows:
        if row["part"] == "train" and row["key"][2] == 1:
            print(f"       {row['key'][0]} {row['key'][1]}^3: {row['parameters']:,} parameters on both sides")
    for row in rows:
        if row["part"] == "io":
            print(f"       {row['key'][0]}: MedZoo {row['medzooMBps']:.0f} MB/s, nibabel {row['pytorchMBps']:.0f} MB/s")
    for f in results.get("failures", []):
        print(f"FAILED {f['part']} {f['configuration']} ({f['side']}): {f['reason']}")
    only = {k: v for k, v in results["medzooOnly"].items() if v is not None and "failed" not in v}
    for k, v in results["medzooOnly"].items():
        if v is not None and "failed" in v:
            print(f"FAILED {k}: {v['failed']}")
    if "data" in only:
        d = only["data"]
        print(f"data: {d['patchesPerSecond']:.1f} patches/s with augmentation ({d['patch'][0]}^3, {d['workers']} worker(s), "
              f"{1000 * d['buildSecondsPerPatch']:.1f} ms of worker time per patch)")
    if "dataWait" in only:
        t = only["dataWait"]
        print(f"trainer {t['model']} {t['patch'][0]}^3 batch {t['batch']}: data wait {100 * t['dataWaitFraction']:.2f} % "
              f"of training time over {t['steps']} steps ({t['medianStepSeconds']:.3f} s/step)")
    if "realsize" in only:
        t = only["realsize"]
        w = t.get("dataWaitPercent") or {}
        print(f"realsize trainer {t['model']} {t['patch'][0]}^3 batch {t['batch']} on {'x'.join(map(str, args.realsize_volume))} subjects, "
              f"{t['steps']} steps in {t['epochs']} epochs ({t['medianStepSeconds']:.3f} s/step): data wait {100 * t['dataWaitFraction']:.2f} % of "
              f"training time; per step from step {t['settleSteps'] + 1}: median {w.get('median', float('nan')):.2f} %, p95 {w.get('p95', float('nan')):.2f} %")
        print(f"  resident {t['residentStartMegabytes']:.0f} MB after step 1, {t['residentEndMegabytes']:.0f} at the end, max {t['residentMaxMegabytes']:.0f}; "
              f"slope from step {t['residentSlopeFromStep']}: {t['residentSlopeMegabytesPer100Steps']:+.1f} MB per 100 steps")
    if "memory" in only:
        t = only["memory"]
        print(f"trainer {t['model']} {t['patch'][0]}^3 batch {t['batch']}, {t['steps']} steps: resident {t['residentStartMegabytes']:.0f} MB "
              f"after step 1, {t['residentAfterSettleMegabytes']:.0f} after step {t['settleSteps'] + 1}, {t['residentEndMegabytes']:.0f} at the end "
              f"(drift {t['residentDriftPercent']:+.1f} %, max growth {t['residentGrowthPercent']:.1f} %); data wait {100 * t['dataWaitFraction']:.2f} %")


if __name__ == "__main__":
    main()
