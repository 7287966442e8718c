#!/usr/bin/python3
"""CPU samples of libtorch's element-wise kernels, grouped by the TorchSharp entry point that called them.

perf's own reports cannot say which tensor operation a copy kernel served (a `contiguous`, a `cat`, a `pad`), because
oneDNN's generated code and .NET's frames break most call chains. The main thread's chains do reach TorchSharp's
native entry points (THSTensor_contiguous, THSTensor_cat, ...), and that is what this script counts. Worker threads
of libtorch's thread pool have no such frame; their samples are counted apart.

    perf record -e cpu-clock -F 250 --call-graph dwarf,32768 -o perf.data -- \\
        dotnet MedZoo.Web/bin/Release/net10.0/medzoo.dll bench --only infer --threads 2 --interop 1 --models VNET \\
        --dim 64 --volume 80 80 80 --overlap 0.5 --infer_repeats 1
    perf script -i perf.data -F ip,sym | /usr/bin/python3 benchmarks/perf_entry_points.py --hz 250 --units 16

--units divides the times (16 windows above: one warm-up volume and one timed, 8 windows each).
"""
import argparse
import collections
import sys

KERNELS = {
    "copy": "direct_copy_kernel",
    "add": "add_kernel",
    "prelu": "prelu_kernel",
    "mul": "mul_kernel",
    "fill": "fill_kernel",
    "sgemm": "sgemm",
}


def samples(lines):
    """Each sample's frames, innermost first, from `perf script -F ip,sym` (frames indented, samples blank-separated)."""
    frames = []
    for line in lines:
        if line.strip():
            if line[0] in " \t":
                frames.append(line.strip())
            continue
        if frames:
            yield frames
        frames = []
    if frames:
        yield frames


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hz", type=float, required=True, help="perf record's -F (samples per second per CPU)")
    parser.add_argument("--units", type=int, default=1, help="windows or steps the recording covers; times are per unit")
    args = parser.parse_args()
    if args.hz <= 0 or args.units < 1:
        parser.error("--hz must be positive and --units at least 1")
    counts = collections.Counter()
    total = 0
    for frames in samples(sys.stdin):
        total += 1
        kernel = next((k for k, symbol in KERNELS.items() if symbol in frames[0]), None)
        if kernel is None:
            continue
        entry = next((f.split()[-1] for f in frames if " THS" in f or f.startswith("THS")), "(a worker thread)")
        counts[(kernel, entry)] += 1
    if total == 0:
        sys.exit("perf_entry_points.py: no samples on stdin (pipe `perf script -F ip,sym` into it)")
    per_sample_ms = 1000.0 / args.hz / args.units
    print(f"{total} samples; ms of CPU per unit ({args.units} units, {args.hz:g} Hz), kernel by entry point:")
    for (kernel, entry), n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {n * per_sample_ms:8.2f}  {kernel:<6} {entry}")


if __name__ == "__main__":
    main()
