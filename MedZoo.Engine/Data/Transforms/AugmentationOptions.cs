using System.Globalization;
using System.Text.Json.Serialization;

namespace MedZoo.Engine.Data.Transforms;

/// <summary>
/// Random augmentation of training patches (MedicalZoo's <c>--augmentation</c>). Every transform has
/// a probability of being applied to a sample, drawn per sample. Spatial transforms (flips, 90°
/// rotations, small rotations and scaling, elastic deformation) are combined into one mapping drawn
/// once per sample and applied to every modality and the label alike — images resampled
/// trilinearly, labels by nearest neighbour — straight from the whole subject volume, so rotated
/// corners hold real context, not fill. Intensity transforms (noise, gamma, brightness/contrast,
/// bias field) then change the images only, each modality with its own draw.
/// Defaults are moderate and tuned for the synthetic demo: flips on, mild affine and elastic,
/// occasional intensity changes.
/// </summary>
public sealed class AugmentationOptions
{
    /// <summary>Master switch (default true). False: patches are cut unchanged.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Probability of flipping, drawn independently per sample for each axis in <see cref="FlipAxes"/> (default 0.5).</summary>
    public double FlipProbability { get; set; } = 0.5;

    /// <summary>Axes that may be flipped: 0 = D, 1 = H, 2 = W (default all three).</summary>
    public int[] FlipAxes { get; set; } = [0, 1, 2];

    /// <summary>Probability of a 90° rotation (k ∈ {1, 2, 3} quarter turns in a plane drawn among DH, DW, HW; default 0, as brains have a canonical orientation).</summary>
    public double Rotate90Probability { get; set; }

    /// <summary>Probability of a small rotation and scaling (default 0.2).</summary>
    public double AffineProbability { get; set; } = 0.2;

    /// <summary>Largest rotation about each axis, in degrees (default 10).</summary>
    public double RotationDegrees { get; set; } = 10;

    /// <summary>Smallest isotropic scale factor (default 0.9; &gt; 1 zooms in).</summary>
    public double ScaleMin { get; set; } = 0.9;

    /// <summary>Largest isotropic scale factor (default 1.1).</summary>
    public double ScaleMax { get; set; } = 1.1;

    /// <summary>Probability of an elastic deformation (default 0.15).</summary>
    public double ElasticProbability { get; set; } = 0.15;

    /// <summary>Spacing of the elastic deformation's control points, in voxels (default 8).</summary>
    public double ElasticGridSpacing { get; set; } = 8;

    /// <summary>Standard deviation of control-point displacements, in voxels (default 1.5; at most a quarter of the spacing so the deformation cannot fold).</summary>
    public double ElasticMagnitude { get; set; } = 1.5;

    /// <summary>Probability of additive Gaussian noise per modality (default 0.15).</summary>
    public double NoiseProbability { get; set; } = 0.15;

    /// <summary>Largest noise standard deviation, in normalized intensity units; σ is drawn between 0 and this value (default 0.1).</summary>
    public double NoiseStd { get; set; } = 0.1;

    /// <summary>Probability of a gamma change per modality (default 0.15).</summary>
    public double GammaProbability { get; set; } = 0.15;

    /// <summary>Smallest gamma (default 0.7). The patch is mapped to [0, 1] by its own min/max, raised to γ and mapped back.</summary>
    public double GammaMin { get; set; } = 0.7;

    /// <summary>Largest gamma (default 1.5).</summary>
    public double GammaMax { get; set; } = 1.5;

    /// <summary>Probability of a brightness/contrast change per modality (default 0.15).</summary>
    public double BrightnessContrastProbability { get; set; } = 0.15;

    /// <summary>Largest additive brightness shift, in normalized units: x' = (x − mean)·contrast + mean + shift (default 0.1).</summary>
    public double BrightnessShift { get; set; } = 0.1;

    /// <summary>Smallest contrast factor (default 0.75).</summary>
    public double ContrastMin { get; set; } = 0.75;

    /// <summary>Largest contrast factor (default 1.25).</summary>
    public double ContrastMax { get; set; } = 1.25;

    /// <summary>Probability of a multiplicative bias field per modality (default 0.1).</summary>
    public double BiasFieldProbability { get; set; } = 0.1;

    /// <summary>Largest polynomial coefficient of the bias field exp(Σ c·xⁱyʲzᵏ) (default 0.3).</summary>
    public double BiasFieldCoefficient { get; set; } = 0.3;

