using System.Globalization;
using System.Text.Json.Serialization;

namespace MedZoo.Engine.Data.Sampling;

/// <summary>How patches are cut from subjects (the <c>sampler</c> of <see cref="SamplingOptions"/>).</summary>
public enum SamplerKind
{
    /// <summary><c>random</c>: a uniformly random subject and crop position.</summary>
    Random,

    /// <summary>
    /// <c>threshold</c>: random crops that must contain enough labelled foreground (MedicalZoo's
    /// <c>--threshold</c>); see <see cref="SamplingOptions.Threshold"/> for the exact fraction.
    /// </summary>
    Threshold,

    /// <summary>
    /// <c>balanced</c>: label-balanced positive/negative crops: with probability pos/(pos+neg) the crop is
    /// centred on a uniformly drawn foreground voxel (label &gt; 0), otherwise on a background voxel.
    /// </summary>
    Balanced,

    /// <summary>
    /// <c>class_ratio</c>: per-class crops: a class is drawn with probability proportional to
    /// <see cref="SamplingOptions.ClassRatios"/>, then a subject containing it, then a voxel of it to centre on.
    /// </summary>
    ClassRatio,

    /// <summary><c>grid</c>: every patch of a regular overlapping grid over each whole volume, in order (no augmentation).</summary>
    Grid,
}

/// <summary>Which fraction <see cref="SamplingOptions.Threshold"/> bounds.</summary>
public enum ThresholdReference
{
    /// <summary><c>crop</c>: (voxels of the crop labelled non-background) / (voxels of the crop, padding included).</summary>
    Crop,

    /// <summary><c>volume</c>: (non-background voxels inside the crop) / (non-background voxels of the whole subject) — MedicalZoo's definition.</summary>
    Volume,
}

/// <summary>
/// Patch sampling and batching: what the trainer's data loader does each epoch. Plain settable
/// properties with defaults that make the synthetic demo learn quickly on a CPU; names follow
/// MedicalZooPytorch (<c>--dim</c>, <c>--threshold</c>, <c>--samples_train</c>,
/// <c>--samples_val</c>, <c>--batchSz</c>).
/// </summary>
public sealed class SamplingOptions
{
    /// <summary>Patch size (D, H, W) in voxels (MedicalZoo's <c>--dim</c>; default 32³, small enough for CPU training).</summary>
    public int[] PatchSize { get; set; } = [32, 32, 32];

    /// <summary>Sampler: random, threshold, balanced, class_ratio or grid (default threshold, MedicalZoo's behaviour).</summary>
    public string Sampler { get; set; } = "threshold";

    /// <summary>
    /// Foreground threshold of the <c>threshold</c> sampler (MedicalZoo's <c>--threshold</c>, default 0.1).
    /// With <see cref="ThresholdOf"/> = crop (default), a crop is accepted when
    /// (voxels labelled non-background in the crop) / (crop voxels, padding counted as background) ≥ Threshold.
    /// With volume, when (non-background voxels in the crop) / (non-background voxels in the subject) ≥ Threshold,
    /// as MedicalZoo computes it. After <see cref="MaxRetries"/> rejected draws the best draw seen
    /// (highest fraction) is used and marked <see cref="PatchOrigin.Fallback"/>.
    /// </summary>
    public double Threshold { get; set; } = 0.1;

    /// <summary>What <see cref="Threshold"/> is a fraction of: crop (default) or volume (MedicalZoo's).</summary>
    public string ThresholdOf { get; set; } = "crop";

    /// <summary>Random draws the threshold sampler may reject before falling back to its best draw (default 50).</summary>
    public int MaxRetries { get; set; } = 50;

    /// <summary>Relative weight of positive (foreground-centred) crops of the balanced sampler (default 1 → pos:neg 1:1).</summary>
    public double PositiveRatio { get; set; } = 1;

    /// <summary>Relative weight of negative (background-centred) crops of the balanced sampler (default 1).</summary>
    public double NegativeRatio { get; set; } = 1;

    /// <summary>Per-class weights of the class_ratio sampler, one per class (background first); null = every class equally.</summary>
    public double[]? ClassRatios { get; set; }

    /// <summary>Training patches per epoch (MedicalZoo's <c>--samples_train</c>; default 64). Rounded up to whole batches.</summary>
    public int SamplesTrain { get; set; } = 64;

    /// <summary>Validation patches per evaluation (MedicalZoo's <c>--samples_val</c>; default 16). Rounded up to whole batches.</summary>
    public int SamplesVal { get; set; } = 16;

    /// <summary>Patches per batch (MedicalZoo's <c>--batchSz</c>; default 2).</summary>
    public int BatchSize { get; set; } = 2;

    /// <summary>
    /// Pad volumes smaller than the patch (default true): images with 0 — the background value after
    /// the default zscore_nonzero normalization — and labels with background (0). When false, a
    /// subject smaller than the patch is an error when the loader is built.
    /// </summary>
    public bool PadToPatch { get; set; } = true;

    /// <summary>Overlap of neighbouring grid patches as a fraction of the patch (grid sampler; default 0.25).</summary>
    public double GridOverlap { get; set; } = 0.25;

    /// <summary>Background threads that build batches; 0 = processors − 1 (at least 1).</summary>
    public int Workers { get; set; }

    /// <summary>Batches built ahead of the consumer: the bound of the loader's queue (default 4).</summary>
    public int Prefetch { get; set; } = 4;

