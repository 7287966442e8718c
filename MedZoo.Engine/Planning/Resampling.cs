using MedZoo.Engine.Data;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Planning;

/// <summary>How image intensities are interpolated when a grid is resampled.</summary>
public enum ImageInterpolation
{
    /// <summary>Third-order B-spline with its prefilter (scipy.ndimage's order=3, mode "mirror"): smooth, may overshoot at edges.</summary>
    Cubic,
    /// <summary>Trilinear: never overshoots, blurs more.</summary>
    Linear,
}

/// <summary>How label maps are resampled, never creating a class that was not there.</summary>
public enum LabelInterpolation
{
    /// <summary>The nearest voxel's class.</summary>
    Nearest,
    /// <summary>Each class as a 0/1 map resampled trilinearly, then the class of largest value (nnU-Net's way for segmentations).</summary>
    LinearOneHot,
}

/// <summary>
/// Resampling between two axis-aligned grids covering the same field of view: voxel centre o of an
/// axis of m voxels lies at source coordinate x = (o + ½)·n/m − ½ of the axis of n voxels (the edges
/// of the first and last voxels coincide, as scikit-image's <c>resize</c> that nnU-Net uses).
/// Coordinates are clamped to [0, n − 1]. Interpolation is separable (one axis at a time), which is
/// exact for these tensor-product kernels. An axis whose size does not change is copied untouched,
/// so a resampling to the same grid returns the data bit for bit.
/// Arrays are C-order over (D, H, W).
/// </summary>
public static class Resampling
{
    /// <summary>Pole of the cubic B-spline prefilter (√3 − 2).</summary>
    private static readonly double Pole = Math.Sqrt(3) - 2;

    /// <summary>
    /// The size of a grid of <paramref name="size"/> voxels of <paramref name="spacing"/> (mm, along
    /// D, H, W) resampled to <paramref name="targetSpacing"/>: round(n·s/s'), at least 1 (nnU-Net's rule).
    /// </summary>
    public static SpatialSize SizeAt(SpatialSize size, ReadOnlySpan<double> spacing, ReadOnlySpan<double> targetSpacing)
    {
        if (spacing.Length != 3 || targetSpacing.Length != 3) throw new ArgumentException("spacings need 3 values (D, H, W)");
        int At(int n, double s, double t) => Math.Max(1, (int)Math.Round(n * s / t, MidpointRounding.AwayFromZero));
        return new SpatialSize(At(size.D, spacing[0], targetSpacing[0]), At(size.H, spacing[1], targetSpacing[1]), At(size.W, spacing[2], targetSpacing[2]));
    }

