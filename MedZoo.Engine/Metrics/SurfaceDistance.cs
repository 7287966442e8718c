namespace MedZoo.Engine.Metrics;

/// <summary>
/// Surface distances between two binary masks in millimetres, defined as MONAI
/// (<c>monai.metrics.utils.get_mask_edges</c> / <c>get_surface_distance</c>) and medpy define them:
/// <list type="bullet">
/// <item><description><b>Surface</b>: the mask's voxels that have at least one face neighbour (6-connectivity) outside
/// the mask or outside the volume, i.e. <c>mask XOR binary_erosion(mask, generate_binary_structure(3, 1), border_value=0)</c>.</description></item>
/// <item><description><b>Directed distances</b> A→B: for every surface voxel of A, the Euclidean distance (voxel
/// centres, anisotropic spacing) to the nearest surface voxel of B, from an exact distance transform
/// (<see cref="EuclideanDistanceTransform"/>).</description></item>
/// <item><description><b>HD95</b>: max(P95(A→B), P95(B→A)), MONAI's <c>compute_hausdorff_distance(percentile=95, directed=False)</c>;
/// P is numpy's default percentile (linear interpolation between order statistics, rank q/100·(n − 1)).
/// medpy's <c>hd95</c> instead takes P95 of both directions pooled; the two agree often but not always.</description></item>
/// <item><description><b>ASSD</b>: mean of all directed distances of both directions pooled,
/// (Σ A→B + Σ B→A) / (|∂A| + |∂B|) — Heimann et al. 2009 and MONAI's symmetric
/// <c>compute_average_surface_distance</c>; medpy's <c>assd</c> averages the two directed means instead.</description></item>
/// </list>
/// Distances are undefined (NaN) when either mask is empty.
/// </summary>
public static class SurfaceDistance
{
    /// <summary>Surface voxels of a C-order (D, H, W) mask (6-connected boundary, volume border counts as outside).</summary>
    public static bool[] Surface(ReadOnlySpan<bool> mask, VolumeShape shape)
    {
        if (mask.Length != shape.VoxelCount)
            throw new ArgumentException($"mask has {mask.Length} voxels, shape {shape} needs {shape.VoxelCount}", nameof(mask));
        int depth = shape.Depth, height = shape.Height, width = shape.Width;
        var plane = height * width;
        var surface = new bool[mask.Length];
        for (var d = 0; d < depth; d++)
            for (var h = 0; h < height; h++)
            {
                var row = d * plane + h * width;
                for (var w = 0; w < width; w++)
                {
                    var i = row + w;
                    if (!mask[i]) continue;
                    surface[i] = d == 0 || d == depth - 1 || h == 0 || h == height - 1 || w == 0 || w == width - 1
                        || !mask[i - plane] || !mask[i + plane] || !mask[i - width] || !mask[i + width] || !mask[i - 1] || !mask[i + 1];
                }
            }
        return surface;
    }

    /// <summary>
    /// Directed distances (mm) from each surface voxel of <paramref name="from"/> to the surface of
    /// <paramref name="to"/>, in C-order of the surface voxels; empty when either mask is empty.
    /// </summary>
    public static double[] Directed(ReadOnlySpan<bool> from, ReadOnlySpan<bool> to, VolumeShape shape, VoxelSpacing spacing)
    {
        var fromSurface = Surface(from, shape);
        var toSurface = Surface(to, shape);
        return DirectedBetweenSurfaces(fromSurface, toSurface, shape, spacing);
    }

    /// <summary>Directed distances in both directions (A→B, B→A); both empty when either mask is empty.</summary>
    public static (double[] AToB, double[] BToA) Both(ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, VolumeShape shape, VoxelSpacing spacing)
    {
        var surfaceA = Surface(a, shape);
        var surfaceB = Surface(b, shape);
        return (DirectedBetweenSurfaces(surfaceA, surfaceB, shape, spacing), DirectedBetweenSurfaces(surfaceB, surfaceA, shape, spacing));
    }

    /// <summary>max(Pq(A→B), Pq(B→A)) in mm (q = 95 by default); NaN when either mask is empty.</summary>
    public static double Hausdorff(ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, VolumeShape shape, VoxelSpacing spacing, double percentile = 95)
    {
        var (ab, ba) = Both(a, b, shape, spacing);
        return Hausdorff(ab, ba, percentile);
    }

    /// <summary>Pooled average symmetric surface distance in mm; NaN when either mask is empty.</summary>
    public static double AverageSymmetric(ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, VolumeShape shape, VoxelSpacing spacing)
    {
        var (ab, ba) = Both(a, b, shape, spacing);
        return AverageSymmetric(ab, ba);
    }

    /// <summary>max(Pq(A→B), Pq(B→A)) of directed distances (sorted in place); NaN when either is empty.</summary>
    public static double Hausdorff(double[] aToB, double[] bToA, double percentile = 95)
    {
        ArgumentNullException.ThrowIfNull(aToB);
        ArgumentNullException.ThrowIfNull(bToA);
        if (aToB.Length == 0 || bToA.Length == 0) return double.NaN;
        Array.Sort(aToB);
        Array.Sort(bToA);
        return Math.Max(Percentile(aToB, percentile), Percentile(bToA, percentile));
    }

    /// <summary>(Σ A→B + Σ B→A) / (|A→B| + |B→A|); NaN when either is empty.</summary>
    public static double AverageSymmetric(double[] aToB, double[] bToA)
    {
        ArgumentNullException.ThrowIfNull(aToB);
        ArgumentNullException.ThrowIfNull(bToA);
        if (aToB.Length == 0 || bToA.Length == 0) return double.NaN;
        return (aToB.Sum() + bToA.Sum()) / (aToB.Length + bToA.Length);
    }

    /// <summary>
    /// numpy's default percentile of ascending <paramref name="sorted"/> values: linear interpolation at
    /// rank q/100·(n − 1).
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double percentile)
    {
        if (sorted.IsEmpty) return double.NaN;
        if (!(percentile >= 0 && percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "percentile must be in [0, 100]");
        var rank = percentile / 100 * (sorted.Length - 1);
        var lower = (int)Math.Floor(rank);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
    }

    private static double[] DirectedBetweenSurfaces(bool[] fromSurface, bool[] toSurface, VolumeShape shape, VoxelSpacing spacing)
    {
        if (!fromSurface.Contains(true) || !toSurface.Contains(true)) return [];
        var squared = EuclideanDistanceTransform.SquaredDistances(toSurface, shape, spacing);
        var distances = new List<double>();
        for (var i = 0; i < fromSurface.Length; i++)
            if (fromSurface[i]) distances.Add(Math.Sqrt(squared[i]));
        return [.. distances];
    }
}