    /// <summary>Polynomial order of the bias field (default 3).</summary>
    public int BiasFieldOrder { get; set; } = 3;

    /// <summary>No augmentation at all (validation, benchmarks of the plain cut).</summary>
    public static AugmentationOptions None => new() { Enabled = false };

    /// <summary>True when any spatial transform can be drawn.</summary>
    [JsonIgnore] // derived
    public bool HasSpatial => Enabled && ((FlipProbability > 0 && FlipAxes.Length > 0) || Rotate90Probability > 0 || AffineProbability > 0 || ElasticProbability > 0);

    /// <summary>A copy (arrays copied too).</summary>
    public AugmentationOptions Clone()
    {
        var c = (AugmentationOptions)MemberwiseClone();
        c.FlipAxes = FlipAxes?.ToArray()!;
        return c;
    }

    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first bad field and what is allowed.</summary>
    public void Validate()
    {
        Probability(FlipProbability, nameof(FlipProbability));
        Probability(Rotate90Probability, nameof(Rotate90Probability));
        Probability(AffineProbability, nameof(AffineProbability));
        Probability(ElasticProbability, nameof(ElasticProbability));
        Probability(NoiseProbability, nameof(NoiseProbability));
        Probability(GammaProbability, nameof(GammaProbability));
        Probability(BrightnessContrastProbability, nameof(BrightnessContrastProbability));
        Probability(BiasFieldProbability, nameof(BiasFieldProbability));
        if (FlipAxes is null || FlipAxes.Any(a => a is < 0 or > 2) || FlipAxes.Distinct().Count() != FlipAxes.Length)
            throw new InvalidOptionException(nameof(FlipAxes), $"({string.Join(", ", FlipAxes ?? [])}) must be distinct axes among 0 (D), 1 (H), 2 (W)");
        if (!(RotationDegrees >= 0 && RotationDegrees <= 180))
            throw new InvalidOptionException(nameof(RotationDegrees), Invariant($"{RotationDegrees} must be in [0, 180]"));
        Range(ScaleMin, ScaleMax, 0.25, 4, nameof(ScaleMin), nameof(ScaleMax));
        if (!(ElasticGridSpacing >= 2 && ElasticGridSpacing <= 256))
            throw new InvalidOptionException(nameof(ElasticGridSpacing), Invariant($"{ElasticGridSpacing} must be 2..256 voxels"));
        if (!(ElasticMagnitude >= 0 && ElasticMagnitude <= ElasticGridSpacing / 4))
            throw new InvalidOptionException(nameof(ElasticMagnitude), Invariant($"{ElasticMagnitude} must be in [0, {ElasticGridSpacing / 4}] (a quarter of {nameof(ElasticGridSpacing)}, so the deformation cannot fold)"));
        if (!(NoiseStd >= 0 && NoiseStd <= 10))
            throw new InvalidOptionException(nameof(NoiseStd), Invariant($"{NoiseStd} must be in [0, 10]"));
        Range(GammaMin, GammaMax, 0.05, 20, nameof(GammaMin), nameof(GammaMax));
        if (!(BrightnessShift >= 0 && BrightnessShift <= 10))
            throw new InvalidOptionException(nameof(BrightnessShift), Invariant($"{BrightnessShift} must be in [0, 10]"));
        Range(ContrastMin, ContrastMax, 0, 10, nameof(ContrastMin), nameof(ContrastMax));
        if (!(BiasFieldCoefficient >= 0 && BiasFieldCoefficient <= 2))
            throw new InvalidOptionException(nameof(BiasFieldCoefficient), Invariant($"{BiasFieldCoefficient} must be in [0, 2]"));
        if (BiasFieldOrder is < 1 or > 5)
            throw new InvalidOptionException(nameof(BiasFieldOrder), $"{BiasFieldOrder} must be 1..5");
    }

    private static void Probability(double p, string name)
    {
        if (!(p >= 0 && p <= 1)) throw new InvalidOptionException(name, Invariant($"{p} must be a probability in [0, 1]"));
    }

    private static void Range(double min, double max, double lowest, double highest, string minName, string maxName)
    {
        if (!(min >= lowest && min <= highest))
            throw new InvalidOptionException(minName, Invariant($"{min} must be in [{lowest}, {highest}]"));
        if (!(max >= min && max <= highest))
            throw new InvalidOptionException(maxName, Invariant($"{max} must be in [{minName} = {min}, {highest}]"));
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
