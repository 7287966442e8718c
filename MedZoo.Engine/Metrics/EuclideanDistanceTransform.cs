namespace MedZoo.Engine.Metrics;

/// <summary>
/// Exact Euclidean distance transform of a 3D grid with anisotropic voxels, by the separable
/// lower-envelope-of-parabolas algorithm of Felzenszwalb &amp; Huttenlocher ("Distance Transforms of
/// Sampled Functions", Theory of Computing 8, 2012): three 1D passes (W, H, D), each O(n) per line, so
/// O(N) overall; lines run in parallel. Distances are in millimetres (squared distances in mm²), the
/// same values as <c>scipy.ndimage.distance_transform_edt(~features, sampling=(sd, sh, sw))</c>.
/// </summary>
public static class EuclideanDistanceTransform
{
    /// <summary>
    /// Squared distance (mm²) from every voxel to the nearest feature voxel (0 on features); +∞
    /// everywhere when there is no feature. <paramref name="features"/> is a C-order (D, H, W) mask.
    /// </summary>
    public static double[] SquaredDistances(ReadOnlySpan<bool> features, VolumeShape shape, VoxelSpacing spacing)
    {
        if (features.Length != shape.VoxelCount)
            throw new ArgumentException($"feature mask has {features.Length} voxels, shape {shape} needs {shape.VoxelCount}", nameof(features));
        var grid = new double[features.Length];
        for (var i = 0; i < grid.Length; i++)
            grid[i] = features[i] ? 0 : double.PositiveInfinity;
        SquaredInPlace(grid, shape, spacing);
        return grid;
    }

    /// <summary>Distance (mm) from every voxel to the nearest feature voxel; see <see cref="SquaredDistances"/>.</summary>
    public static double[] Distances(ReadOnlySpan<bool> features, VolumeShape shape, VoxelSpacing spacing)
    {
        var grid = SquaredDistances(features, shape, spacing);
        for (var i = 0; i < grid.Length; i++) grid[i] = Math.Sqrt(grid[i]);
        return grid;
    }

    /// <summary>
    /// Turns <paramref name="grid"/> (0 on features, +∞ elsewhere — or any sampled function) into its
    /// squared-distance transform in place.
    /// </summary>
    public static void SquaredInPlace(double[] grid, VolumeShape shape, VoxelSpacing spacing)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.LongLength != shape.VoxelCount)
            throw new ArgumentException($"grid has {grid.LongLength} voxels, shape {shape} needs {shape.VoxelCount}", nameof(grid));
        if (!spacing.IsValid)
            throw new ArgumentException("voxel spacing must be positive (use a VoxelSpacing constructor)", nameof(spacing));
        int depth = shape.Depth, height = shape.Height, width = shape.Width;
        var plane = height * width;

        // Along W: rows are contiguous.
        if (width > 1)
            Parallel.For(0, depth, () => new Scratch(width, 0), (d, _, s) =>
            {
                for (var h = 0; h < height; h++)
                    TransformLine(grid.AsSpan(d * plane + h * width, width), spacing.Width * spacing.Width, s);
                return s;
            }, _ => { });

        // Along H and D the lines are strided: copy a slab transposed so each line is contiguous, transform,
        // copy back. Slab rows are read and written whole, which keeps the passes cache-friendly.
        if (height > 1)
            Parallel.For(0, depth, () => new Scratch(height, plane), (d, _, s) =>
            {
                var slab = grid.AsSpan(d * plane, plane);
                Transpose(slab, s.Slab, height, width);
                for (var w = 0; w < width; w++)
                    TransformLine(s.Slab.AsSpan(w * height, height), spacing.Height * spacing.Height, s);
                Transpose(s.Slab, slab, width, height);
                return s;
            }, _ => { });

        if (depth > 1)
            Parallel.For(0, height, () => new Scratch(depth, depth * width), (h, _, s) =>
            {
                for (var d = 0; d < depth; d++)
                {
                    var row = grid.AsSpan(d * plane + h * width, width);
                    for (var w = 0; w < width; w++) s.Slab[w * depth + d] = row[w];
                }
                for (var w = 0; w < width; w++)
                    TransformLine(s.Slab.AsSpan(w * depth, depth), spacing.Depth * spacing.Depth, s);
                for (var d = 0; d < depth; d++)
                {
                    var row = grid.AsSpan(d * plane + h * width, width);
                    for (var w = 0; w < width; w++) row[w] = s.Slab[w * depth + d];
                }
                return s;
            }, _ => { });
    }

    /// <summary>Transforms one contiguous line in place (skipping lines without any finite sample).</summary>
    private static void TransformLine(Span<double> line, double weight, Scratch s)
    {
        var any = false;
        foreach (var v in line)
            if (!double.IsPositiveInfinity(v)) { any = true; break; }
        if (!any) return;
        Transform1D(line, s.Output, weight, s.Vertices, s.Boundaries);
        s.Output.AsSpan(0, line.Length).CopyTo(line);
    }

    /// <summary>dst (columns × rows) = transpose of src (rows × columns).</summary>
    private static void Transpose(ReadOnlySpan<double> src, Span<double> dst, int rows, int columns)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = src.Slice(r * columns, columns);
            for (var c = 0; c < columns; c++) dst[c * rows + r] = row[c];
        }
    }

    /// <summary>
    /// 1D squared-distance transform d(q) = min_p (weight·(q − p)² + f(p)) as the lower envelope of
    /// parabolas rooted at the finite samples; samples at +∞ are skipped so they cannot produce ∞ − ∞.
    /// </summary>
    internal static void Transform1D(ReadOnlySpan<double> f, Span<double> d, double weight, Span<int> v, Span<double> z)
    {
        var n = f.Length;
        var k = -1;
        for (var q = 0; q < n; q++)
        {
            var fq = f[q];
            if (double.IsPositiveInfinity(fq)) continue;
            var rootQ = fq + weight * q * q;
            var s = double.NegativeInfinity;
            while (k >= 0)
            {
                var p = v[k];
                s = (rootQ - (f[p] + weight * p * p)) / (2 * weight * (q - p));
                if (s <= z[k]) k--;
                else break;
            }
            k++;
            v[k] = q;
            z[k] = k == 0 ? double.NegativeInfinity : s;
        }
        if (k < 0)
        {
            d[..n].Fill(double.PositiveInfinity);
            return;
        }
        z[k + 1] = double.PositiveInfinity;
        var j = 0;
        for (var q = 0; q < n; q++)
        {
            while (z[j + 1] < q) j++;
            var delta = q - v[j];
            d[q] = weight * delta * delta + f[v[j]];
        }
    }

    /// <summary>Per-thread buffers: one line's output and envelope, plus a transposed slab.</summary>
    private sealed class Scratch(int length, int slab)
    {
        public double[] Output { get; } = new double[length];
        public int[] Vertices { get; } = new int[length];
        public double[] Boundaries { get; } = new double[length + 1];
        public double[] Slab { get; } = new double[slab];
    }
}
