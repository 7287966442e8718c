namespace MedZoo.Engine.Data.Sampling;

/// <summary>
/// Where each class lies in one subject, for label-driven samplers: voxel counts per class, and
/// the flat indices of every class except the most frequent one (usually background), which is
/// drawn by rejection instead — it covers at least 1/K of the volume, so a few draws suffice and
/// the largest list is never stored. Built once per subject, on first use.
/// </summary>
internal sealed class SubjectVoxelIndex
{
    private readonly byte[] _label;
    private readonly int[]?[] _indices;

    public SubjectVoxelIndex(Subject subject)
    {
        _label = subject.Label ?? throw new InvalidOperationException($"subject '{subject.Id}' has no label map");
        Counts = subject.LabelCounts();
        LargestClass = Array.IndexOf(Counts, Counts.Max());
        _indices = new int[]?[Counts.Length];
        var fill = new int[Counts.Length];
        for (var c = 0; c < Counts.Length; c++)
            if (c != LargestClass && Counts[c] > 0) _indices[c] = new int[Counts[c]];
        for (var i = 0; i < _label.Length; i++)
        {
            var c = _label[i];
            if (_indices[c] is { } list) list[fill[c]++] = i;
        }
        Foreground = Counts.Skip(1).Sum();
    }

    /// <summary>Voxels per class.</summary>
    public long[] Counts { get; }

    /// <summary>Non-background voxels.</summary>
    public long Foreground { get; }

    /// <summary>The most frequent class (drawn by rejection).</summary>
    public int LargestClass { get; }

    /// <summary>A uniformly drawn voxel (flat index) of class <paramref name="cls"/>, or -1 if the subject has none.</summary>
    public int RandomVoxel(int cls, DeterministicRandom rng)
    {
        if ((uint)cls >= (uint)Counts.Length || Counts[cls] == 0) return -1;
        if (_indices[cls] is { } list) return list[rng.NextInt(list.Length)];
        for (var attempt = 0; attempt < 4096; attempt++)
        {
            var i = rng.NextInt(_label.Length);
            if (_label[i] == cls) return i;
        }
        // Practically unreachable (the class covers ≥ 1/K of the volume); scan on from a random start so the draw stays deterministic.
        var start = rng.NextInt(_label.Length);
        for (var k = 0; k < _label.Length; k++)
        {
            var i = (start + k) % _label.Length;
            if (_label[i] == cls) return i;
        }
        return -1;
    }

    /// <summary>A uniformly drawn non-background voxel, or -1 if there is none.</summary>
    public int RandomForeground(DeterministicRandom rng)
    {
        if (Foreground == 0) return -1;
        // Class in proportion to its size, then a voxel of it: uniform over all foreground voxels.
        var pick = (long)(rng.NextDouble() * Foreground);
        for (var c = 1; c < Counts.Length; c++)
        {
            if (pick < Counts[c]) return RandomVoxel(c, rng);
            pick -= Counts[c];
        }
        return RandomVoxel(Array.FindLastIndex(Counts, n => n > 0), rng);
    }
}
