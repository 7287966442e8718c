using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Inference;
using MedZoo.Engine.IO;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Benchmarking;

/// <summary>
/// Measures MedZoo's speed and memory the way benchmarks/pytorch_bench.py measures PyTorch's, so
/// that the two can be compared number for number (benchmarks/run.py runs both and prints the
/// ratios). The definitions are in benchmarks/README.md and on each result record; in short:
/// <list type="bullet">
/// <item><description><b>train</b>: one Adam step on a fixed random batch — zero_grad, forward (main
/// logits), <c>dice_ce</c> loss, <c>item()</c>, backward, step — in train mode, in one dispose scope
/// per step as the trainer does.</description></item>
/// <item><description><b>infer</b>: <see cref="SlidingWindowInferer"/> on a random volume, Gaussian
/// blending, softmax probabilities out, eval mode.</description></item>
/// <item><description><b>data</b>: <see cref="PatchLoader.Benchmark"/> on the synthetic dataset with the
/// default augmentation.</description></item>
/// <item><description><b>io</b>: <see cref="VolumeIO.Read(string)"/> of whole files, MB/s of decoded voxels.</description></item>
/// <item><description><b>trainer</b>: a real <see cref="Trainer"/> run on the synthetic dataset, recording
/// its data-wait fraction and the resident memory after every step.</description></item>
/// </list>
/// Runs on the calling thread and takes as long as the options ask (minutes for the defaults on a
/// small CPU). torch's intra-op thread count is process-wide: it is set for the run and restored
/// afterwards; the inter-op pool can only be sized before torch first uses it, so it keeps whatever
/// size it gets.
/// </summary>
public static class BenchmarkRunner
{
    /// <summary>Runs the measurements <paramref name="options"/> selects.</summary>
    /// <param name="options">Validated here (throws <see cref="ArgumentException"/> naming the bad field).</param>
    /// <param name="log">Receives one line per finished measurement (progress for people); may be null.</param>
    /// <param name="cancellation">Checked between timed runs.</param>
    public static BenchmarkReport Run(BenchmarkOptions options, Action<string>? log = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var o = options.Clone();
        TorchRuntime.EnsureLoaded();
        var previousThreads = get_num_threads();
        try
        {
            return Measure(o, ApplyThreads(o), log ?? (_ => { }), cancellation);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    private static BenchmarkReport Measure(BenchmarkOptions o, ThreadSettings threads, Action<string> log, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var loadStart = ProcessMemory.LoadAverage();

        List<TrainBenchmark>? train = null;
        List<InferBenchmark>? infer = null;
        List<IOBenchmark>? io = null;
        DataBenchmark? data = null;
        TrainerBenchmark? trainer = null;
        if (o.Parts.HasFlag(BenchmarkParts.Train))
        {
            train = [];
            foreach (var model in o.Models)
                foreach (var patch in o.PatchSizes)
                {
                    var r = MeasureTraining(o, model, patch, cancellation);
                    train.Add(r);
                    log(string.Create(CultureInfo.InvariantCulture,
                        $"train {r.Model} {patch}³ batch {r.Batch}: {r.Seconds.Median:F3} s/step (forward {r.ForwardSeconds:F3}, backward {r.BackwardSeconds:F3}, optimizer {r.OptimizerSeconds:F3})"));
                }
        }
        if (o.Parts.HasFlag(BenchmarkParts.Infer))
        {
            infer = [];
            foreach (var model in o.Models)
                foreach (var patch in o.PatchSizes)
                {
                    var r = MeasureInference(o, model, patch, cancellation);
                    infer.Add(r);
                    log(string.Create(CultureInfo.InvariantCulture,
                        $"infer {r.Model} window {patch}³ volume {string.Join("×", r.Volume)}, overlap {r.Overlap}: {r.Seconds.Median:F3} s ({r.Windows} windows)"));
                }
        }
        if (o.Parts.HasFlag(BenchmarkParts.Data))
        {
            data = MeasureData(o, cancellation);
            log(string.Create(CultureInfo.InvariantCulture,
                $"data: {data.PatchesPerSecond:F1} patches/s ({data.Patch[0]}³ × {data.Channels} channels, batch {data.Batch}, {data.Workers} worker(s), augmentation on; {data.BuildSecondsPerPatch * 1000:F1} ms of worker time per patch)"));
        }
        if (o.Parts.HasFlag(BenchmarkParts.IO))
        {
            io = MeasureReading(o, cancellation);
            foreach (var r in io)
                log(string.Create(CultureInfo.InvariantCulture,
                    $"read {Path.GetFileName(r.File)}: {r.MegabytesPerSecond:F1} MB/s ({r.Seconds.Median * 1000:F1} ms for {r.Megabytes:F1} MB)"));
        }
        if (o.Parts.HasFlag(BenchmarkParts.Trainer))
        {
            trainer = MeasureTrainer(o, cancellation);
            log(string.Create(CultureInfo.InvariantCulture,
                $"trainer {trainer.Model} {trainer.Patch[0]}³ batch {trainer.Batch}, {trainer.Steps} steps: data wait {trainer.DataWaitFraction:P1}, " +
                $"{trainer.MedianStepSeconds:F3} s/step, resident {trainer.ResidentStartMegabytes:F0} MB after step 1, {trainer.ResidentAfterSettleMegabytes:F0} after step {trainer.SettleSteps + 1}, {trainer.ResidentEndMegabytes:F0} at the end (drift {trainer.ResidentDriftPercent:+0.0;-0.0} %, max {trainer.ResidentMaxMegabytes:F0}, growth {trainer.ResidentGrowthPercent:F1} %)"));
        }

        return new BenchmarkReport
        {
            Torch = TorchVersion(),
            TorchSharp = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
                         ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown",
            Runtime = Environment.Version.ToString(),
            Cpu = ProcessMemory.CpuModel(),
            LogicalCores = Environment.ProcessorCount,
            Threads = threads,
            ConvolutionRoute = CpuConvolution.RouteName(CpuConvolution.Route),
            ConvolutionShapesChecked = CpuConvolution.CheckedShapes,
            ConvolutionCheckSeconds = CpuConvolution.CheckTime.TotalSeconds,
            ConvolutionFallbacks = [.. CpuConvolution.Fallbacks],
            ConvolutionChoices = [.. CpuConvolution.Choices],
            ConvolutionCache = CpuConvolution.CacheState.Path,
            ConvolutionCacheStatus = CpuConvolution.CacheState.Status,
            ConvolutionCacheHits = CpuConvolution.CacheState.Hits,
            OneDnnIsa = Devices.OneDnnIsa.Effective,
            Allocator = Devices.MallocTuning.Explanation,
            LoadAverageStart = loadStart,
            LoadAverageEnd = ProcessMemory.LoadAverage(),
            Train = train,
            Infer = infer,
            Data = data,
            IO = io,
            Trainer = trainer,
            Memory = ProcessMemory.Report(),
            TotalSeconds = clock.Elapsed.TotalSeconds,
        };
    }

    private static ThreadSettings ApplyThreads(BenchmarkOptions o)
    {
        if (o.InterOpThreads > 0 && get_num_interop_threads() != o.InterOpThreads)
        {
            // libtorch refuses to resize the inter-op pool once it has been used; the report then
            // shows the size actually in effect rather than the one asked for.
            try { set_num_interop_threads(o.InterOpThreads); }
            catch (ExternalException) { }
        }
        if (o.Threads > 0) set_num_threads(o.Threads);
        return new ThreadSettings(get_num_threads(), get_num_interop_threads());
    }

    /// <summary>libtorch's version as TorchSharp reports it.</summary>
    private static string TorchVersion()
    {
        try { return __version__; }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException) { return "unknown"; }
    }

    internal static TrainBenchmark MeasureTraining(BenchmarkOptions o, string modelName, int patch, CancellationToken cancellation)
    {
        using var outer = NewDisposeScope();
        manual_seed(o.Seed);
        using var model = ModelZoo.Create(modelName, o.InChannels, o.Classes, o.ModelOptions);
        model.train();
        using var optimizer = Trainer.CreateOptimizer(new TrainerOptions { LearningRate = o.LearningRate }, model.parameters());
        using var loss = LossFactory.Create("dice_ce");
        var (image, label) = RandomBatch(o.BatchSize, o.InChannels, o.Classes, [patch, patch, patch], o.Seed);
        var totals = new List<double>();
        var forwards = new List<double>();
        var backwards = new List<double>();
        var steps = new List<double>();
        for (var i = 0; i < o.Warmup + o.Repeats; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var t0 = Stopwatch.GetTimestamp();
            optimizer.zero_grad();
            var logits = model.call(image);
            var l = loss.call(logits, label);
            var value = l.item<float>();
            var t1 = Stopwatch.GetTimestamp();
            l.backward();
            var t2 = Stopwatch.GetTimestamp();
            optimizer.step();
            var t3 = Stopwatch.GetTimestamp();
            if (!float.IsFinite(value)) throw new InvalidOperationException($"{modelName}: the loss became {value} during the benchmark");
            if (i < o.Warmup) continue;
            totals.Add(Seconds(t0, t3));
            forwards.Add(Seconds(t0, t1));
            backwards.Add(Seconds(t1, t2));
            steps.Add(Seconds(t2, t3));
        }
        return new TrainBenchmark
        {
            Model = ModelZoo.Get(modelName).Name, Parameters = ModelZoo.CountParameters(model), Patch = [patch, patch, patch],
            Batch = o.BatchSize, InChannels = o.InChannels, Classes = o.Classes, Warmup = o.Warmup, Repeats = o.Repeats,
            OptimizerImplementation = optimizer is MedZoo.Engine.Training.Optimizers.Adam ? "medzoo-single-pass" : "torchsharp",
            Seconds = TimingSummary.Of(totals), ForwardSeconds = TimingSummary.MedianOf(forwards),
            BackwardSeconds = TimingSummary.MedianOf(backwards), OptimizerSeconds = TimingSummary.MedianOf(steps),
        };
    }

    internal static InferBenchmark MeasureInference(BenchmarkOptions o, string modelName, int window, CancellationToken cancellation)
    {
        using var outer = NewDisposeScope();
        manual_seed(o.Seed);
        using var model = ModelZoo.Create(modelName, o.InChannels, o.Classes, o.ModelOptions);
        model.eval();
        var inferer = new SlidingWindowInferer(new SlidingWindowOptions
        {
            WindowSize = [window, window, window], Overlap = o.Overlap, Blend = BlendMode.Gaussian,
            WindowsPerBatch = o.WindowsPerBatch, Output = InferenceOutput.Probabilities,
        });
        var generator = new Generator((ulong)o.Seed);
        var volume = randn([1, o.InChannels, o.VolumeSize[0], o.VolumeSize[1], o.VolumeSize[2]], generator: generator);
        var windows = inferer.WindowStarts(o.VolumeSize[0], o.VolumeSize[1], o.VolumeSize[2]).Count;
        var times = new List<double>();
        const int warmup = 1;
        for (var i = 0; i < warmup + o.InferRepeats; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            // A window-sized corner is one window of the same shape: the same one-off costs, a fraction of the time.
            var input = i < warmup && o.InferWarmupWindow ? volume.narrow(2, 0, window).narrow(3, 0, window).narrow(4, 0, window).contiguous() : volume;
            var t0 = Stopwatch.GetTimestamp();
            inferer.Predict(input, model, cancellation: cancellation);
            var t1 = Stopwatch.GetTimestamp();
            if (i >= warmup) times.Add(Seconds(t0, t1));
        }
        return new InferBenchmark
        {
            Model = ModelZoo.Get(modelName).Name, Parameters = ModelZoo.CountParameters(model), Volume = o.VolumeSize.ToArray(),
            Window = [window, window, window], Overlap = o.Overlap, WindowsPerBatch = o.WindowsPerBatch, Windows = windows,
            InChannels = o.InChannels, Classes = o.Classes, Warmup = warmup, WarmupOnWindow = o.InferWarmupWindow, Repeats = o.InferRepeats, Seconds = TimingSummary.Of(times),
        };
    }

    private static DataBenchmark MeasureData(BenchmarkOptions o, CancellationToken cancellation)
    {
        var dataset = SegmentationDataset.Load(SyntheticDataset(o), cancellation: cancellation);
        var sampling = new SamplingOptions { PatchSize = [o.PatchSizes[0], o.PatchSizes[0], o.PatchSizes[0]], BatchSize = o.DataBatchSize, Workers = o.Workers };
        // One untimed pass first: the JIT, the thread pool and the subjects' pages settle.
        PatchLoader.Benchmark(dataset.Training, sampling, new AugmentationOptions(), Math.Min(4, o.DataBatches), o.Seed, cancellation);
        var r = PatchLoader.Benchmark(dataset.Training, sampling, new AugmentationOptions(), o.DataBatches, o.Seed, cancellation);
        return new DataBenchmark
        {
            Dataset = dataset.Name, Patch = r.PatchSize.ToArray(), Batch = sampling.BatchSize, Channels = r.Channels, Workers = r.Workers,
            Augmented = r.Augmented, Patches = r.Patches, Seconds = r.Elapsed.TotalSeconds, PatchesPerSecond = r.PatchesPerSecond,
            BuildSecondsPerPatch = r.BuildTime.TotalSeconds / Math.Max(1, r.Patches),
        };
    }

    private static DatasetOptions SyntheticDataset(BenchmarkOptions o) => new()
    {
        Name = "synthetic", SyntheticSubjects = o.SyntheticSubjects, SyntheticSize = o.SyntheticSize.ToArray(), Seed = o.Seed,
    };

    private static List<IOBenchmark> MeasureReading(BenchmarkOptions o, CancellationToken cancellation)
    {
        string? temp = null;
        var files = o.IOFiles;
        if (files.Length == 0)
        {
            temp = Directory.CreateTempSubdirectory("medzoo-bench-").FullName;
            files = WriteSampleVolumes(temp, o.IOSize, o.Seed);
        }
        try
        {
            var results = new List<IOBenchmark>();
            foreach (var file in files)
            {
                if (!File.Exists(file)) throw new FileNotFoundException($"volume file '{file}' does not exist", file);
                var times = new List<double>();
                double megabytes = 0;
                const int warmup = 1;
                for (var i = 0; i < warmup + o.IORepeats; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var t0 = Stopwatch.GetTimestamp();
                    var volume = VolumeIO.Read(file);
                    var t1 = Stopwatch.GetTimestamp();
                    megabytes = volume.RawBytes.Length / 1e6;
                    // Done with it, as nibabel's side is when it drops its array: the buffer serves the next read.
                    volume.Dispose();
                    if (i >= warmup) times.Add(Seconds(t0, t1));
                }
                var summary = TimingSummary.Of(times);
                results.Add(new IOBenchmark
                {
                    File = file, Format = FormatOf(file), FileBytes = new FileInfo(file).Length, Megabytes = megabytes,
                    Warmup = warmup, Repeats = o.IORepeats, Seconds = summary, MegabytesPerSecond = megabytes / summary.Median,
                });
            }
            return results;
        }
        finally
        {
            if (temp is not null) Directory.Delete(temp, recursive: true);
        }
    }

    private static string FormatOf(string file)
    {
        var name = Path.GetFileName(file).ToLowerInvariant();
        foreach (var ext in VolumeIO.Extensions.OrderByDescending(e => e.Length))
            if (name.EndsWith(ext, StringComparison.Ordinal)) return ext.TrimStart('.');
        return Path.GetExtension(name).TrimStart('.');
    }

    /// <summary>
    /// Writes an int16 head-like volume (an ellipsoid of three tissue intensities with noise, the
    /// content and compressibility of a T1 scan) as .nii and .nii.gz; returns both paths.
    /// </summary>
    internal static string[] WriteSampleVolumes(string folder, int[] size, int seed)
    {
        int nx = size[0], ny = size[1], nz = size[2];
        var voxels = new short[(long)nx * ny * nz];
        var random = new Random(seed);
        long n = 0;
        for (var z = 0; z < nz; z++)
            for (var y = 0; y < ny; y++)
                for (var x = 0; x < nx; x++)
                {
                    double dx = (x - nx / 2.0) / (0.45 * nx), dy = (y - ny / 2.0) / (0.45 * ny), dz = (z - nz / 2.0) / (0.45 * nz);
                    var r = Math.Sqrt(dx * dx + dy * dy + dz * dz);
                    var tissue = r > 1 ? 0 : r > 0.9 ? 300 : r > 0.6 ? 700 + 150 * Math.Sin(x * 0.3) * Math.Cos(y * 0.2) : 1000;
                    var noise = r > 1 ? random.Next(0, 6) : random.Next(-25, 26);
                    voxels[n++] = (short)(tissue + noise);
                }
        var volume = Volume.FromArray<short>(voxels, [nx, ny, nz], VolumeGeometry.FromSpacing());
        var plain = Path.Combine(folder, "sample.nii");
        var gz = Path.Combine(folder, "sample.nii.gz");
        VolumeIO.Write(volume, plain);
        VolumeIO.Write(volume, gz);
        return [plain, gz];
    }

    private static TrainerBenchmark MeasureTrainer(BenchmarkOptions o, CancellationToken cancellation)
    {
        var patch = o.PatchSizes[0];
        var dataset = SyntheticDataset(o);
        if (!o.TrainerValidation) dataset.Split = 1;
        var stepsPerEpoch = o.Steps / o.TrainerEpochs;
        var options = new TrainerOptions
        {
            Model = o.Models[0],
            BaseFilters = o.ModelOptions?.BaseFilters,
            ModelDepth = o.ModelOptions?.Depth,
            Dataset = dataset,
            Sampling = new SamplingOptions { PatchSize = [patch, patch, patch], BatchSize = o.DataBatchSize, SamplesTrain = stepsPerEpoch * o.DataBatchSize, Workers = o.Workers },
            Augmentation = new AugmentationOptions(),
            Epochs = o.TrainerEpochs,
            LearningRate = o.LearningRate,
            Seed = o.Seed,
            Threads = o.Threads,
            PreviewInterval = 0,
            SurfaceDistances = false,
        };
        var folder = Directory.CreateTempSubdirectory("medzoo-bench-trainer-").FullName;
        try
        {
            var recorder = new StepRecorder();
            using var control = new TrainingControl();
            using var registration = cancellation.Register(control.Stop);
            var result = new Trainer().Run(options, recorder, control, new FileCheckpointStore(folder), "bench");
            cancellation.ThrowIfCancellationRequested();
            if (result.Outcome != RunOutcome.Completed || recorder.Resident.Count == 0)
                throw new InvalidOperationException($"the trainer run did not complete: {result.Outcome} ({result.Reason})");
            var rss = recorder.Resident;
            var settle = Math.Max(1, rss.Count / 10);
            var afterSettle = rss[Math.Min(settle, rss.Count - 1)];
            var max = rss.Skip(settle).DefaultIfEmpty(afterSettle).Max();
            var epochSeconds = recorder.Epochs.Sum(e => e.Seconds);
            // Memory is judged after the first epoch has touched every buffer a run uses (after the settle steps in a one-epoch run).
            var slopeFrom = o.TrainerEpochs > 1 ? Math.Min(stepsPerEpoch, rss.Count - 1) : Math.Min(settle, rss.Count - 1);
            return new TrainerBenchmark
            {
                Model = ModelZoo.Get(options.Model).Name, Patch = [patch, patch, patch], Batch = o.DataBatchSize, Steps = rss.Count,
                Augmented = true, Workers = options.Sampling.EffectiveWorkers,
                DataWaitFraction = epochSeconds > 0 ? recorder.Epochs.Sum(e => e.DataWaitFraction * e.Seconds) / epochSeconds : 0,
                MedianStepSeconds = TimingSummary.MedianOf(recorder.StepSeconds),
                ResidentMegabytes = rss.Select(v => Math.Round(v, 1)).ToArray(), SettleSteps = settle,
                ResidentStartMegabytes = rss[0], ResidentAfterSettleMegabytes = afterSettle, ResidentEndMegabytes = rss[^1], ResidentMaxMegabytes = max,
                ResidentGrowthPercent = afterSettle > 0 ? 100 * (max - afterSettle) / afterSettle : 0,
                ResidentDriftPercent = afterSettle > 0 ? 100 * (rss[^1] - afterSettle) / afterSettle : 0,
                LiveTensors = [recorder.LiveTensors[0], recorder.LiveTensors[^1]],
                Outcome = result.Outcome.ToString(),
                Epochs = o.TrainerEpochs, Validated = o.TrainerValidation,
                StepSeconds = recorder.StepSeconds.Select(v => Math.Round(v, 4)).ToArray(),
                DataWaitSeconds = recorder.WaitSeconds.Select(v => Math.Round(v, 5)).ToArray(),
                DataWaitPercent = TrainerRunStatistics.WaitPercent(recorder.StepSeconds, recorder.WaitSeconds, settle),
                ResidentSlopeFromStep = slopeFrom + 1,
                ResidentSlopeMegabytesPer100Steps = TrainerRunStatistics.SlopePer100Steps(rss, slopeFrom),
            };
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Records, on the trainer's thread, what each step cost and the memory after it.</summary>
    private sealed class StepRecorder : ITrainingObserver
    {
        public List<double> Resident { get; } = [];
        public List<double> StepSeconds { get; } = [];
        public List<double> WaitSeconds { get; } = [];
        public List<long> LiveTensors { get; } = [];
        public List<EpochCompleted> Epochs { get; } = [];

        public void OnEvent(TrainingEvent trainingEvent)
        {
            switch (trainingEvent)
            {
                case StepCompleted s:
                    StepSeconds.Add(s.Seconds);
                    WaitSeconds.Add(s.DataWaitSeconds);
                    Resident.Add(ProcessMemory.ResidentMegabytes() ?? double.NaN);
                    LiveTensors.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
                    break;
                case EpochCompleted e:
                    Epochs.Add(e);
                    break;
            }
        }
    }

    private static (Tensor Image, Tensor Label) RandomBatch(int batch, int channels, int classes, long[] patch, int seed)
    {
        var generator = new Generator((ulong)seed);
        var image = randn([batch, channels, .. patch], generator: generator);
        var label = randint(0, classes, [batch, .. patch], generator: generator);
        return (image, label);
    }

    private static double Seconds(long start, long end) => (end - start) / (double)Stopwatch.Frequency;
}
