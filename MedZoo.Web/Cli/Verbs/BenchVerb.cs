using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedZoo.Engine.Benchmarking;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo bench</c>: measures training step time, whole-volume sliding-window inference time, data
/// pipeline throughput, volume reading throughput and memory (see <see cref="BenchmarkRunner"/>), each
/// with warm-up runs and the median of several. Progress lines go to stderr; the result goes to stdout
/// as a table, or as JSON with <c>--json</c> (the fields of <see cref="BenchmarkReport"/>, camel-cased,
/// the same as benchmarks/pytorch_bench.py writes, so benchmarks/run.py can compare them).
/// </summary>
public sealed class BenchVerb : ICliVerb
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Name => "bench";

    public string Summary => "benchmark training steps, sliding-window inference, the data pipeline, volume reading and memory";

    public string Positionals => "";

    public bool NeedsTorch => true;

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("only", "what to measure: train, infer, data, io, trainer (comma-separated or repeated)", CliArity.Multi, "train,infer,data,io"),
        new("memory", "also run the trainer for --steps steps and record resident memory after each (same as adding 'trainer' to --only)", CliArity.Flag),
        new("memory_steps", "also run the trainer for N steps (same as --memory --steps N)"),
        new("models", "zoo models for train and infer; the trainer run uses the first", CliArity.Multi, "UNET3D VNET", "model"),
        new("dim", "cubic patch sizes (train) and window sizes (infer); data and the trainer run use the first", CliArity.Multi, "32 64", "patch"),
        new("batchSz", "samples per timed training step", CliArity.Single, "1", "batch"),
        new("inChannels", "network input channels", CliArity.Single, "2"),
        new("classes", "classes including background", CliArity.Single, "4"),
        new("warmup", "untimed training steps before the timed ones", CliArity.Single, "2"),
        new("repeats", "timed training steps (the median is reported)", CliArity.Single, "5"),
        new("infer_repeats", "timed whole-volume inferences (after one untimed)", CliArity.Single, "3"),
        new("volume", "volume size D H W (or one value) for infer", CliArity.Multi, "96 96 96"),
        new("overlap", "sliding-window overlap in [0, 1)", CliArity.Single, "0.5"),
        new("windows_per_batch", "windows per forward pass of infer", CliArity.Single, "1"),
        new("io_file", "volume files to read (default: write a temporary .nii and .nii.gz of --io_size)", CliArity.Multi),
        new("io_size", "size X Y Z of the temporary int16 volume", CliArity.Multi, "192 224 192"),
        new("io_repeats", "timed reads per file (after one untimed)", CliArity.Single, "5"),
        new("data_batches", "batches the data part draws", CliArity.Single, "32"),
        new("data_batch", "batch size of the data part and the trainer run", CliArity.Single, "2"),
        new("workers", "loader threads of the data part and the trainer run (0 = processors - 1)", CliArity.Single, "0"),
        new("synthetic_subjects", "synthetic subjects of the data part and the trainer run", CliArity.Single, "10"),
        new("synthetic_size", "synthetic subject size D H W (or one value)", CliArity.Multi, "64 64 64"),
        new("steps", "training steps of the trainer run", CliArity.Single, "100"),
        new("base_filters", "width of the models' first level (default: each model's)"),
        new("depth", "model depth where the models have one (UNET3D_CICEK poolings)"),
        new("threads", "torch intra-op threads (0 = torch's default)", CliArity.Single, "0"),
        new("interop", "torch inter-op threads (0 = torch's default)", CliArity.Single, "0"),
        new("lr", "Adam learning rate of training steps", CliArity.Single, "0.001"),
        new("seed", "seed of weights and inputs", CliArity.Single, "1777777"),
        new("json", "print the report as JSON", CliArity.Flag),
    ];

    public int Run(CliArguments args, CliContext context)
    {
        if (args.Positionals.Count > 0)
            throw new CliUsageException($"unexpected argument '{args.Positionals[0]}'");
        var options = BuildOptions(args);
        var report = BenchmarkRunner.Run(options, line => context.Error.WriteLine(line), context.Cancellation);
        if (args.Flag("json"))
            context.Out.WriteLine(JsonSerializer.Serialize(report, Json));
        else
            WriteText(report, context.Out);
        return 0;
    }

    /// <summary>Maps the command line to <see cref="BenchmarkOptions"/>; bad values are usage errors naming the option.</summary>
    internal static BenchmarkOptions BuildOptions(CliArguments a)
    {
        var o = new BenchmarkOptions();
        if (a.Has("only"))
        {
            o.Parts = BenchmarkParts.None;
            foreach (var part in a.All("only").SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                o.Parts |= BenchmarkOptions.PartNames.TryGetValue(part, out var p)
                    ? p
                    : throw new CliUsageException($"option --only: '{part}' is not a measurement: use {string.Join(", ", BenchmarkOptions.PartNames.Keys)}");
        }
        if (a.Flag("memory")) o.Parts |= BenchmarkParts.Trainer;
        if (a.Has("memory_steps"))
        {
            if (a.Has("steps") && a.Int("steps", 0) != a.Int("memory_steps", 0))
                throw new CliUsageException("options --steps and --memory_steps disagree: give one of them");
            o.Parts |= BenchmarkParts.Trainer;
            o.Steps = a.Int("memory_steps", o.Steps);
        }
        if (a.Has("models")) o.Models = a.All("models").SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        o.PatchSizes = a.Ints("dim", o.PatchSizes);
        o.BatchSize = a.Int("batchSz", o.BatchSize);
        o.InChannels = a.Int("inChannels", o.InChannels);
        o.Classes = a.Int("classes", o.Classes);
        o.Warmup = a.Int("warmup", o.Warmup);
        o.Repeats = a.Int("repeats", o.Repeats);
        o.InferRepeats = a.Int("infer_repeats", o.InferRepeats);
        o.VolumeSize = Size(a, "volume", o.VolumeSize);
        o.Overlap = a.Double("overlap", o.Overlap);
        o.WindowsPerBatch = a.Int("windows_per_batch", o.WindowsPerBatch);
        o.IOFiles = a.All("io_file").ToArray();
        foreach (var f in o.IOFiles)
            if (!File.Exists(f)) throw new CliUsageException($"option --io_file: '{f}' does not exist");
        o.IOSize = Size(a, "io_size", o.IOSize);
        o.IORepeats = a.Int("io_repeats", o.IORepeats);
        o.DataBatches = a.Int("data_batches", o.DataBatches);
        o.DataBatchSize = a.Int("data_batch", o.DataBatchSize);
        o.Workers = a.Int("workers", o.Workers);
        o.SyntheticSubjects = a.Int("synthetic_subjects", o.SyntheticSubjects);
        o.SyntheticSize = Size(a, "synthetic_size", o.SyntheticSize);
        o.Steps = a.Int("steps", o.Steps);
        if (a.Has("base_filters") || a.Has("depth"))
            o.ModelOptions = new ModelOptions
            {
                BaseFilters = a.Has("base_filters") ? a.Int("base_filters", 0) : null,
                Depth = a.Has("depth") ? a.Int("depth", 0) : null,
            };
        o.Threads = a.Int("threads", o.Threads);
        o.InterOpThreads = a.Int("interop", o.InterOpThreads);
        o.LearningRate = a.Double("lr", o.LearningRate);
        o.Seed = a.Int("seed", o.Seed);
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(OptionMessage(e, a));
        }
        return o;
    }

    // Names the command-line option rather than the options class's property.
    private static string OptionMessage(ArgumentException e, CliArguments a)
    {
        var message = Engine.Training.TrainerOptions.PlainMessage(e);
        var option = e.ParamName switch
        {
            nameof(BenchmarkOptions.Parts) => "--only",
            nameof(BenchmarkOptions.Models) => "--models",
            nameof(BenchmarkOptions.PatchSizes) => "--dim",
            nameof(BenchmarkOptions.BatchSize) => "--batchSz",
            nameof(BenchmarkOptions.InChannels) => "--inChannels",
            nameof(BenchmarkOptions.Classes) => "--classes",
            nameof(BenchmarkOptions.Warmup) => "--warmup",
            nameof(BenchmarkOptions.Repeats) => "--repeats",
            nameof(BenchmarkOptions.InferRepeats) => "--infer_repeats",
            nameof(BenchmarkOptions.VolumeSize) => "--volume",
            nameof(BenchmarkOptions.Overlap) => "--overlap",
            nameof(BenchmarkOptions.WindowsPerBatch) => "--windows_per_batch",
            nameof(BenchmarkOptions.IOSize) => "--io_size",
            nameof(BenchmarkOptions.IORepeats) => "--io_repeats",
            nameof(BenchmarkOptions.DataBatches) => "--data_batches",
            nameof(BenchmarkOptions.DataBatchSize) => "--data_batch",
            nameof(BenchmarkOptions.SyntheticSubjects) => "--synthetic_subjects",
            nameof(BenchmarkOptions.SyntheticSize) => "--synthetic_size",
            nameof(BenchmarkOptions.Workers) => "--workers",
            nameof(BenchmarkOptions.Steps) => a.Has("memory_steps") ? "--memory_steps" : "--steps",
            nameof(BenchmarkOptions.Threads) => "--threads",
            nameof(BenchmarkOptions.InterOpThreads) => "--interop",
            nameof(BenchmarkOptions.LearningRate) => "--lr",
            nameof(BenchmarkOptions.ModelOptions) => "--base_filters/--depth",
            _ => null,
        };
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return option is null || colon < 0 ? message : $"option {option}: {message[(colon + 2)..]}";
    }

    private static int[] Size(CliArguments a, string name, int[] fallback)
    {
        var v = a.Ints(name, fallback);
        return v.Length switch
        {
            1 => [v[0], v[0], v[0]],
            3 => v,
            _ => throw new CliUsageException($"option --{name} takes 1 or 3 values, got {v.Length}"),
        };
    }

    private static void WriteText(BenchmarkReport r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine($"MedZoo benchmark: libtorch {r.Torch} (TorchSharp {r.TorchSharp}, .NET {r.Runtime}) on {r.Cpu}, {r.LogicalCores} logical cores");
        w.WriteLine(string.Create(inv, $"torch threads: {r.Threads.IntraOp} intra-op, {r.Threads.InterOp} inter-op; load average {Load(r.LoadAverageStart)} at start, {Load(r.LoadAverageEnd)} at end"));
        if (r.Train is { Count: > 0 } train)
        {
            w.WriteLine();
            w.WriteLine("training step (zero_grad, forward, dice_ce, backward, Adam), median seconds:");
            w.WriteLine($"  {"model",-14} {"patch",-6} {"batch",5} {"step",8} {"forward",8} {"backward",9} {"optim",7}  parameters");
            foreach (var t in train)
                w.WriteLine(string.Create(inv, $"  {t.Model,-14} {t.Patch[0] + "³",-6} {t.Batch,5} {t.Seconds.Median,8:F3} {t.ForwardSeconds,8:F3} {t.BackwardSeconds,9:F3} {t.OptimizerSeconds,7:F3}  {t.Parameters:N0}"));
            w.WriteLine($"  (CPU convolutions: {r.ConvolutionRoute}, see {CpuConvolution.Variable}{(r.OneDnnIsa is { } isa ? $"; {OneDnnIsa.Variable}={isa}" : "")})");
        }
        if (r.ConvolutionChoices.Length > 0) WriteConvolutionChoices(r, w);
        if (r.Infer is { Count: > 0 } infer)
        {
            w.WriteLine();
            w.WriteLine("sliding-window inference (Gaussian blending, probabilities), median seconds per volume:");
            foreach (var i in infer)
                w.WriteLine(string.Create(inv, $"  {i.Model,-14} window {i.Window[0] + "³",-5} volume {string.Join("×", i.Volume),-12} overlap {i.Overlap:0.##}  {i.Seconds.Median,8:F3} s  ({i.Windows} windows, {i.Seconds.Median / i.Windows:F3} s each)"));
        }
        if (r.Data is { } d)
        {
            w.WriteLine();
            w.WriteLine(string.Create(inv, $"data pipeline: {d.PatchesPerSecond:F1} patches/s ({d.Patch[0]}³ × {d.Channels} channels, batch {d.Batch}, {d.Workers} worker(s), augmentation on; {d.BuildSecondsPerPatch * 1000:F1} ms of worker time per patch)"));
        }
        if (r.IO is { Count: > 0 } io)
        {
            w.WriteLine();
            w.WriteLine("volume reading, median:");
            foreach (var f in io)
                w.WriteLine(string.Create(inv, $"  {Path.GetFileName(f.File),-28} {f.MegabytesPerSecond,8:F1} MB/s  ({f.Seconds.Median * 1000:F1} ms, {f.Megabytes:F1} MB of voxels, {f.FileBytes / 1e6:F1} MB file)"));
        }
        if (r.Trainer is { } t2)
        {
            w.WriteLine();
            w.WriteLine(string.Create(inv, $"trainer run: {t2.Model} {t2.Patch[0]}³ batch {t2.Batch}, {t2.Steps} steps, {t2.Workers} loader worker(s): data wait {t2.DataWaitFraction:P1} of training time, {t2.MedianStepSeconds:F3} s per step"));
            w.WriteLine(string.Create(inv, $"  resident memory: {t2.ResidentStartMegabytes:F0} MB after step 1, {t2.ResidentAfterSettleMegabytes:F0} MB after step {t2.SettleSteps + 1} (settled), {t2.ResidentEndMegabytes:F0} MB after step {t2.Steps}: drift {t2.ResidentDriftPercent:+0.0;-0.0} %, max {t2.ResidentMaxMegabytes:F0} MB (growth {t2.ResidentGrowthPercent:F1} %)"));
            w.WriteLine(string.Create(inv, $"  live tensors on the trainer's thread: {t2.LiveTensors[0]} after step 1, {t2.LiveTensors[1]} after step {t2.Steps}; outcome {t2.Outcome}"));
        }
        w.WriteLine();
        var m = r.Memory;
        w.WriteLine(string.Create(inv, $"memory: peak resident {Mb(m.PeakResidentMegabytes)}, resident now {Mb(m.ResidentMegabytes)}, managed heap {m.ManagedHeapMegabytes:F0} MB ({m.ManagedCommittedMegabytes:F0} MB committed); {r.TotalSeconds:F1} s in all"));
    }

    // Checks, choices and cache hits of the CPU convolution routes (issue 19: chosen by measurement, cached per machine).
    private static void WriteConvolutionChoices(BenchmarkReport r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        var routes = string.Join(", ", r.ConvolutionChoices.GroupBy(c => c.Route).Select(g => $"{g.Count()} {g.Key}"));
        w.WriteLine(string.Create(inv, $"  convolution routes: {r.ConvolutionChoices.Length} shapes ({routes}); {r.ConvolutionShapesChecked} checked and timed in this process in {r.ConvolutionCheckSeconds:F1} s (during warm-up, not timed), {r.ConvolutionCacheHits} from the cache; {r.ConvolutionFallbacks.Length} wrong on channels-last"));
        w.WriteLine($"  route cache: {r.ConvolutionCache ?? "off"} ({r.ConvolutionCacheStatus}; {ConvolutionRouteCache.Variable} sets it)");
        foreach (var c in r.ConvolutionChoices)
            w.WriteLine($"    [{c.Source.ToString().ToLowerInvariant()}] {c.Note}");
    }

    private static string Load(double[]? load) => load is null ? "n/a" : string.Join(" ", load.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)));

    private static string Mb(double? v) => v is { } x ? x.ToString("0", CultureInfo.InvariantCulture) + " MB" : "n/a";
}
