using System.Globalization;
using MedZoo.Engine.Networks;

namespace MedZoo.Engine.Benchmarking;

/// <summary>The measurements <see cref="BenchmarkRunner"/> can make.</summary>
[Flags]
public enum BenchmarkParts
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Training step time (forward, loss, backward, optimizer step) per model and patch size.</summary>
    Train = 1,

    /// <summary>Whole-volume sliding-window inference time per model and window size.</summary>
    Infer = 2,

    /// <summary>Patch loader throughput (patches per second, augmentation on).</summary>
    Data = 4,

    /// <summary>Volume reading throughput (MB/s of decoded voxels) for .nii and .nii.gz.</summary>
    IO = 8,

    /// <summary>
    /// A real <see cref="Training.Trainer"/> run on the synthetic dataset for a number of steps: the
    /// trainer's own data-wait fraction and the resident memory after every step (stability over a long run).
    /// </summary>
    Trainer = 16,

    /// <summary>The default set: train, infer, data and io (the trainer run is long, so it is asked for explicitly).</summary>
    Default = Train | Infer | Data | IO,
}

/// <summary>
/// What <see cref="BenchmarkRunner"/> measures and how often. Every timed quantity is measured
/// <see cref="Warmup"/> times untimed, then <see cref="Repeats"/> times, and reported as the median
/// (with min, max and every value). Defaults match benchmarks/pytorch_bench.py, the PyTorch side of
/// the comparison, so that both run the same work.
/// </summary>
public sealed class BenchmarkOptions
{
    /// <summary>Part names as the command line spells them.</summary>
    public static IReadOnlyDictionary<string, BenchmarkParts> PartNames { get; } = new Dictionary<string, BenchmarkParts>(StringComparer.OrdinalIgnoreCase)
    {
        ["train"] = BenchmarkParts.Train,
        ["infer"] = BenchmarkParts.Infer,
        ["data"] = BenchmarkParts.Data,
        ["io"] = BenchmarkParts.IO,
        ["trainer"] = BenchmarkParts.Trainer,
    };

    /// <summary>Which measurements run; default <see cref="BenchmarkParts.Default"/>.</summary>
    public BenchmarkParts Parts { get; set; } = BenchmarkParts.Default;

    /// <summary>Zoo models for train and infer (default UNET3D and VNET); the trainer run uses the first.</summary>
    public string[] Models { get; set; } = ["UNET3D", "VNET"];

    /// <summary>Cubic patch sizes for train and window sizes for infer (default 32 and 64); the trainer run and data use the first.</summary>
    public int[] PatchSizes { get; set; } = [32, 64];

    /// <summary>Samples per training step (default 1).</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>Network input channels (default 2, as the synthetic dataset's T1 and T2).</summary>
    public int InChannels { get; set; } = 2;

    /// <summary>Classes including background (default 4, as the synthetic dataset).</summary>
    public int Classes { get; set; } = 4;

    /// <summary>Untimed runs before the timed ones (default 2 for training steps; inference and reading use 1).</summary>
    public int Warmup { get; set; } = 2;

    /// <summary>Timed training steps per configuration (default 5).</summary>
    public int Repeats { get; set; } = 5;

    /// <summary>Timed whole-volume inferences per configuration (default 3).</summary>
    public int InferRepeats { get; set; } = 3;

    /// <summary>Volume (D, H, W) predicted by infer (default 96³: 8 windows of 64³ or 125 of 32³ at overlap 0.5).</summary>
    public int[] VolumeSize { get; set; } = [96, 96, 96];

    /// <summary>Sliding-window overlap, 0 ≤ o &lt; 1 (default 0.5).</summary>
    public double Overlap { get; set; } = 0.5;

    /// <summary>Windows per forward pass of infer (default 1).</summary>
    public int WindowsPerBatch { get; set; } = 1;

    /// <summary>Volume files read by io; empty (default) = write temporary .nii and .nii.gz files of <see cref="IOSize"/>.</summary>
    public string[] IOFiles { get; set; } = [];

    /// <summary>Size (X, Y, Z) of the temporary int16 volumes io writes when no file is given (default 192 × 224 × 192, a 1 mm brain scan).</summary>
    public int[] IOSize { get; set; } = [192, 224, 192];

    /// <summary>Timed reads per file (default 5).</summary>
    public int IORepeats { get; set; } = 5;

