using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedZoo.Engine.Benchmarking;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using MedZoo.Web.Cli.Progress;

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

    public bool NeedsTorch => true;

    // Defaults are BenchmarkOptions' own.
    private static readonly BenchmarkOptions D = new();

    private readonly Option<string[]?> _only = CliOptions.Texts("only", "what to measure: train, infer, data, io, trainer (comma-separated or repeated)", ["train,infer,data,io"]);
    private readonly Option<bool> _memory = CliOptions.Flag("memory", "also run the trainer for --steps steps and record resident memory after each (same as adding 'trainer' to --only)");
    private readonly Option<int?> _memorySteps = CliOptions.OptionalInt("memory_steps", "also run the trainer for N steps (same as --memory --steps N)");
    private readonly Option<string[]?> _models = CliOptions.Texts("models", "zoo models for train and infer; the trainer run uses the first", D.Models, "model");
    private readonly Option<int[]> _dim = CliOptions.Ints("dim", "cubic patch sizes (train) and window sizes (infer); data and the trainer run use the first", D.PatchSizes, "patch");
    private readonly Option<int> _batchSz = CliOptions.Int("batchSz", "samples per timed training step", D.BatchSize, "batch");
    private readonly Option<int> _inChannels = CliOptions.Int("inChannels", "network input channels", D.InChannels);
    private readonly Option<int> _classes = CliOptions.Int("classes", "classes including background", D.Classes);
    private readonly Option<int> _warmup = CliOptions.Int("warmup", "untimed training steps before the timed ones", D.Warmup);
    private readonly Option<int> _repeats = CliOptions.Int("repeats", "timed training steps (the median is reported)", D.Repeats);
    private readonly Option<int> _inferRepeats = CliOptions.Int("infer_repeats", "timed whole-volume inferences (after one untimed)", D.InferRepeats);
    private readonly Option<int[]?> _volume = CliOptions.Size("volume", "volume size D H W (or one value) for infer", D.VolumeSize);
    private readonly Option<double> _overlap = CliOptions.Number("overlap", "sliding-window overlap in [0, 1)", D.Overlap);
    private readonly Option<int> _windowsPerBatch = CliOptions.Int("windows_per_batch", "windows per forward pass of infer", D.WindowsPerBatch);
    private readonly Option<string[]?> _ioFile = CliOptions.Texts("io_file", "volume files to read (default: write a temporary .nii and .nii.gz of --io_size)");
    private readonly Option<int[]?> _ioSize = CliOptions.Size("io_size", "size X Y Z of the temporary int16 volume", D.IOSize);
    private readonly Option<int> _ioRepeats = CliOptions.Int("io_repeats", "timed reads per file (after one untimed)", D.IORepeats);
    private readonly Option<int> _dataBatches = CliOptions.Int("data_batches", "batches the data part draws", D.DataBatches);
    private readonly Option<int> _dataBatch = CliOptions.Int("data_batch", "batch size of the data part and the trainer run", D.DataBatchSize);
    private readonly Option<int> _workers = CliOptions.Int("workers", "loader threads of the data part and the trainer run (0 = processors - 1)", D.Workers);
    private readonly Option<int> _syntheticSubjects = CliOptions.Int("synthetic_subjects", "synthetic subjects of the data part and the trainer run", D.SyntheticSubjects);
    private readonly Option<int[]?> _syntheticSize = CliOptions.Size("synthetic_size", "synthetic subject size D H W (or one value)", D.SyntheticSize);
    private readonly Option<int> _steps = CliOptions.Int("steps", "training steps of the trainer run", D.Steps);
    private readonly Option<int> _trainerEpochs = CliOptions.Int("trainer_epochs", "epochs the trainer run spreads --steps over (memory is judged from the second on)", D.TrainerEpochs);
    private readonly Option<bool> _noValidation = CliOptions.Flag("no_validation", "the trainer run holds no subject out and validates nothing (split 1)");
    private readonly Option<bool> _inferWarmupWindow = CliOptions.Flag("infer_warmup_window", "warm infer up on one window-sized volume instead of a whole volume");
    private readonly Option<int?> _baseFilters = CliOptions.OptionalInt("base_filters", "width of the models' first level (default: each model's)");
    private readonly Option<int?> _depth = CliOptions.OptionalInt("depth", "model depth where the models have one (UNET3D_CICEK poolings)");
    private readonly Option<int> _threads = CliOptions.Int("threads", "torch intra-op threads (0 = torch's default)", D.Threads);
    private readonly Option<int> _interop = CliOptions.Int("interop", "torch inter-op threads (0 = torch's default)", D.InterOpThreads);
    private readonly Option<double> _lr = CliOptions.Number("lr", "Adam learning rate of training steps", D.LearningRate);
    private readonly Option<int> _seed = CliOptions.Int("seed", "seed of weights and inputs", D.Seed);
    private readonly Option<bool> _json = CliOptions.Flag("json", "print the report as JSON");

    public IEnumerable<Symbol> Symbols =>
    [
        _only, _memory, _memorySteps, _models, _dim, _batchSz, _inChannels, _classes, _warmup, _repeats, _inferRepeats, _volume, _overlap,
        _windowsPerBatch, _ioFile, _ioSize, _ioRepeats, _dataBatches, _dataBatch, _workers, _syntheticSubjects, _syntheticSize, _steps,
        _trainerEpochs, _noValidation, _inferWarmupWindow, _baseFilters, _depth, _threads, _interop, _lr, _seed, _json,
    ];

    public int Run(ParseResult args, CliContext context)
    {
        var options = BuildOptions(args);
        var expected = Measurements(options);
        var done = 0;
        var report = CliProgress.Run(context, "benchmarking", display =>
        {
            display.Update(0, expected, "benchmarking", $"0/{expected} measurements");
            var result = BenchmarkRunner.Run(options, line =>
            {
                display.Line(line);
                done++;
                if (display.IsTerminal) display.Update(done, expected, "benchmarking", $"{done}/{expected} measurements");
            }, context.Cancellation);
            if (display.IsTerminal) display.Update(expected, expected, "benchmarking", $"{done}/{expected} measurements");
            return result;
        });
        if (args.GetValue(_json))
            context.Out.WriteLine(JsonSerializer.Serialize(report, Json));
        else
            WriteText(report, context.Out);
        return 0;
    }

    // One progress line per measurement: the bar's total.
    private static int Measurements(BenchmarkOptions o)
    {
        var grid = o.Models.Length * o.PatchSizes.Length;
        return (o.Parts.HasFlag(BenchmarkParts.Train) ? grid : 0) + (o.Parts.HasFlag(BenchmarkParts.Infer) ? grid : 0)
               + (o.Parts.HasFlag(BenchmarkParts.Data) ? 1 : 0) + (o.Parts.HasFlag(BenchmarkParts.IO) ? Math.Max(1, o.IOFiles.Length == 0 ? 2 : o.IOFiles.Length) : 0)
               + (o.Parts.HasFlag(BenchmarkParts.Trainer) ? 1 : 0);
    }

    /// <summary>Maps the command line to <see cref="BenchmarkOptions"/>; bad values are usage errors naming the option.</summary>
    internal BenchmarkOptions BuildOptions(ParseResult a)
    {
        var o = new BenchmarkOptions();
        if (a.Given(_only))
        {
            o.Parts = BenchmarkParts.None;
            foreach (var part in a.GetValue(_only) ?? [])
                o.Parts |= BenchmarkOptions.PartNames.TryGetValue(part, out var p)
                    ? p
                    : throw new CliUsageException($"option --only: '{part}' is not a measurement: use {string.Join(", ", BenchmarkOptions.PartNames.Keys)}");
        }
        if (a.GetValue(_memory)) o.Parts |= BenchmarkParts.Trainer;
        var memorySteps = a.GetValue(_memorySteps);
        if (memorySteps is { } ms)
        {
            if (a.Given(_steps) && a.GetValue(_steps) != ms)
                throw new CliUsageException("options --steps and --memory_steps disagree: give one of them");
            o.Parts |= BenchmarkParts.Trainer;
        }
        o.Models = a.GetValue(_models) ?? o.Models;
        o.PatchSizes = a.GetValue(_dim) ?? o.PatchSizes;
        o.BatchSize = a.GetValue(_batchSz);
        o.InChannels = a.GetValue(_inChannels);
        o.Classes = a.GetValue(_classes);
        o.Warmup = a.GetValue(_warmup);
        o.Repeats = a.GetValue(_repeats);
        o.InferRepeats = a.GetValue(_inferRepeats);
        o.VolumeSize = a.GetValue(_volume) ?? o.VolumeSize;
        o.Overlap = a.GetValue(_overlap);
        o.WindowsPerBatch = a.GetValue(_windowsPerBatch);
        o.IOFiles = a.GetValue(_ioFile) ?? [];
        foreach (var f in o.IOFiles)
            if (!File.Exists(f)) throw new CliUsageException($"option --io_file: '{f}' does not exist");
        o.IOSize = a.GetValue(_ioSize) ?? o.IOSize;
        o.IORepeats = a.GetValue(_ioRepeats);
        o.DataBatches = a.GetValue(_dataBatches);
        o.DataBatchSize = a.GetValue(_dataBatch);
        o.Workers = a.GetValue(_workers);
        o.SyntheticSubjects = a.GetValue(_syntheticSubjects);
        o.SyntheticSize = a.GetValue(_syntheticSize) ?? o.SyntheticSize;
        o.Steps = memorySteps ?? a.GetValue(_steps);
        o.TrainerEpochs = a.GetValue(_trainerEpochs);
        o.TrainerValidation = !a.GetValue(_noValidation);
        o.InferWarmupWindow = a.GetValue(_inferWarmupWindow);
        var baseFilters = a.GetValue(_baseFilters);
        var depth = a.GetValue(_depth);
        if (baseFilters is not null || depth is not null)
            o.ModelOptions = new ModelOptions { BaseFilters = baseFilters, Depth = depth };
        o.Threads = a.GetValue(_threads);
        o.InterOpThreads = a.GetValue(_interop);
        o.LearningRate = a.GetValue(_lr);
        o.Seed = a.GetValue(_seed);
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(OptionMessage(e, memorySteps is not null));
        }
        return o;
    }

    // Names the command-line option rather than the options class's property.
    private static string OptionMessage(ArgumentException e, bool memorySteps)
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
            nameof(BenchmarkOptions.Steps) => memorySteps ? "--memory_steps" : "--steps",
            nameof(BenchmarkOptions.TrainerEpochs) => "--trainer_epochs",
            nameof(BenchmarkOptions.Threads) => "--threads",
            nameof(BenchmarkOptions.InterOpThreads) => "--interop",
            nameof(BenchmarkOptions.LearningRate) => "--lr",
            nameof(BenchmarkOptions.ModelOptions) => "--base_filters/--depth",
            _ => null,
        };
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return option is null || colon < 0 ? message : $"option {option}: {message[(colon + 2)..]}";
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
            w.WriteLine($"  (Adam: {(train[0].OptimizerImplementation == "torchsharp" ? "TorchSharp's own" : "MedZoo's single pass")}, see {MedZoo.Engine.Training.Optimizers.AdamChoice.Variable})");
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
            w.WriteLine(string.Create(inv, $"trainer run: {t2.Model} {t2.Patch[0]}³ batch {t2.Batch}, {t2.Steps} steps in {t2.Epochs} epoch(s){(t2.Validated ? "" : ", no validation")}, {t2.Workers} loader worker(s): data wait {t2.DataWaitFraction:P1} of training time, {t2.MedianStepSeconds:F3} s per step"));
            if (t2.DataWaitPercent is { } wp)
                w.WriteLine(string.Create(inv, $"  data wait per step from step {t2.SettleSteps + 1}: median {wp.Median:F2} %, p95 {wp.P95:F2} %, max {wp.Max:F2} % ({wp.Steps} steps)"));
            w.WriteLine(string.Create(inv, $"  resident memory: {t2.ResidentStartMegabytes:F0} MB after step 1, {t2.ResidentAfterSettleMegabytes:F0} MB after step {t2.SettleSteps + 1} (settled), {t2.ResidentEndMegabytes:F0} MB after step {t2.Steps}: drift {t2.ResidentDriftPercent:+0.0;-0.0} %, max {t2.ResidentMaxMegabytes:F0} MB (growth {t2.ResidentGrowthPercent:F1} %); slope from step {t2.ResidentSlopeFromStep} {t2.ResidentSlopeMegabytesPer100Steps:+0.0;-0.0} MB per 100 steps"));
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
