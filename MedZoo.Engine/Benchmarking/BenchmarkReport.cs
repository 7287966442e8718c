namespace MedZoo.Engine.Benchmarking;

/// <summary>
/// Everything one <see cref="BenchmarkRunner.Run"/> measured. Property names, camel-cased, are the
/// JSON field names of <c>medzoo bench --json</c> and of benchmarks/pytorch_bench.py, which the
/// driver (benchmarks/run.py) compares field by field. Times are seconds, sizes megabytes (10⁶ bytes).
/// </summary>
public sealed record BenchmarkReport
{
    /// <summary>"medzoo" (the PyTorch script writes "pytorch").</summary>
    public string Tool { get; init; } = "medzoo";

    /// <summary>Version of the libtorch TorchSharp runs on.</summary>
    public required string Torch { get; init; }

    /// <summary>TorchSharp's version.</summary>
    public required string TorchSharp { get; init; }

    /// <summary>.NET runtime version.</summary>
    public required string Runtime { get; init; }

    /// <summary>CPU model name (from /proc/cpuinfo where available).</summary>
    public required string Cpu { get; init; }

    /// <summary>Logical processors the process may use.</summary>
    public required int LogicalCores { get; init; }

    /// <summary>torch threads in effect while measuring.</summary>
    public required ThreadSettings Threads { get; init; }

    /// <summary>How CPU convolutions ran: channels_last, batched, native or per_sample (see <see cref="Networks.Blocks.CpuConvolution"/>).</summary>
    public required string ConvolutionRoute { get; init; }

    /// <summary>Layer shapes checked on first use (see <see cref="Networks.Blocks.CpuConvolution"/>), the seconds spent on it, and those that left channels-last.</summary>
    public int ConvolutionShapesChecked { get; init; }

    /// <summary>Seconds spent checking convolution shapes (once per shape and process, inside warm-up runs).</summary>
    public double ConvolutionCheckSeconds { get; init; }

    /// <summary>Shapes found wrong on channels-last data, and how they ran instead.</summary>
    public string[] ConvolutionFallbacks { get; init; } = [];

    /// <summary>Every convolution shape this process routed: its route, why, the timings it was chosen by, and whether it was checked now or read from the cache.</summary>
    public Networks.Blocks.ConvolutionChoice[] ConvolutionChoices { get; init; } = [];

    /// <summary>The convolution route cache file (null when off; see <see cref="Networks.Blocks.ConvolutionRouteCache"/>).</summary>
    public string? ConvolutionCache { get; init; }

    /// <summary>What happened with the cache file (read, absent, ignored and why, not saved and why).</summary>
    public string ConvolutionCacheStatus { get; init; } = "";

    /// <summary>Shapes whose route came from the cache file instead of a check in this process.</summary>
    public int ConvolutionCacheHits { get; init; }

    /// <summary>oneDNN's instruction-set setting, if the user chose one (DNNL_MAX_CPU_ISA).</summary>
    public string? OneDnnIsa { get; init; }

    /// <summary>How the native allocator was set up (see <see cref="Devices.MallocTuning"/>).</summary>
    public required string Allocator { get; init; }

    /// <summary>1, 5 and 15 minute load averages when the run started (null where the OS has none).</summary>
    public double[]? LoadAverageStart { get; init; }

    /// <summary>Load averages when the run ended.</summary>
    public double[]? LoadAverageEnd { get; init; }

    /// <summary>Training step timings, one per model and patch size.</summary>
    public IReadOnlyList<TrainBenchmark>? Train { get; init; }

    /// <summary>Sliding-window inference timings, one per model and window size.</summary>
    public IReadOnlyList<InferBenchmark>? Infer { get; init; }

    /// <summary>Patch loader throughput.</summary>
    public DataBenchmark? Data { get; init; }

    /// <summary>Volume reading throughput, one per file.</summary>
    public IReadOnlyList<IOBenchmark>? IO { get; init; }

    /// <summary>The trainer run (data wait and memory over steps).</summary>
    public TrainerBenchmark? Trainer { get; init; }

    /// <summary>Process memory at the end.</summary>
    public required MemoryReport Memory { get; init; }

    /// <summary>Wall time of the whole run.</summary>
    public required double TotalSeconds { get; init; }
}