    /// <summary>Batches the data part draws (default 32).</summary>
    public int DataBatches { get; set; } = 32;

    /// <summary>Batch size of the data part and the trainer run (default 2, the train verb's).</summary>
    public int DataBatchSize { get; set; } = 2;

    /// <summary>Synthetic subjects of the data part and the trainer run (default 10, the train verb's).</summary>
    public int SyntheticSubjects { get; set; } = 10;

    /// <summary>Synthetic subject size (default 64³, the train verb's).</summary>
    public int[] SyntheticSize { get; set; } = [64, 64, 64];

    /// <summary>Loader threads of the data part and the trainer run (0 = automatic, as the train verb).</summary>
    public int Workers { get; set; }

    /// <summary>Training steps of the trainer run (default 100), over all its <see cref="TrainerEpochs"/>.</summary>
    public int Steps { get; set; } = 100;

    /// <summary>
    /// Epochs the trainer run spreads its <see cref="Steps"/> over (default 1; <see cref="Steps"/> must be a
    /// multiple): with more than one, resident memory is judged from the second epoch on, after the first
    /// has touched every buffer a run uses.
    /// </summary>
    public int TrainerEpochs { get; set; } = 1;

    /// <summary>
    /// Whether the trainer run validates whole volumes after each epoch (default true, as the train verb).
    /// False holds no subject out (split 1): at 181 × 217 × 181 a sliding-window validation takes minutes
    /// and is not what the run measures.
    /// </summary>
    public bool TrainerValidation { get; set; } = true;

    /// <summary>
    /// Warm up infer on one window-sized volume (a single window) instead of a whole volume (default false).
    /// Same shapes, so the same one-off costs (convolution checks, first allocations) are paid before
    /// timing; for real-size volumes of 150 windows it halves the run. benchmarks/pytorch_bench.py has the same switch.
    /// </summary>
    public bool InferWarmupWindow { get; set; }

    /// <summary>Model options of every model measured (e.g. base filters and depth of the demo's UNET3D_CICEK); null = each model's defaults.</summary>
    public ModelOptions? ModelOptions { get; set; }

    /// <summary>torch intra-op threads; 0 = keep torch's default (reported either way).</summary>
    public int Threads { get; set; }

