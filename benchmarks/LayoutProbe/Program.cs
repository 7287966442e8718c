using System.Diagnostics;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

// Usage: dotnet run -c Release --project benchmarks/LayoutProbe -- [THREADS]
// Median milliseconds (31 timed calls after 3 untimed) of the element-wise operations between VNET's convolutions, on
// plain (NCDHW) and channels-last tensors and on one of each, under MedZoo's own allocator settings (MallocTuning):
// without them, tensors of a few MB pay page faults on every allocation and the figures mislead.
var threads = args.Length > 0 && int.TryParse(args[0], out var t) && t > 0 ? t : 2;
MallocTuning.Apply();
TorchRuntime.EnsureLoaded();
torch.set_num_threads(threads);
Console.WriteLine($"{threads} threads; {MallocTuning.Explanation}");
using var noGrad = no_grad();
foreach (var (channels, size) in new[] { (32L, 64L), (16L, 64L), (32L, 32L) })
{
    using var scope = NewDisposeScope();
    var a = randn([1, channels, size, size, size]);
    var b = randn([1, channels, size, size, size]);
    var aLast = CpuConvolution.ToChannelsLast(a);
    var bLast = CpuConvolution.ToChannelsLast(b);
    var weight = full([channels], 0.25);
    Console.WriteLine($"{channels}×{size}³ (ms): " + string.Join("  ", new (string, Func<Tensor>)[]
    {
        ("clone", () => a.clone()),
        ("add_ plain+plain (with clone)", () => a.clone().add_(b)),
        ("add_ last+last (with clone)", () => aLast.clone().add_(bLast)),
        ("add_ last+plain (with clone)", () => aLast.clone().add_(b)),
        ("prelu plain", () => nn.functional.prelu(a, weight)),
        ("prelu last", () => nn.functional.prelu(aLast, weight)),
        ("to channels-last", () => CpuConvolution.ToChannelsLast(a)),
        ("to plain", () => aLast.contiguous()),
        ("cat plain", () => cat([a, b], 1)),
        ("cat last", () => cat([aLast, bLast], 1)),
        ("cat mixed", () => cat([aLast, b], 1)),
    }.Select(c => $"{c.Item1} {Median(c.Item2):F2}")));
}
return 0;

static double Median(Func<Tensor> operation)
{
    for (var i = 0; i < 3; i++)
    {
        using var scope = NewDisposeScope();
        operation();
    }
    var times = new double[31];
    for (var i = 0; i < times.Length; i++)
    {
        using var scope = NewDisposeScope();
        var watch = Stopwatch.StartNew();
        operation();
        times[i] = watch.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    return times[times.Length / 2];
}