/// <summary>torch's thread pools while measuring.</summary>
/// <param name="IntraOp">Threads one operator may use (torch.get_num_threads).</param>
/// <param name="InterOp">Threads of the inter-op pool (torch.get_num_interop_threads).</param>
public sealed record ThreadSettings(int IntraOp, int InterOp);

/// <summary>Median, extremes and every timed value of one measurement.</summary>
/// <param name="Median">Median of <paramref name="All"/>.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
/// <param name="All">Every timed value, in order.</param>
public sealed record TimingSummary(double Median, double Min, double Max, IReadOnlyList<double> All)
{
    /// <summary>Summarises <paramref name="values"/> (at least one).</summary>
    public static TimingSummary Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("at least one value is needed", nameof(values));
        return new TimingSummary(MedianOf(values), values.Min(), values.Max(), values.ToArray());
    }

    /// <summary>The median (mean of the two middle values for an even count).</summary>
    public static double MedianOf(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("at least one value is needed", nameof(values));
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>One model's training step: zero_grad, forward, Dice + CE loss, loss.item(), backward, Adam step.</summary>
public sealed record TrainBenchmark
{
    public required string Model { get; init; }
    public required long Parameters { get; init; }
    public required int[] Patch { get; init; }
    public required int Batch { get; init; }
    public required int InChannels { get; init; }
    public required int Classes { get; init; }
    public string Optimizer { get; init; } = "adam";

    /// <summary>Which Adam ran: MedZoo's single pass, or TorchSharp's own (<c>MEDZOO_ADAM=torchsharp</c>).</summary>
    public string OptimizerImplementation { get; init; } = "";
    public string Loss { get; init; } = "dice_ce";
    public required int Warmup { get; init; }
    public required int Repeats { get; init; }

    /// <summary>Whole step.</summary>
    public required TimingSummary Seconds { get; init; }

    /// <summary>Median of zero_grad + forward + loss + item.</summary>
    public required double ForwardSeconds { get; init; }

    /// <summary>Median of backward.</summary>
    public required double BackwardSeconds { get; init; }

    /// <summary>Median of the optimizer step.</summary>
    public required double OptimizerSeconds { get; init; }
}

/// <summary>Whole-volume sliding-window inference (no_grad, eval mode, softmax probabilities out).</summary>
public sealed record InferBenchmark
{
    public required string Model { get; init; }
    public required long Parameters { get; init; }
    public required int[] Volume { get; init; }
    public required int[] Window { get; init; }
    public required double Overlap { get; init; }
    public string Blend { get; init; } = "gaussian";
    public required int WindowsPerBatch { get; init; }
    public required int Windows { get; init; }
    public required int InChannels { get; init; }
    public required int Classes { get; init; }
    public required int Warmup { get; init; }

    /// <summary>Whether the warm-up predicted one window-sized volume rather than the whole volume (<see cref="BenchmarkOptions.InferWarmupWindow"/>).</summary>
    public bool WarmupOnWindow { get; init; }
    public required int Repeats { get; init; }
    public required TimingSummary Seconds { get; init; }
}

/// <summary>Patch loader throughput with augmentation on.</summary>
public sealed record DataBenchmark
{
    public required string Dataset { get; init; }
    public required int[] Patch { get; init; }
    public required int Batch { get; init; }
    public required int Channels { get; init; }
    public required int Workers { get; init; }
    public required bool Augmented { get; init; }
    public required long Patches { get; init; }
    public required double Seconds { get; init; }
    public required double PatchesPerSecond { get; init; }

    /// <summary>Worker CPU time per patch (seconds): what one patch costs regardless of how many workers share the load.</summary>
    public required double BuildSecondsPerPatch { get; init; }
}

/// <summary>Reading one volume file completely (header, voxels in their stored type).</summary>
public sealed record IOBenchmark
{
    public required string File { get; init; }

    /// <summary>"nii" or "nii.gz" (or the file's other extension).</summary>
    public required string Format { get; init; }

    public required long FileBytes { get; init; }

    /// <summary>Decoded voxel bytes, in MB (10⁶ bytes).</summary>
    public required double Megabytes { get; init; }

    public required int Warmup { get; init; }
    public required int Repeats { get; init; }
    public required TimingSummary Seconds { get; init; }

    /// <summary><see cref="Megabytes"/> / median seconds.</summary>
    public required double MegabytesPerSecond { get; init; }
}

/// <summary>A real trainer run: data wait and resident memory over its steps.</summary>
public sealed record TrainerBenchmark
{
    public required string Model { get; init; }
    public required int[] Patch { get; init; }
    public required int Batch { get; init; }
    public required int Steps { get; init; }
    public required bool Augmented { get; init; }
    public required int Workers { get; init; }

    /// <summary>Time the trainer waited for batches / training time, over the whole run (the trainer's DataWaitFraction, weighted by epoch time).</summary>
    public required double DataWaitFraction { get; init; }

    /// <summary>Median wall time of one training step as the trainer reports it.</summary>
    public required double MedianStepSeconds { get; init; }

    /// <summary>Epochs the steps were spread over.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Whether the run validated whole volumes after each epoch (validation time is outside every step figure).</summary>
    public bool Validated { get; init; } = true;

    /// <summary>Wall time of every step, data wait included.</summary>
    public IReadOnlyList<double> StepSeconds { get; init; } = [];

    /// <summary>Part of every step spent waiting for its batch.</summary>
    public IReadOnlyList<double> DataWaitSeconds { get; init; } = [];

    /// <summary>Per-step data wait / step time in percent, from step <see cref="SettleSteps"/> + 1 on: median, 95th percentile (nearest rank) and largest.</summary>
    public StepPercentiles? DataWaitPercent { get; init; }

    /// <summary>1-based step from which <see cref="ResidentSlopeMegabytesPer100Steps"/> is fitted: the first step of epoch 2, or after the settle steps in a one-epoch run.</summary>
    public int ResidentSlopeFromStep { get; init; }

    /// <summary>Least-squares slope of the resident set over the steps from <see cref="ResidentSlopeFromStep"/> on, in MB per 100 steps: 0 for flat memory, positive for growth.</summary>
    public double ResidentSlopeMegabytesPer100Steps { get; init; }

    /// <summary>Resident set (MB) after every step.</summary>
    public required IReadOnlyList<double> ResidentMegabytes { get; init; }

    /// <summary>Steps excluded from the stability check while allocators and caches settle (10 % of the run, at least 1).</summary>
    public required int SettleSteps { get; init; }

    /// <summary>Resident set after the first step.</summary>
    public required double ResidentStartMegabytes { get; init; }

    /// <summary>Resident set after the settle steps.</summary>
    public required double ResidentAfterSettleMegabytes { get; init; }

    /// <summary>Resident set after the last step.</summary>
    public required double ResidentEndMegabytes { get; init; }

    /// <summary>Largest resident set after the settle steps.</summary>
    public required double ResidentMaxMegabytes { get; init; }

    /// <summary>(max − value after settling) / value after settling, in percent: the growth the 5 % target bounds.</summary>
    public required double ResidentGrowthPercent { get; init; }

    /// <summary>(end − value after settling) / value after settling, in percent: where the run ended up.</summary>
    public required double ResidentDriftPercent { get; init; }

    /// <summary>TorchSharp tensors alive on the trainer's thread after the first step and after the last.</summary>
    public required long[] LiveTensors { get; init; }

    /// <summary>How the run ended (Completed, Failed, ...), and why when it failed.</summary>
    public required string Outcome { get; init; }
}

/// <summary>Summary of a per-step quantity.</summary>
/// <param name="Median">Median over the steps.</param>
/// <param name="P95">95th percentile, nearest rank (the smallest value at least 95 % of the steps do not exceed).</param>
/// <param name="Max">Largest value.</param>
/// <param name="Steps">Steps summarized.</param>
public sealed record StepPercentiles(double Median, double P95, double Max, int Steps);

/// <summary>Process memory.</summary>
/// <param name="PeakResidentMegabytes">Peak resident set (VmHWM), or null where /proc is missing.</param>
/// <param name="ResidentMegabytes">Resident set now (VmRSS), or null.</param>
/// <param name="ManagedHeapMegabytes">Managed heap in use (GC.GetTotalMemory).</param>
/// <param name="ManagedCommittedMegabytes">Memory the GC has committed for the managed heap.</param>
public sealed record MemoryReport(double? PeakResidentMegabytes, double? ResidentMegabytes, double ManagedHeapMegabytes, double ManagedCommittedMegabytes);
