namespace MedZoo.Engine.Data;

/// <summary>
/// Intensity normalizations, named as MedicalZooPytorch names them (its <c>--normalization</c>),
/// applied once per modality of a subject when it is loaded — statistics are computed once per
/// whole volume, never per crop. Standard deviations are population deviations (divide by N).
/// A zero spread (constant volume) leaves values centred but unscaled instead of dividing by zero.
/// </summary>
public enum NormalizationKind
{
    /// <summary><c>none</c>: x' = x.</summary>
    None,

    /// <summary><c>max_min</c>: x' = (x − min) / (max − min), min and max over the whole volume → [0, 1].</summary>
    MaxMin,

    /// <summary><c>full_volume_mean</c>: x' = (x − μ) / σ, μ and σ over every voxel of the volume (MedicalZoo's default).</summary>
    FullVolumeMean,

    /// <summary>
    /// <c>mean</c>: x' = (x − μ₊) / σ₊ applied to every voxel, μ₊ and σ₊ over the voxels where x ≠ 0
    /// (MedicalZoo's "mean"; background becomes −μ₊/σ₊).
    /// </summary>
    Mean,

    /// <summary>
    /// <c>max</c>: x' = x / max(x) (MedicalZoo's crashes on a tuple unpacking; this one works). When the
    /// maximum is not positive the divisor is max|x|, so the sign of values is kept.
    /// </summary>
    Max,

    /// <summary>
    /// <c>brats</c>: z-score inside the brain, background kept 0: for voxels where this modality is
    /// non-zero, x' = (x − μ₊) / σ₊ with μ₊, σ₊ over those voxels; voxels where x = 0 stay 0.
    /// </summary>
    Brats,

    /// <summary>
    /// <c>zscore_nonzero</c>: z-score over the subject's joint foreground mask M = {voxels where any
    /// modality ≠ 0} (nnU-Net's non-zero mask normalization): x' = (x − μ_M) / σ_M inside M, 0 outside.
    /// Unlike <c>brats</c>, a voxel that is 0 in one modality but inside M is normalized too.
    /// </summary>
    ZScoreNonZero,
}

/// <summary>Parsing, formulas and percentile clipping for <see cref="NormalizationKind"/>.</summary>
public static class Normalization
{
    private static readonly (string Name, NormalizationKind Kind)[] Names =
    [
        ("none", NormalizationKind.None),
        ("max_min", NormalizationKind.MaxMin),
        ("full_volume_mean", NormalizationKind.FullVolumeMean),
        ("mean", NormalizationKind.Mean),
        ("max", NormalizationKind.Max),
        ("brats", NormalizationKind.Brats),
        ("zscore_nonzero", NormalizationKind.ZScoreNonZero),
    ];

    /// <summary>The accepted names, as MedicalZoo spells them.</summary>
    public static IReadOnlyList<string> ValidNames { get; } = Names.Select(n => n.Name).ToArray();