    /// <summary>torch inter-op threads; 0 = keep torch's default. Takes effect only before torch has run any work in the process.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Adam learning rate of training steps (default 1e-3, the trainer's).</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Seed of weights and inputs (default 1777777).</summary>
    public int Seed { get; set; } = 1777777;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (Parts == BenchmarkParts.None || (Parts & ~(BenchmarkParts.Default | BenchmarkParts.Trainer)) != 0)
            Fail(nameof(Parts), $"choose one or more of {string.Join(", ", PartNames.Keys)}");
        if (Models is null || Models.Length == 0) Fail(nameof(Models), "name at least one model");
        foreach (var m in Models!)
        {
            if (!ModelZoo.TryGet(m, out var info)) Fail(nameof(Models), $"'{m}' is not a model: use one of {string.Join(", ", ModelZoo.Names)}");
            if (ModelOptions?.BaseFilters is not null && !info!.SupportedOptions.HasFlag(ModelOptionKinds.BaseFilters))
                Fail(nameof(ModelOptions), $"{info.Name} has no base-filters option");
            if (ModelOptions?.Depth is not null && !info!.SupportedOptions.HasFlag(ModelOptionKinds.Depth))
                Fail(nameof(ModelOptions), $"{info.Name} has no depth option");
        }
        if (ModelOptions?.BaseFilters is <= 0) Fail(nameof(ModelOptions), $"base filters must be positive, got {ModelOptions.BaseFilters}");
        if (ModelOptions?.Depth is <= 0) Fail(nameof(ModelOptions), $"depth must be positive, got {ModelOptions.Depth}");
        if (PatchSizes is null || PatchSizes.Length == 0 || PatchSizes.Any(p => p < 1)) Fail(nameof(PatchSizes), "give one or more positive sizes");
        if (BatchSize < 1) Fail(nameof(BatchSize), $"must be at least 1, got {BatchSize}");
        if (InChannels < 1) Fail(nameof(InChannels), $"must be at least 1, got {InChannels}");
        if (Classes < 2) Fail(nameof(Classes), $"must be at least 2 (background included), got {Classes}");
        if (Warmup < 0) Fail(nameof(Warmup), $"must be ≥ 0, got {Warmup}");
        if (Repeats < 1) Fail(nameof(Repeats), $"must be at least 1, got {Repeats}");
        if (InferRepeats < 1) Fail(nameof(InferRepeats), $"must be at least 1, got {InferRepeats}");
        if (VolumeSize is null || VolumeSize.Length != 3 || VolumeSize.Any(v => v < 1)) Fail(nameof(VolumeSize), "give three positive sizes D H W");
        if (!(Overlap >= 0 && Overlap < 1)) Fail(nameof(Overlap), $"must be in [0, 1), got {Overlap.ToString(CultureInfo.InvariantCulture)}");
        if (WindowsPerBatch < 1) Fail(nameof(WindowsPerBatch), $"must be at least 1, got {WindowsPerBatch}");
        if (IOFiles is null) Fail(nameof(IOFiles), "must not be null");
        if (IOSize is null || IOSize.Length != 3 || IOSize.Any(v => v < 1)) Fail(nameof(IOSize), "give three positive sizes X Y Z");
        if (IORepeats < 1) Fail(nameof(IORepeats), $"must be at least 1, got {IORepeats}");
        if (DataBatches < 1) Fail(nameof(DataBatches), $"must be at least 1, got {DataBatches}");
        if (DataBatchSize < 1) Fail(nameof(DataBatchSize), $"must be at least 1, got {DataBatchSize}");
        if (SyntheticSubjects < 2) Fail(nameof(SyntheticSubjects), $"must be at least 2 (training and validation), got {SyntheticSubjects}");
        if (SyntheticSize is null || SyntheticSize.Length != 3 || SyntheticSize.Any(v => v < 8)) Fail(nameof(SyntheticSize), "give three sizes of at least 8");
        if (Workers < 0) Fail(nameof(Workers), $"must be ≥ 0, got {Workers}");
        if (Steps < 1) Fail(nameof(Steps), $"must be at least 1, got {Steps}");
        if (TrainerEpochs < 1) Fail(nameof(TrainerEpochs), $"must be at least 1, got {TrainerEpochs}");
        else if (Steps % TrainerEpochs != 0) Fail(nameof(TrainerEpochs), $"{Steps} steps do not divide into {TrainerEpochs} epochs of equal length: give steps that are a multiple of the epochs");
        if (Threads < 0) Fail(nameof(Threads), $"must be 0 (torch's default) or positive, got {Threads}");
        if (InterOpThreads < 0) Fail(nameof(InterOpThreads), $"must be 0 (torch's default) or positive, got {InterOpThreads}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) Fail(nameof(LearningRate), "must be a positive number");
        if ((Parts & (BenchmarkParts.Train | BenchmarkParts.Infer | BenchmarkParts.Trainer)) != 0)
            foreach (var m in Models!)
                foreach (var p in PatchSizes!)
                    CheckPatch(m, p, ModelOptions);
        if ((Parts & BenchmarkParts.Infer) != 0 && VolumeSize!.Any(v => v < PatchSizes!.Max()))
            Fail(nameof(VolumeSize), $"({string.Join(", ", VolumeSize!)}) must be at least the largest window ({PatchSizes!.Max()}) on every axis: padding is not what infer measures");
    }

    /// <summary>A copy that can be changed without affecting this one.</summary>
    public BenchmarkOptions Clone()
    {
        var c = (BenchmarkOptions)MemberwiseClone();
        c.Models = (string[])Models.Clone();
        c.PatchSizes = (int[])PatchSizes.Clone();
        c.VolumeSize = (int[])VolumeSize.Clone();
        c.IOFiles = (string[])IOFiles.Clone();
        c.IOSize = (int[])IOSize.Clone();
        c.SyntheticSize = (int[])SyntheticSize.Clone();
        return c;
    }

    private static void CheckPatch(string model, int patch, ModelOptions? options)
    {
        try
        {
            var info = ModelZoo.Get(model);
            info.ConstraintsFor(options).ValidateSpatial(info.Name, [patch, patch, patch], nameof(PatchSizes));
        }
        catch (ArgumentException e)
        {
            Fail(nameof(PatchSizes), Training.TrainerOptions.PlainMessage(e));
        }
    }

    private static void Fail(string field, string message) => throw new ArgumentException($"{field}: {message}", field);
}