    /// <summary>The geometry of <paramref name="geometry"/> (a grid of <paramref name="from"/>) resampled to <paramref name="to"/> voxels over the same field of view.</summary>
    public static VolumeGeometry GeometryFor(VolumeGeometry geometry, SpatialSize from, SpatialSize to)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (from == to) return geometry;
        var a = geometry.Affine;
        int[] n = [from.W, from.H, from.D], m = [to.W, to.H, to.D];
        var spacing = new double[3];
        var next = (double[])a.Clone();
        for (var c = 0; c < 3; c++)
        {
            var ratio = (double)n[c] / m[c];
            var shift = 0.5 * ratio - 0.5;
            for (var r = 0; r < 3; r++)
            {
                next[r * 4 + c] = a[r * 4 + c] * ratio;
                next[r * 4 + 3] += a[r * 4 + c] * shift;
            }
            spacing[c] = geometry.Spacing[c] * ratio;
        }
        // Translation accumulated from the original columns, not the scaled ones.
        return new VolumeGeometry(next, spacing, geometry.Space);
    }

    /// <summary>Resamples an image from <paramref name="from"/> to <paramref name="to"/> voxels.</summary>
    public static float[] Image(ReadOnlySpan<float> data, SpatialSize from, SpatialSize to, ImageInterpolation interpolation)
    {
        Check(data.Length, from);
        if (!to.IsValid) throw new ArgumentException($"target size {to} must be positive", nameof(to));
        var current = data.ToArray();
        var size = from;
        for (var axis = 2; axis >= 0; axis--)
        {
            if (size[axis] == to[axis]) continue;
            var next = Replace(size, axis, to[axis]);
            current = ResampleAxis(current, size, next, axis, interpolation == ImageInterpolation.Cubic ? Kernel.Cubic : Kernel.Linear);
            size = next;
        }
        return current;
    }

    /// <summary>Resamples class probabilities (<paramref name="classes"/> maps of <paramref name="from"/> voxels, one after another) trilinearly.</summary>
    public static float[] Channels(ReadOnlySpan<float> data, int classes, SpatialSize from, SpatialSize to)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one channel");
        Check(data.Length, new SpatialSize(from.D * classes, from.H, from.W));
        var n = checked((int)from.Voxels);
        var m = checked((int)to.Voxels);
        var result = new float[checked(m * classes)];
        for (var c = 0; c < classes; c++)
            Image(data.Slice(c * n, n), from, to, ImageInterpolation.Linear).CopyTo(result, c * m);
        return result;
    }

    /// <summary>
    /// Resamples a label map of class indices 0..<paramref name="classCount"/>−1; every output class is
    /// one of the input's. Ties of <see cref="LabelInterpolation.LinearOneHot"/> go to the lower class.
    /// </summary>
    public static byte[] Labels(ReadOnlySpan<byte> labels, int classCount, SpatialSize from, SpatialSize to, LabelInterpolation interpolation)
    {
        Check(labels.Length, from);
        if (classCount is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "class count must be 1..256");
        if (interpolation == LabelInterpolation.Nearest)
        {
            var current = labels.ToArray().Select(v => (float)v).ToArray();
            var size = from;
            for (var axis = 2; axis >= 0; axis--)
            {
                if (size[axis] == to[axis]) continue;
                var next = Replace(size, axis, to[axis]);
                current = ResampleAxis(current, size, next, axis, Kernel.Nearest);
                size = next;
            }
            return Array.ConvertAll(current, v => (byte)v);
        }
        if (from == to) return labels.ToArray();
        var present = new bool[classCount];
        foreach (var v in labels) present[v] = true;
        var voxels = checked((int)to.Voxels);
        var best = new float[voxels];
        var result = new byte[voxels];
        Array.Fill(best, float.NegativeInfinity);
        var oneHot = new float[labels.Length];
        for (var c = 0; c < classCount; c++)
        {
            if (!present[c]) continue; // an absent class is 0 everywhere and never wins against a present one
            for (var i = 0; i < labels.Length; i++) oneHot[i] = labels[i] == c ? 1f : 0f;
            var map = Image(oneHot, from, to, ImageInterpolation.Linear);
            for (var i = 0; i < voxels; i++)
                if (map[i] > best[i]) { best[i] = map[i]; result[i] = (byte)c; }
        }
        return result;
    }

    private enum Kernel { Nearest, Linear, Cubic }

    private static SpatialSize Replace(SpatialSize s, int axis, int n) => axis switch
    {
        0 => s with { D = n },
        1 => s with { H = n },
        _ => s with { W = n },
    };

    private static void Check(int length, SpatialSize size)
    {
        if (!size.IsValid) throw new ArgumentException($"size {size} must be positive");
        if (length != size.Voxels) throw new ArgumentException($"data has {length} voxels, the grid {size} has {size.Voxels}");
    }

    /// <summary>Resamples along one axis (0 = D, 1 = H, 2 = W), every line independently.</summary>
    private static float[] ResampleAxis(float[] data, SpatialSize from, SpatialSize to, int axis, Kernel kernel)
    {
        var n = from[axis];
        var m = to[axis];
        // Lines along the axis: outer = product of the axes before it, inner = after it (stride).
        var outer = axis switch { 0 => 1, 1 => from.D, _ => from.D * from.H };
        var inner = axis switch { 0 => from.H * from.W, 1 => from.W, _ => 1 };
        var result = new float[(long)outer * m * inner];
        var ratio = (double)n / m;
        var positions = new double[m];
        for (var o = 0; o < m; o++) positions[o] = Math.Clamp((o + 0.5) * ratio - 0.5, 0, n - 1);
        Parallel.For(0, outer, () => (new double[n], new double[m]), (line, _, buffers) =>
        {
            var (input, output) = buffers;
            for (var s = 0; s < inner; s++)
            {
                long src = (long)line * n * inner + s, dst = (long)line * m * inner + s;
                for (var x = 0; x < n; x++) input[x] = data[src + (long)x * inner];
                Interpolate(input, positions, output, kernel);
                for (var x = 0; x < m; x++) result[dst + (long)x * inner] = (float)output[x];
            }
            return buffers;
        }, _ => { });
        return result;
    }

    private static void Interpolate(double[] line, double[] positions, double[] output, Kernel kernel)
    {
        var n = line.Length;
        switch (kernel)
        {
            case Kernel.Nearest:
                for (var o = 0; o < positions.Length; o++)
                    output[o] = line[Math.Min(n - 1, (int)Math.Floor(positions[o] + 0.5))];
                return;
            case Kernel.Linear:
                for (var o = 0; o < positions.Length; o++)
                {
                    var x = positions[o];
                    var i0 = (int)Math.Floor(x);
                    var f = x - i0;
                    var i1 = Math.Min(i0 + 1, n - 1);
                    output[o] = f == 0 ? line[i0] : line[i0] * (1 - f) + line[i1] * f;
                }
                return;
            default:
                Prefilter(line);
                for (var o = 0; o < positions.Length; o++)
                {
                    var x = positions[o];
                    var i0 = (int)Math.Floor(x);
                    var t = x - i0;
                    var t2 = t * t;
                    var t3 = t2 * t;
                    var u = 1 - t;
                    output[o] = u * u * u / 6 * line[Mirror(i0 - 1, n)]
                              + (4 - 6 * t2 + 3 * t3) / 6 * line[Mirror(i0, n)]
                              + (1 + 3 * t + 3 * t2 - 3 * t3) / 6 * line[Mirror(i0 + 1, n)]
                              + t3 / 6 * line[Mirror(i0 + 2, n)];
                }
                return;
        }
    }

    /// <summary>Index reflected about the end samples (scipy's "mirror": −1 → 1, n → n − 2).</summary>
    private static int Mirror(int i, int n)
    {
        if (n == 1) return 0;
        var period = 2 * (n - 1);
        i = Math.Abs(i) % period;
        return i < n ? i : period - i;
    }

    /// <summary>
    /// Cubic B-spline coefficients in place (Unser's recursive filter with mirror boundaries, as
    /// scipy.ndimage's spline_filter1d with mode "mirror").
    /// </summary>
    private static void Prefilter(double[] c)
    {
        var n = c.Length;
        if (n == 1) return;
        var z = Pole;
        var gain = (1 - z) * (1 - 1 / z);
        for (var i = 0; i < n; i++) c[i] *= gain;
        // Causal initialisation for a mirror-symmetric signal.
        var zn1 = Math.Pow(z, n - 1);
        var c0 = c[0] + zn1 * c[n - 1];
        var zi = z;
        for (var i = 1; i < n - 1; i++)
        {
            c0 += zi * (c[i] + zn1 * c[n - 1 - i]);
            zi *= z;
        }
        c[0] = c0 / (1 - zn1 * zn1);
        for (var i = 1; i < n; i++) c[i] += z * c[i - 1];
        c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1);
        for (var i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1] - c[i]);
    }
}