    /// <summary>Parses a name (case-insensitive; "" and null mean none); throws naming the valid ones.</summary>
    public static NormalizationKind Parse(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return NormalizationKind.None;
        foreach (var (n, k) in Names)
            if (string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase)) return k;
        throw new ArgumentException($"unknown normalization '{name}': use one of {string.Join(", ", ValidNames)}", nameof(name));
    }

    /// <summary>The MedicalZoo name of a kind.</summary>
    public static string Name(this NormalizationKind kind) => Names.First(n => n.Kind == kind).Name;

    /// <summary>
    /// Normalizes every modality of one subject in place. <paramref name="images"/> are the subject's
    /// modalities (same length); <see cref="NormalizationKind.ZScoreNonZero"/> needs them all to build
    /// the joint mask, the others treat each modality on its own.
    /// </summary>
    public static void Apply(NormalizationKind kind, IReadOnlyList<float[]> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (kind == NormalizationKind.None || images.Count == 0) return;
        if (kind == NormalizationKind.ZScoreNonZero)
        {
            var n = images[0].Length;
            var mask = new bool[n];
            foreach (var img in images)
                for (var i = 0; i < n; i++)
                    if (img[i] != 0) mask[i] = true;
            foreach (var img in images) ZScoreMasked(img, mask);
            return;
        }
        foreach (var img in images) Apply(kind, img);
    }

    /// <summary>Normalizes one modality in place (every kind but <see cref="NormalizationKind.ZScoreNonZero"/>, which uses the modality's own non-zero mask here).</summary>
    public static void Apply(NormalizationKind kind, float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        switch (kind)
        {
            case NormalizationKind.None:
                return;
            case NormalizationKind.MaxMin:
            {
                var (min, max) = MinMax(x);
                var range = max - min;
                var scale = range > 0 ? 1 / range : 1;
                for (var i = 0; i < x.Length; i++) x[i] = (float)((x[i] - min) * scale);
                return;
            }
            case NormalizationKind.FullVolumeMean:
            {
                var (mean, std, _) = Moments(x, nonZeroOnly: false);
                Affine(x, mean, std, keepZeros: false);
                return;
            }
            case NormalizationKind.Mean:
            {
                var (mean, std, count) = Moments(x, nonZeroOnly: true);
                if (count == 0) return;
                Affine(x, mean, std, keepZeros: false);
                return;
            }
            case NormalizationKind.Max:
            {
                var (min, max) = MinMax(x);
                var divisor = max > 0 ? max : Math.Max(Math.Abs(min), Math.Abs(max));
                if (divisor <= 0) return;
                var scale = 1 / divisor;
                for (var i = 0; i < x.Length; i++) x[i] = (float)(x[i] * scale);
                return;
            }
            case NormalizationKind.Brats:
            {
                var (mean, std, count) = Moments(x, nonZeroOnly: true);
                if (count == 0) return;
                Affine(x, mean, std, keepZeros: true);
                return;
            }
            case NormalizationKind.ZScoreNonZero:
            {
                var mask = new bool[x.Length];
                for (var i = 0; i < x.Length; i++) mask[i] = x[i] != 0;
                ZScoreMasked(x, mask);
                return;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown normalization");
        }
    }

    /// <summary>
    /// Clips the non-zero voxels of <paramref name="x"/> to the [<paramref name="lowPercentile"/>,
    /// <paramref name="highPercentile"/>] percentiles of the non-zero voxels (linear interpolation
    /// between order statistics, as numpy's default). Zero voxels — the background of skull-stripped
    /// data — are left alone and excluded from the percentiles, so a large background does not
    /// drag the low percentile to 0 (MedicalZoo clips over every voxel). No-op for (0, 100).
    /// </summary>
    public static void ClipPercentiles(float[] x, double lowPercentile, double highPercentile)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (lowPercentile is < 0 or > 100 || highPercentile is < 0 or > 100 || lowPercentile >= highPercentile)
            throw new ArgumentOutOfRangeException(nameof(lowPercentile), $"percentiles must satisfy 0 ≤ low < high ≤ 100, got {lowPercentile} and {highPercentile}");
        if (lowPercentile <= 0 && highPercentile >= 100) return;
        var values = x.Where(v => v != 0 && !float.IsNaN(v)).ToArray();
        if (values.Length == 0) return;
        Array.Sort(values);
        var low = Percentile(values, lowPercentile);
        var high = Percentile(values, highPercentile);
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            if (v == 0) continue;
            if (v < low) x[i] = low;
            else if (v > high) x[i] = high;
        }
    }

    /// <summary>Percentile <paramref name="p"/> (0..100) of ascending <paramref name="sorted"/>, interpolating linearly.</summary>
    public static float Percentile(ReadOnlySpan<float> sorted, double p)
    {
        if (sorted.IsEmpty) throw new ArgumentException("no values", nameof(sorted));
        var pos = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        var frac = pos - lo;
        return (float)(sorted[lo] + (sorted[hi] - (double)sorted[lo]) * frac);
    }

    private static void ZScoreMasked(float[] x, bool[] mask)
    {
        double sum = 0, sumSq = 0;
        long count = 0;
        for (var i = 0; i < x.Length; i++)
        {
            if (!mask[i]) continue;
            sum += x[i];
            count++;
        }
        if (count == 0) return;
        var mean = sum / count;
        for (var i = 0; i < x.Length; i++)
        {
            if (!mask[i]) continue;
            var d = x[i] - mean;
            sumSq += d * d;
        }
        var std = Math.Sqrt(sumSq / count);
        var scale = std > 0 ? 1 / std : 1;
        for (var i = 0; i < x.Length; i++) x[i] = mask[i] ? (float)((x[i] - mean) * scale) : 0f;
    }

    private static void Affine(float[] x, double mean, double std, bool keepZeros)
    {
        var scale = std > 0 ? 1 / std : 1;
        for (var i = 0; i < x.Length; i++)
        {
            if (keepZeros && x[i] == 0) continue;
            x[i] = (float)((x[i] - mean) * scale);
        }
    }

    /// <summary>Mean and population standard deviation (two passes, float64), over all or the non-zero voxels.</summary>
    internal static (double Mean, double Std, long Count) Moments(ReadOnlySpan<float> x, bool nonZeroOnly)
    {
        double sum = 0;
        long count = 0;
        foreach (var v in x)
        {
            if (nonZeroOnly && v == 0) continue;
            sum += v;
            count++;
        }
        if (count == 0) return (0, 0, 0);
        var mean = sum / count;
        double sq = 0;
        foreach (var v in x)
        {
            if (nonZeroOnly && v == 0) continue;
            var d = v - mean;
            sq += d * d;
        }
        return (mean, Math.Sqrt(sq / count), count);
    }

    private static (double Min, double Max) MinMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return (0, 0);
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }
}
