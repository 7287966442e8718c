using System.Globalization;
using System.Runtime.InteropServices;
using MedZoo.Engine.IO;

namespace MedZoo.Web.Imaging;

/// <summary>
/// A review's class probabilities and their uncertainty, kept compactly and shown as heat maps.
/// Each class's probability is stored as one byte per voxel, q = round(255 p) (at most 1/510 from
/// p, a quarter of float32's size); the uncertainty is the Shannon entropy H = −Σ p ln p of each
/// voxel's class distribution, computed from the exact probabilities and stored as one byte of
/// H / ln C (0: one class certain, 255: all C classes equally likely). The browser draws both with
/// one colour scale (<see cref="Lut"/>, <see cref="CssGradient"/>); downloads turn them back into
/// float32 volumes (probabilities, entropy in nats).
/// </summary>
public static class ProbabilityMaps
{
    /// <summary>The colour scale's stops (viridis: perceptually uniform, readable in grey and by colour-blind viewers).</summary>
    private static readonly (double At, byte R, byte G, byte B)[] Stops =
    [
        (0.00, 68, 1, 84), (0.25, 59, 82, 139), (0.50, 33, 145, 140), (0.75, 94, 201, 98), (1.00, 253, 231, 37),
    ];

    /// <summary>round(255 p) for each probability, clamped to [0, 255]; NaN gives 0.</summary>
    public static byte[] Quantize(ReadOnlySpan<float> probabilities)
    {
        var result = new byte[probabilities.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var p = probabilities[i];
            result[i] = p > 0 ? (byte)Math.Min(255, (int)MathF.Round(p * 255)) : (byte)0;
        }
        return result;
    }

    /// <summary>The probability a stored byte stands for.</summary>
    public static float Dequantize(byte level) => level / 255f;

    /// <summary>The largest entropy of <paramref name="classes"/> classes, ln C nats (all equally likely).</summary>
    public static double MaxEntropy(int classes) => Math.Log(Math.Max(2, classes));

    /// <summary>
    /// Normalised entropy H / ln C of every voxel as one byte, from probabilities laid out class by
    /// class ((classes, voxels), as the predictor returns them).
    /// </summary>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="classes"/>.</exception>
    public static byte[] Entropy(ReadOnlySpan<float> probabilities, int classes)
    {
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "entropy needs at least 2 classes");
        if (probabilities.Length % classes != 0)
            throw new ArgumentException($"{probabilities.Length} probabilities are not {classes} classes of equal length", nameof(probabilities));
        var voxels = probabilities.Length / classes;
        var sum = new float[voxels];
        for (var c = 0; c < classes; c++)
        {
            var p = probabilities.Slice(c * voxels, voxels);
            for (var i = 0; i < voxels; i++)
                if (p[i] > 0) sum[i] -= p[i] * MathF.Log(p[i]);
        }
        var scale = (float)(255 / MaxEntropy(classes));
        var result = new byte[voxels];
        for (var i = 0; i < voxels; i++) result[i] = (byte)Math.Clamp((int)MathF.Round(sum[i] * scale), 0, 255);
        return result;
    }

    /// <summary>
    /// The class probabilities as a float32 volume (x, y, z, classes) on <paramref name="geometry"/>,
    /// written straight into the volume's buffer (4 bytes per class and voxel, no second copy).
    /// </summary>
    /// <param name="classes">One stored map per class, each <c>x·y·z</c> bytes in file voxel order.</param>
    /// <param name="shape">(x, y, z).</param>
    /// <param name="geometry">The input's geometry.</param>
    /// <exception cref="InvalidDataException">A stored map has the wrong length.</exception>
    public static Volume ProbabilityVolume(IReadOnlyList<byte[]> classes, IReadOnlyList<int> shape, VolumeGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var voxels = Voxels(shape);
        var raw = new byte[checked(4L * voxels * classes.Count)];
        var values = MemoryMarshal.Cast<byte, float>(raw.AsSpan());
        for (var c = 0; c < classes.Count; c++)
        {
            if (classes[c].Length != voxels)
                throw new InvalidDataException($"the stored probabilities of class {c} hold {classes[c].Length} voxels, the volume has {voxels}");
            var target = values.Slice(c * voxels, voxels);
            for (var i = 0; i < voxels; i++) target[i] = Dequantize(classes[c][i]);
        }
        return new Volume(raw, VoxelType.Float32, [shape[0], shape[1], shape[2], classes.Count], geometry);
    }

    /// <summary>The entropy in nats as a float32 volume (x, y, z) on <paramref name="geometry"/>.</summary>
    /// <exception cref="InvalidDataException">The stored map has the wrong length.</exception>
    public static Volume EntropyVolume(byte[] entropy, int classes, IReadOnlyList<int> shape, VolumeGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(entropy);
        var voxels = Voxels(shape);
        if (entropy.Length != voxels)
            throw new InvalidDataException($"the stored entropy holds {entropy.Length} voxels, the volume has {voxels}");
        var scale = (float)(MaxEntropy(classes) / 255);
        var raw = new byte[4L * voxels];
        var values = MemoryMarshal.Cast<byte, float>(raw.AsSpan());
        for (var i = 0; i < voxels; i++) values[i] = entropy[i] * scale;
        return new Volume(raw, VoxelType.Float32, [shape[0], shape[1], shape[2]], geometry);
    }

    /// <summary>The colour scale as 256 RGB triples (level 0 first), what the browser draws a map with.</summary>
    public static byte[] Lut()
    {
        var lut = new byte[256 * 3];
        for (var l = 0; l < 256; l++)
        {
            var (r, g, b) = ColorAt(l / 255.0);
            lut[l * 3] = r; lut[l * 3 + 1] = g; lut[l * 3 + 2] = b;
        }
        return lut;
    }

    /// <summary>The colour scale as a CSS gradient from left (0) to right (1), for the legend.</summary>
    public static string CssGradient() =>
        "linear-gradient(to right, " + string.Join(", ", Stops.Select(s =>
            string.Create(CultureInfo.InvariantCulture, $"rgb({s.R}, {s.G}, {s.B}) {s.At * 100:0}%"))) + ")";

    /// <summary>The colour at <paramref name="t"/> in [0, 1], interpolated linearly between the stops.</summary>
    public static (byte R, byte G, byte B) ColorAt(double t)
    {
        t = Math.Clamp(t, 0, 1);
        var k = 1;
        while (k < Stops.Length - 1 && Stops[k].At < t) k++;
        var (a, b) = (Stops[k - 1], Stops[k]);
        var f = (t - a.At) / (b.At - a.At);
        static byte Mix(byte x, byte y, double f) => (byte)Math.Round(x + (y - x) * f);
        return (Mix(a.R, b.R, f), Mix(a.G, b.G, f), Mix(a.B, b.B, f));
    }

    private static int Voxels(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count != 3 || shape.Any(s => s <= 0))
            throw new ArgumentException($"shape must be 3 positive sizes (x, y, z), got ({string.Join(", ", shape)})", nameof(shape));
        return checked(shape[0] * shape[1] * shape[2]);
    }
}
