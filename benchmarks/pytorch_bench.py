#!/usr/bin/python3
"""PyTorch side of MedZoo's benchmarks: the measurements of ``medzoo bench``, done the PyTorch way.

Run it with Debian 12's interpreter and packages (``/usr/bin/python3`` with ``python3-torch`` 1.13
and ``python3-nibabel``); the ``python3`` first on PATH may be another interpreter without them.

What is measured, with the same definitions as ``medzoo bench`` (see benchmarks/README.md):

train   one optimizer step on a fixed random batch: zero_grad, forward (main logits), Dice + cross-
        entropy loss (MedZoo's default ``dice_ce``: softmax, background excluded from the Dice
        term, empty-class rule, CE over all classes), ``loss.item()``, backward, Adam step.
        The model is in train mode (dropout and batch statistics active). Warm-up steps first,
        then the median of the timed steps; forward, backward and optimizer are timed apart too.
infer   sliding-window inference of a whole volume under no_grad, model in eval mode: windows
        of the patch size at MedZoo's window positions (the last window of each axis aligned to
        the volume's end), one window per forward pass, Gaussian blending (sigma = 0.125 x window,
        normalised to 1 at the peak, clamped at 1e-3), then softmax of the blended logits.
io      reading a volume file completely into memory with nibabel (``mmap=False``, voxels in
        their stored type as ``np.asanyarray(img.dataobj)`` gives them); MB/s of decoded voxels.
memory  peak resident set (VmHWM) of the process.

Threads: ``torch.set_num_threads(threads)`` and ``torch.set_num_interop_threads(interop)`` before
any work, as the MedZoo side does with TorchSharp's equivalents.

Output: a JSON document (``--json``) with the same field names as ``medzoo bench --json``, or a
short text report.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

try:
    import numpy as np
    import torch
except ImportError as missing:  # name the package instead of a traceback (issue 19.6)
    sys.exit(f"pytorch_bench.py: {sys.executable} cannot import {missing.name}: run `scripts/prereqs.sh --bench` "
             f"(Debian's python3-torch and python3-numpy) and use /usr/bin/python3")
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_models  # noqa: E402  (our own PyTorch rebuild of MedicalZoo's networks)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "all": values}


def load_average():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def peak_resident_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def resident_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# ------------------------------------------------------------------------------------------------
# Loss: MedZoo's dice_ce with its default options (MedZoo.Engine/Losses/DiceCELoss.cs, DiceLoss.cs,
# LossMath.cs, WeightedCrossEntropyLoss.cs), written out in PyTorch.
# ------------------------------------------------------------------------------------------------
def dice_ce(logits, label, smooth_nr=1e-5, smooth_dr=1e-5):
    classes = logits.shape[1]
    lo, hi = label.min().item(), label.max().item()  # MedZoo checks the labels' range the same way
    if lo < 0 or hi >= classes:
        raise ValueError(f"label {lo}..{hi} outside 0..{classes - 1}")
    one_hot = F.one_hot(label, classes).permute(0, 4, 1, 2, 3).to(logits.dtype)
    p = logits.softmax(1)[:, 1:]
    t = one_hot[:, 1:]
    dims = (2, 3, 4)
    with torch.no_grad():
        hard = F.one_hot(logits.argmax(1), classes).permute(0, 4, 1, 2, 3).to(logits.dtype)[:, 1:]
        scored = (t.sum(dims) > 0) | (hard.sum(dims) > 0)
    intersection = (p * t).sum(dims)
    denominator = p.sum(dims) + t.sum(dims)
    terms = 1 - (2 * intersection + smooth_nr) / (denominator + smooth_dr).clamp_min(1e-12)
    mask = scored.to(terms.dtype)
    weighted = torch.where(scored, terms, torch.zeros_like(terms)) * torch.ones(1, dtype=terms.dtype)
    dice = weighted.sum() / mask.sum().clamp_min(1e-12)
    per_voxel = -(one_hot * logits.log_softmax(1)).sum(1)
    ce = per_voxel.sum() / one_hot.sum().clamp_min(1e-12)
    return dice + ce


def make_batch(batch, in_channels, classes, patch, seed):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(batch, in_channels, *patch, generator=g)
    label = torch.randint(0, classes, (batch, *patch), generator=g)
    return image, label


def bench_train(name, in_channels, classes, patch, batch, warmup, repeats, lr, seed):
    torch.manual_seed(seed)
    model = reference_models.build(name, in_channels, classes)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    image, label = make_batch(batch, in_channels, classes, patch, seed)
    totals, forwards, backwards, steps = [], [], [], []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        optimizer.zero_grad()
        logits = model(image)
        loss = dice_ce(logits, label)
        value = loss.item()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        if not math.isfinite(value):
            raise RuntimeError(f"{name}: loss became {value}")
        del logits, loss
        if i >= warmup:
            totals.append(t3 - t0)
            forwards.append(t1 - t0)
            backwards.append(t2 - t1)
            steps.append(t3 - t2)
    return {
        "model": name, "parameters": reference_models.parameter_count(model), "patch": list(patch), "batch": batch,
        "inChannels": in_channels, "classes": classes, "optimizer": "adam", "loss": "dice_ce", "warmup": warmup,
        "repeats": repeats, "seconds": summary(totals), "forwardSeconds": statistics.median(forwards),
        "backwardSeconds": statistics.median(backwards), "optimizerSeconds": statistics.median(steps),
    }


def axis_starts(size, window, overlap):
    """MedZoo's SlidingWindowInferer.AxisStarts."""
    if size <= window:
        return [0]
    stride = max(1, int(math.floor(window * (1 - overlap) + 1e-9)))
    count = int(math.ceil((size - window) / stride)) + 1
    starts = []
    for i in range(count):
        s = min(i * stride, size - window)
        if not starts or starts[-1] != s:
            starts.append(s)
    return starts