    /// <summary>The parsed <see cref="Sampler"/>.</summary>
    [JsonIgnore] // derived: serializing must not evaluate (and throw for) an invalid value
    public SamplerKind SamplerKind => ParseSampler(Sampler);

    /// <summary>The parsed <see cref="ThresholdOf"/>.</summary>
    [JsonIgnore] // derived: serializing must not evaluate (and throw for) an invalid value
    public ThresholdReference ThresholdReference => ThresholdOf?.Trim().ToLowerInvariant() switch
    {
        "crop" => ThresholdReference.Crop,
        "volume" => ThresholdReference.Volume,
        _ => throw new InvalidOptionException(nameof(ThresholdOf), $"'{ThresholdOf}' must be crop or volume"),
    };

    /// <summary>The patch size as (D, H, W).</summary>
    [JsonIgnore] // derived: serializing must not evaluate (and throw for) an invalid value
    public SpatialSize Patch => SpatialSize.From(PatchSize);

    /// <summary>Worker threads actually used.</summary>
    [JsonIgnore] // derived: serializing must not evaluate (and throw for) an invalid value
    public int EffectiveWorkers => Workers > 0 ? Workers : Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Sampler names, as accepted by <see cref="Sampler"/>.</summary>
    public static IReadOnlyList<string> SamplerNames { get; } = ["random", "threshold", "balanced", "class_ratio", "grid"];

    /// <summary>Parses a sampler name; throws listing the valid ones.</summary>
    public static SamplerKind ParseSampler(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "random" => SamplerKind.Random,
        "threshold" => SamplerKind.Threshold,
        "balanced" => SamplerKind.Balanced,
        "class_ratio" => SamplerKind.ClassRatio,
        "grid" => SamplerKind.Grid,
        _ => throw new InvalidOptionException(nameof(Sampler), $"unknown sampler '{name}': use one of {string.Join(", ", SamplerNames)}"),
    };

    /// <summary>A copy (arrays copied too).</summary>
    public SamplingOptions Clone()
    {
        var c = (SamplingOptions)MemberwiseClone();
        c.PatchSize = PatchSize?.ToArray()!;
        c.ClassRatios = ClassRatios?.ToArray();
        return c;
    }

    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first bad field and what is allowed.</summary>
    public void Validate()
    {
        if (PatchSize is null || PatchSize.Length != 3)
            throw new InvalidOptionException(nameof(PatchSize), $"give 3 sizes in voxels (depth, height, width), e.g. 32 32 32; got {Values(PatchSize?.Length ?? 0)}");
        if (PatchSize.Any(p => p is < 1 or > 1024))
            throw new InvalidOptionException(nameof(PatchSize), $"({string.Join(", ", PatchSize)}) each size must be 1..1024 voxels");
        if ((long)PatchSize[0] * PatchSize[1] * PatchSize[2] > 64L * 1024 * 1024)
            throw new InvalidOptionException(nameof(PatchSize), $"({string.Join(", ", PatchSize)}) is {(long)PatchSize[0] * PatchSize[1] * PatchSize[2]} voxels per patch; at most 64 Mi voxels (e.g. 400³) is accepted");
        _ = SamplerKind;
        _ = ThresholdReference;
        if (!(Threshold >= 0 && Threshold <= 1))
            throw new InvalidOptionException(nameof(Threshold), Invariant($"{Threshold} must be a fraction in [0, 1]"));
        if (MaxRetries is < 0 or > 100_000)
            throw new InvalidOptionException(nameof(MaxRetries), $"{MaxRetries} must be 0..100000");
        if (!(PositiveRatio >= 0) || !(NegativeRatio >= 0) || PositiveRatio + NegativeRatio <= 0 || double.IsInfinity(PositiveRatio + NegativeRatio))
            throw new InvalidOptionException(nameof(PositiveRatio), Invariant($"{PositiveRatio} and {nameof(NegativeRatio)} {NegativeRatio} must be non-negative, finite and not both 0"));
        if (ClassRatios is not null && (ClassRatios.Length == 0 || ClassRatios.Any(r => !(r >= 0) || double.IsInfinity(r)) || ClassRatios.Sum() <= 0))
            throw new InvalidOptionException(nameof(ClassRatios), $"({string.Join(", ", ClassRatios.Select(r => r.ToString(CultureInfo.InvariantCulture)))}) must be non-negative, finite, one per class, and not all 0");
        if (SamplesTrain is < 1 or > 10_000_000)
            throw new InvalidOptionException(nameof(SamplesTrain), $"{SamplesTrain} must be 1..10000000");
        if (SamplesVal is < 1 or > 10_000_000)
            throw new InvalidOptionException(nameof(SamplesVal), $"{SamplesVal} must be 1..10000000");
        if (BatchSize is < 1 or > 4096)
            throw new InvalidOptionException(nameof(BatchSize), $"{BatchSize} must be 1..4096");
        if (!(GridOverlap >= 0 && GridOverlap < 1))
            throw new InvalidOptionException(nameof(GridOverlap), Invariant($"{GridOverlap} must be in [0, 1)"));
        if (Workers is < 0 or > 256)
            throw new InvalidOptionException(nameof(Workers), $"{Workers} must be 0 (automatic) or 1..256");
        if (Prefetch is < 1 or > 1024)
            throw new InvalidOptionException(nameof(Prefetch), $"{Prefetch} must be 1..1024");
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Values(int n) => n == 1 ? "1 value" : $"{n} values";
}
