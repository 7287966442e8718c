namespace MedZoo.Engine.Data.Sampling;

/// <summary>Where to cut one patch: a subject, the patch's first voxel in it, and why it was chosen.</summary>
/// <param name="Subject">Index into the sampler's subjects.</param>
/// <param name="D">First slice (negative when padding before the volume).</param>
/// <param name="H">First row.</param>
/// <param name="W">First column.</param>
/// <param name="AnchorClass">Class of the voxel the crop is centred on; -1 when not anchored.</param>
/// <param name="Fallback">True when the threshold sampler used its best draw after exhausting its retries.</param>
public readonly record struct PatchRequest(int Subject, int D, int H, int W, int AnchorClass = -1, bool Fallback = false);

/// <summary>
/// Draws patch positions for the random samplers (<see cref="SamplerKind.Random"/>,
/// <see cref="SamplerKind.Threshold"/>, <see cref="SamplerKind.Balanced"/>,
/// <see cref="SamplerKind.ClassRatio"/>). Every draw uses only the generator it is given, so the same
/// generator state always yields the same request. Positions: a random crop's first voxel is
/// uniform over every position where the crop fits (both ends included); an anchored crop is
/// centred on its voxel and shifted just enough to stay inside the volume, so the anchor always
/// lies in the crop. Along an axis where the volume is smaller than the patch, the whole volume lies
/// inside the padded patch: at a random offset (random crops) or as centred on the anchor as that allows.
/// </summary>
public sealed class PatchSampler
{
    private readonly IReadOnlyList<Subject> _subjects;
    private readonly SamplerKind _kind;
    private readonly double _threshold;
    private readonly ThresholdReference _thresholdOf;
    private readonly int _maxRetries;
    private readonly double _positiveProbability;
    private readonly double[] _classWeights;
    private readonly int[][] _subjectsWithClass;

    /// <summary>A sampler over labelled <paramref name="subjects"/> with the options' kind and parameters.</summary>
    public PatchSampler(IReadOnlyList<Subject> subjects, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        ArgumentNullException.ThrowIfNull(options);
        if (subjects.Count == 0) throw new ArgumentException("at least one subject is required", nameof(subjects));
        _subjects = subjects;
        _kind = options.SamplerKind;
        if (_kind == SamplerKind.Grid) throw new ArgumentException("the grid sampler is not random: use GridSampler", nameof(options));
        Patch = options.Patch;
        _threshold = options.Threshold;
        _thresholdOf = options.ThresholdReference;
        _maxRetries = options.MaxRetries;
        _positiveProbability = options.PositiveRatio / (options.PositiveRatio + options.NegativeRatio);
        var classes = subjects[0].ClassCount;
        if (options.ClassRatios is { } ratios && ratios.Length != classes)
            throw new ArgumentException($"{nameof(SamplingOptions.ClassRatios)}: {ratios.Length} weights given, the dataset has {classes} classes (background first)", nameof(options));
        _classWeights = options.ClassRatios?.ToArray() ?? Enumerable.Repeat(1.0, classes).ToArray();
        _subjectsWithClass = new int[classes][];
        if (_kind is SamplerKind.ClassRatio)
        {
            for (var c = 0; c < classes; c++)
                _subjectsWithClass[c] = Enumerable.Range(0, subjects.Count).Where(s => subjects[s].VoxelIndex.Counts[c] > 0).ToArray();
            // A class no subject contains cannot be sampled: its weight goes to the others.
            for (var c = 0; c < classes; c++)
                if (_subjectsWithClass[c].Length == 0) _classWeights[c] = 0;
            if (_classWeights.Sum() <= 0)
                throw new DatasetException($"the class_ratio sampler has no class to draw: the weighted classes ({string.Join(", ", options.ClassRatios ?? [])}) occur in no subject");
        }
    }

    /// <summary>Patch size (D, H, W).</summary>
    public SpatialSize Patch { get; }