def gaussian_weight(window, sigma_scale=0.125):
    axes = []
    for w in window:
        sigma = sigma_scale * w
        center = (w - 1) / 2.0
        i = torch.arange(w, dtype=torch.float64)
        axes.append(torch.exp(-(i - center) ** 2 / (2 * sigma * sigma)))
    weight = axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]
    return (weight / weight.max()).clamp_min(1e-3).to(torch.float32)


def sliding_window(model, volume, window, overlap, windows_per_batch=1):
    """(1, C, D, H, W) → softmax probabilities (1, classes, D, H, W); volume at least window-sized.
    windows_per_batch windows go through the network together (MONAI's sw_batch_size)."""
    _, _, d, h, w = volume.shape
    weight = gaussian_weight(window)
    starts = [(a, b, c) for a in axis_starts(d, window[0], overlap)
              for b in axis_starts(h, window[1], overlap) for c in axis_starts(w, window[2], overlap)]
    accumulator = None
    weight_sum = torch.zeros(1, d, h, w)
    for first in range(0, len(starts), windows_per_batch):
        batch = starts[first:first + windows_per_batch]
        tiles = torch.cat([volume[:, :, a:a + window[0], b:b + window[1], c:c + window[2]] for (a, b, c) in batch], 0)
        outs = model(tiles)
        for i, (a, b, c) in enumerate(batch):
            out = outs[i]
            if accumulator is None:
                accumulator = torch.zeros(out.shape[0], d, h, w, dtype=out.dtype)
            region = (slice(None), slice(a, a + window[0]), slice(b, b + window[1]), slice(c, c + window[2]))
            accumulator[region] += out * weight
            weight_sum[region] += weight
    return (accumulator / weight_sum).softmax(0).unsqueeze(0), len(starts)


def bench_infer(name, in_channels, classes, window, volume_size, overlap, warmup, repeats, seed, warmup_window=False, windows_per_batch=1):
    if any(v < w for v, w in zip(volume_size, window)):
        raise ValueError(f"volume {volume_size} must be at least the window {window} (padding is not benchmarked)")
    torch.manual_seed(seed)
    model = reference_models.build(name, in_channels, classes)
    model.eval()
    g = torch.Generator().manual_seed(seed)
    volume = torch.randn(1, in_channels, *volume_size, generator=g)
    times = []
    windows = 0
    with torch.no_grad():
        for i in range(warmup + repeats):
            t0 = time.perf_counter()
            # --infer-warmup-window: a window-sized corner is one window of the same shape (MedZoo's bench does the same).
            source = volume[:, :, :window[0], :window[1], :window[2]].contiguous() if i < warmup and warmup_window else volume
            probabilities, n = sliding_window(model, source, window, overlap, windows_per_batch)
            elapsed = time.perf_counter() - t0
            del probabilities
            if i >= warmup:
                times.append(elapsed)
                windows = n
    return {
        "model": name, "parameters": reference_models.parameter_count(model), "volume": list(volume_size),
        "window": list(window), "overlap": overlap, "blend": "gaussian", "windowsPerBatch": windows_per_batch, "windows": windows,
        "inChannels": in_channels, "classes": classes, "warmup": warmup, "warmupOnWindow": warmup_window, "repeats": repeats,
        "seconds": summary(times),
    }


