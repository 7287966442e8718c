namespace MedZoo.Web.Imaging;

/// <summary>
/// An intensity volume packed for the browser: values mapped linearly from [<see cref="Min"/>,
/// <see cref="Max"/>] to 0..65535 (NaN and ±∞ become 0), so a 256³ image is 32 MB instead of 64,
/// with 65536 levels left for window/level. <see cref="WindowLow"/>/<see cref="WindowHigh"/> is a
/// robust default window (1st–99th percentile of non-zero voxels).
/// </summary>
public sealed record DisplayImage(ushort[] Levels, float Min, float Max, float WindowLow, float WindowHigh)
{
    /// <summary>Packs <paramref name="values"/>.</summary>
    public static DisplayImage Quantize(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if (min > max) (min, max) = (0, 1);
        if (min == max) max = min + 1;
        var scale = 65535.0 / (max - min);
        var levels = new ushort[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            levels[i] = float.IsFinite(v) ? (ushort)Math.Clamp(Math.Round((v - min) * scale), 0, 65535) : (ushort)0;
        }
        var (low, high) = SliceExtractor.Window(values);
        if (!(high > low)) (low, high) = (min, max);
        return new DisplayImage(levels, min, max, low, high);
    }

    /// <summary>The intensity a level stands for.</summary>
    public double ValueOf(ushort level) => Min + level * ((double)Max - Min) / 65535.0;
}