    /// <summary>Draws one patch position.</summary>
    public PatchRequest Next(DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        switch (_kind)
        {
            case SamplerKind.Random:
            {
                var s = rng.NextInt(_subjects.Count);
                var (d, h, w) = RandomOrigin(_subjects[s].Size, rng);
                return new PatchRequest(s, d, h, w);
            }
            case SamplerKind.Threshold:
                return NextThreshold(rng);
            case SamplerKind.Balanced:
            {
                var s = rng.NextInt(_subjects.Count);
                var index = _subjects[s].VoxelIndex;
                var voxel = rng.NextDouble() < _positiveProbability ? index.RandomForeground(rng) : index.RandomVoxel(0, rng);
                return voxel < 0 ? Unanchored(s, rng) : Anchored(s, voxel, rng);
            }
            case SamplerKind.ClassRatio:
            {
                var c = DrawWeighted(_classWeights, rng);
                var candidates = _subjectsWithClass[c];
                var s = candidates[rng.NextInt(candidates.Length)];
                return Anchored(s, _subjects[s].VoxelIndex.RandomVoxel(c, rng), rng);
            }
            default:
                throw new InvalidOperationException($"sampler {_kind} does not draw random patches");
        }
    }

    private PatchRequest NextThreshold(DeterministicRandom rng)
    {
        var s = rng.NextInt(_subjects.Count);
        var subject = _subjects[s];
        var label = subject.Label!;
        var denominator = _thresholdOf == ThresholdReference.Crop ? Patch.Voxels : Math.Max(1, subject.VoxelIndex.Foreground);
        var best = default(PatchRequest);
        var bestFraction = -1.0;
        for (var attempt = 0; attempt <= _maxRetries; attempt++)
        {
            var (d, h, w) = RandomOrigin(subject.Size, rng);
            var fraction = (double)CountForeground(label, subject.Size, d, h, w) / denominator;
            if (fraction >= _threshold) return new PatchRequest(s, d, h, w);
            if (fraction > bestFraction)
            {
                bestFraction = fraction;
                best = new PatchRequest(s, d, h, w, -1, Fallback: true);
            }
        }
        return best;
    }

    private PatchRequest Unanchored(int s, DeterministicRandom rng)
    {
        var (d, h, w) = RandomOrigin(_subjects[s].Size, rng);
        return new PatchRequest(s, d, h, w);
    }

    private PatchRequest Anchored(int s, int voxel, DeterministicRandom rng)
    {
        var size = _subjects[s].Size;
        var (ad, ah, aw) = size.Coordinates(voxel);
        return new PatchRequest(s, AnchorOrigin(ad, size.D, Patch.D), AnchorOrigin(ah, size.H, Patch.H), AnchorOrigin(aw, size.W, Patch.W),
            _subjects[s].Label![voxel]);
    }

    /// <summary>First voxel of a uniformly random crop (see the class remarks for small volumes).</summary>
    public (int D, int H, int W) RandomOrigin(SpatialSize size, DeterministicRandom rng) =>
        (RandomStart(size.D, Patch.D, rng), RandomStart(size.H, Patch.H, rng), RandomStart(size.W, Patch.W, rng));

    private static int RandomStart(int size, int patch, DeterministicRandom rng) =>
        size >= patch ? rng.NextInt(0, size - patch) : rng.NextInt(size - patch, 0);

    private static int AnchorOrigin(int anchor, int size, int patch)
    {
        var start = anchor - patch / 2;
        return size >= patch ? Math.Clamp(start, 0, size - patch) : Math.Clamp(start, size - patch, 0);
    }

    /// <summary>Non-background voxels of <paramref name="label"/> inside the crop starting at (d, h, w) (padding counts as background).</summary>
    public long CountForeground(byte[] label, SpatialSize size, int d, int h, int w)
    {
        int d0 = Math.Max(0, d), d1 = Math.Min(size.D, d + Patch.D);
        int h0 = Math.Max(0, h), h1 = Math.Min(size.H, h + Patch.H);
        int w0 = Math.Max(0, w), w1 = Math.Min(size.W, w + Patch.W);
        long count = 0;
        for (var z = d0; z < d1; z++)
            for (var y = h0; y < h1; y++)
            {
                var row = label.AsSpan(size.Index(z, y, w0), Math.Max(0, w1 - w0));
                // Counting zeros is vectorized; foreground = row length − zeros.
                count += row.Length - row.Count((byte)0);
            }
        return count;
    }

    private static int DrawWeighted(double[] weights, DeterministicRandom rng)
    {
        var pick = rng.NextDouble() * weights.Sum();
        for (var c = 0; c < weights.Length; c++)
        {
            if (weights[c] <= 0) continue;
            if (pick < weights[c]) return c;
            pick -= weights[c];
        }
        return Array.FindLastIndex(weights, w => w > 0);
    }
}