def bench_io(path, warmup, repeats):
    import nibabel as nib
    times = []
    nbytes = 0
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        img = nib.load(path, mmap=False)
        data = np.asanyarray(img.dataobj)
        elapsed = time.perf_counter() - t0
        nbytes = data.nbytes
        del data, img
        if i >= warmup:
            times.append(elapsed)
    megabytes = nbytes / 1e6
    median = statistics.median(times)
    return {
        "file": path, "format": "nii.gz" if path.endswith(".gz") else "nii", "fileBytes": os.path.getsize(path),
        "megabytes": megabytes, "warmup": warmup, "repeats": repeats, "seconds": summary(times),
        "megabytesPerSecond": megabytes / median,
    }


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="train,infer,io", help="comma-separated: train, infer, io")
    p.add_argument("--models", nargs="+", default=["UNET3D", "VNET"])
    p.add_argument("--patches", nargs="+", type=int, default=[32, 64], help="cube patch (window) sizes")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--inChannels", type=int, default=2)
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--volume", nargs=3, type=int, default=[96, 96, 96])
    p.add_argument("--overlap", type=float, default=0.5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--infer-repeats", type=int, default=3)
    p.add_argument("--infer-warmup-window", action="store_true", help="warm infer up on one window-sized volume instead of a whole volume")
    p.add_argument("--windows-per-batch", type=int, default=1, help="infer: windows per forward pass (MONAI's sw_batch_size)")
    p.add_argument("--io-file", nargs="*", default=[])
    p.add_argument("--io-repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--interop", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1777777)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - {"train", "infer", "io"}
    if unknown:
        p.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; use train, infer, io")
    if args.threads < 1 or args.interop < 1:
        p.error("--threads and --interop must be at least 1")
    if args.windows_per_batch < 1:
        p.error("--windows-per-batch must be at least 1")
    if "io" in args.only and not args.io_file:
        p.error("io needs --io-file FILE... (the driver writes the files both sides read)")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.interop)
    report = {
        "tool": "pytorch", "torch": torch.__version__, "python": platform.python_version(),
        "cpu": cpu_model(), "logicalCores": os.cpu_count(),
        "threads": {"intraOp": torch.get_num_threads(), "interOp": torch.get_num_interop_threads()},
        "loadAverageStart": load_average(),
    }
    started = time.perf_counter()
    if "train" in args.only:
        report["train"] = [bench_train(m, args.inChannels, args.classes, (s, s, s), args.batch, args.warmup, args.repeats, args.lr, args.seed)
                           for m in args.models for s in args.patches]
    if "infer" in args.only:
        report["infer"] = [bench_infer(m, args.inChannels, args.classes, (s, s, s), tuple(args.volume), args.overlap, 1, args.infer_repeats, args.seed,
                                       args.infer_warmup_window, args.windows_per_batch)
                           for m in args.models for s in args.patches]
    if "io" in args.only:
        report["io"] = [bench_io(f, 1, args.io_repeats) for f in args.io_file]
    report["memory"] = {"peakResidentMegabytes": peak_resident_mb(), "residentMegabytes": resident_mb()}
    report["loadAverageEnd"] = load_average()
    report["totalSeconds"] = time.perf_counter() - started
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    print(f"PyTorch {report['torch']} on {report['cpu']}, threads {report['threads']}")
    for r in report.get("train", []):
        print(f"train {r['model']:7} {r['patch'][0]}^3 batch {r['batch']}: {r['seconds']['median']:.3f} s/step "
              f"(forward {r['forwardSeconds']:.3f}, backward {r['backwardSeconds']:.3f}, optimizer {r['optimizerSeconds']:.3f}; "
              f"{r['parameters']:,} parameters)")
    for r in report.get("infer", []):
        print(f"infer {r['model']:7} window {r['window'][0]}^3 volume {'x'.join(map(str, r['volume']))}, "
              f"overlap {r['overlap']}: {r['seconds']['median']:.3f} s ({r['windows']} windows)")
    for r in report.get("io", []):
        print(f"read  {os.path.basename(r['file'])}: {r['megabytesPerSecond']:.1f} MB/s ({r['seconds']['median'] * 1000:.1f} ms)")
    print(f"peak resident {report['memory']['peakResidentMegabytes']:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
