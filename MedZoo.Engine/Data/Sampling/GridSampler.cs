namespace MedZoo.Engine.Data.Sampling;

/// <summary>
/// Patch positions of a regular grid covering a whole volume, for whole-volume passes: along each
/// axis patches start every round(patch·(1 − overlap)) voxels (at least 1) and the last patch is
/// aligned with the volume's end, so every voxel is covered and none is sampled outside the grid.
/// Along an axis where the volume is smaller than the patch there is one position, 0: the patch
/// runs past the end and is padded (images 0, labels background).
/// </summary>
public static class GridSampler
{
    /// <summary>First voxels (D, H, W) of every grid patch, D slowest.</summary>
    public static IReadOnlyList<(int D, int H, int W)> Origins(SpatialSize volume, SpatialSize patch, double overlap)
    {
        if (!volume.IsValid) throw new ArgumentException($"volume size {volume} must be positive", nameof(volume));
        if (!patch.IsValid) throw new ArgumentException($"patch size {patch} must be positive", nameof(patch));
        if (!(overlap >= 0 && overlap < 1)) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "overlap must be in [0, 1)");
        var ds = Starts(volume.D, patch.D, overlap);
        var hs = Starts(volume.H, patch.H, overlap);
        var ws = Starts(volume.W, patch.W, overlap);
        var result = new List<(int, int, int)>(ds.Count * hs.Count * ws.Count);
        foreach (var d in ds)
            foreach (var h in hs)
                foreach (var w in ws)
                    result.Add((d, h, w));
        return result;
    }

    /// <summary>Start positions along one axis.</summary>
    public static IReadOnlyList<int> Starts(int size, int patch, double overlap)
    {
        if (size <= patch) return [0];
        var stride = Math.Max(1, (int)Math.Round(patch * (1 - overlap)));
        var starts = new List<int>();
        for (var s = 0; s + patch < size; s += stride) starts.Add(s);
        starts.Add(size - patch);
        return starts;
    }
}
