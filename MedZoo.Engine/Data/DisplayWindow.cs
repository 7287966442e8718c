namespace MedZoo.Engine.Data;

/// <summary>
/// The one intensity window a volume is shown with, in training previews and in the dataset and
/// review viewers: the 1st and 99th percentiles of its non-zero finite voxels (zeros are usually
/// background, and a few bright voxels must not darken the picture), by numpy's default
/// definition (<see cref="Normalization.Percentile"/>: linear interpolation at rank p/100·(n − 1)).
/// Large volumes are sampled with a stride of <c>length / <see cref="MaxSamples"/></c>.
/// </summary>
public static class DisplayWindow
{
    /// <summary>About this many voxels are sampled at most: plenty for a display window, and fast on large volumes.</summary>
    public const int MaxSamples = 200_000;

    /// <summary>Percentile of the window's low end.</summary>
    public const double LowPercentile = 1;

    /// <summary>Percentile of the window's high end.</summary>
    public const double HighPercentile = 99;

    /// <summary>The window of <paramref name="image"/>; (0, 1) when it has no non-zero finite voxel.</summary>
    public static (float Low, float High) Of(ReadOnlySpan<float> image)
    {
        var step = Math.Max(1, image.Length / MaxSamples);
        var sample = new List<float>(image.Length / step + 1);
        for (var i = 0; i < image.Length; i += step)
            if (image[i] != 0 && float.IsFinite(image[i])) sample.Add(image[i]);
        if (sample.Count == 0) return (0, 1);
        sample.Sort();
        var sorted = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sample);
        return (Normalization.Percentile(sorted, LowPercentile), Normalization.Percentile(sorted, HighPercentile));
    }

    /// <summary>A voxel's display byte: 0 at <paramref name="low"/>, 255 at <paramref name="high"/> and beyond (0 everywhere when the window is empty).</summary>
    public static byte ToByte(float value, float low, float high)
    {
        var scale = high > low ? 255.0 / (high - low) : 0;
        return (byte)Math.Clamp((value - low) * scale, 0, 255);
    }
}
