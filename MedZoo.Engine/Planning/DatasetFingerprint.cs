using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Planning;

/// <summary>Foreground intensity statistics of one modality (raw values, before any normalization).</summary>
/// <param name="Modality">Modality name.</param>
/// <param name="Voxels">Foreground voxels the statistics were computed over.</param>
/// <param name="Mean">Mean.</param>
/// <param name="Sd">Population standard deviation.</param>
/// <param name="Percentile005">0.5th percentile (numpy's linear interpolation).</param>
/// <param name="Percentile995">99.5th percentile.</param>
public sealed record IntensityStatistics(string Modality, long Voxels, double Mean, double Sd, double Percentile005, double Percentile995)
{
    /// <summary>Statistics of <paramref name="values"/> (sorted in place).</summary>
    public static IntensityStatistics Of(string modality, float[] values)
    {
        if (values.Length == 0) return new IntensityStatistics(modality, 0, 0, 0, 0, 0);
        var (mean, sd, _) = Normalization.Moments(values, nonZeroOnly: false);
        Array.Sort(values);
        return new IntensityStatistics(modality, values.Length, mean, sd,
            Percentile(values, 0.5), Percentile(values, 99.5));
    }

    private static double Percentile(float[] sorted, double p)
    {
        var pos = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((double)sorted[hi] - sorted[lo]) * (pos - lo);
    }
}

/// <summary>What a subject looks like on disk.</summary>
/// <param name="Id">Subject id.</param>
/// <param name="Size">Voxels along the file's axes (i, j, k).</param>
/// <param name="Spacing">Voxel size in mm along (i, j, k).</param>
/// <param name="Orientation">Axis codes (nibabel's aff2axcodes), e.g. "RAS", "LSA".</param>
/// <param name="CanonicalSize">Voxels along R, A, S after reorientation to the closest RAS+.</param>
/// <param name="CanonicalSpacing">Voxel size in mm along R, A, S.</param>
/// <param name="Intensities">Foreground statistics per modality.</param>
/// <param name="ClassVolumes">Volume of each class in mm³ (index = class; empty when unlabeled).</param>
public sealed record SubjectFingerprint(
    string Id, int[] Size, double[] Spacing, string Orientation, int[] CanonicalSize, double[] CanonicalSpacing,
    IReadOnlyList<IntensityStatistics> Intensities, double[] ClassVolumes);

/// <summary>
/// A dataset's fingerprint (nnU-Net's dataset fingerprint): per subject its size, spacing,
/// orientation, foreground intensity statistics and class volumes, and per modality the statistics
/// of the foreground pooled over every subject (what the CT intensity scheme uses).
/// The foreground is the labelled voxels (label &gt; 0) when the dataset has labels, else the voxels
/// non-zero in any modality. The pooled statistics use at most <see cref="FingerprintBuilder.SamplesPerSubject"/>
/// voxels per subject, evenly spaced in file order (all of them when a subject has fewer), so a huge
/// subject does not outweigh the others.
/// </summary>
/// <param name="Dataset">Catalog name.</param>
/// <param name="Modalities">Modality names in channel order.</param>
/// <param name="ClassNames">Class names, index = class.</param>
/// <param name="Subjects">One fingerprint per subject, in the dataset's order.</param>
/// <param name="Foreground">Pooled foreground statistics per modality.</param>
/// <param name="ForegroundSource">"labels" or "non-zero voxels": where the foreground came from.</param>
public sealed record DatasetFingerprint(
    string Dataset, IReadOnlyList<string> Modalities, IReadOnlyList<string> ClassNames,
    IReadOnlyList<SubjectFingerprint> Subjects, IReadOnlyList<IntensityStatistics> Foreground, string ForegroundSource)
{
    /// <summary>A readable table: one line per subject, then the pooled statistics.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        var lines = new List<string> { $"fingerprint of '{Dataset}': {Subjects.Count} subject(s), modalities {string.Join(", ", Modalities)}, foreground from {ForegroundSource}" };
        foreach (var s in Subjects)
        {
            var volumes = s.ClassVolumes.Length == 0 ? "" : "; class volumes " + string.Join(", ",
                s.ClassVolumes.Select((v, i) => string.Create(c, $"{(i < ClassNames.Count ? ClassNames[i] : i.ToString(c))} {v:0.#} mm³")).Skip(1));
            var intensities = string.Join("; ", s.Intensities.Select(i => Format(c, i)));
            lines.Add(string.Create(c, $"  {s.Id}: {string.Join("×", s.Size)} voxels of {string.Join("×", s.Spacing.Select(v => v.ToString("0.###", c)))} mm, {s.Orientation}; {intensities}{volumes}"));
        }
        foreach (var f in Foreground) lines.Add("  pooled " + Format(c, f));
        return string.Join(Environment.NewLine, lines);
    }

    private static string Format(CultureInfo c, IntensityStatistics i) =>
        string.Create(c, $"{i.Modality} mean {i.Mean:0.###} sd {i.Sd:0.###} p0.5 {i.Percentile005:0.###} p99.5 {i.Percentile995:0.###}");
}

/// <summary>Reads every subject of a dataset once (raw, unnormalized) and builds its <see cref="DatasetFingerprint"/>.</summary>
public static class FingerprintBuilder
{
    /// <summary>Most foreground voxels per subject and modality in the pooled statistics (nnU-Net samples 10,000).</summary>
    public const int SamplesPerSubject = 10_000;

    /// <summary>Fingerprints the dataset <paramref name="options"/> name; files are read through <paramref name="reader"/> (the file readers when null).</summary>
    public static DatasetFingerprint Build(DatasetOptions options, IVolumeReader? reader = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var definition = DatasetCatalog.Get(options.Name);
        var scan = SegmentationDataset.ScanChecked(definition, options);
        reader ??= VolumeFileReader.Instance;
        var subjects = new SubjectFingerprint[scan.Subjects.Count];
        var samples = new float[scan.Subjects.Count][][];
        var labelled = new bool[scan.Subjects.Count];
        var errors = new List<string>[scan.Subjects.Count];
        Parallel.For(0, scan.Subjects.Count, new ParallelOptions
        {
            CancellationToken = cancellation,
            MaxDegreeOfParallelism = options.LoadThreads > 0 ? options.LoadThreads : Environment.ProcessorCount,
        }, i =>
        {
            try
            {
                var raw = definition.Load(scan, scan.Subjects[i], reader, options);
                (subjects[i], samples[i]) = Subject(raw, scan.Mapping.ClassCount);
                labelled[i] = raw.Label is not null;
            }
            catch (DatasetException e)
            {
                errors[i] = [.. e.Errors];
            }
        });
        var all = errors.Where(e => e is not null).SelectMany(e => e).ToList();
        if (all.Count > 0) throw new DatasetException(all);
        var pooled = scan.Modalities.Select((m, c) => IntensityStatistics.Of(m, samples.SelectMany(s => s[c]).ToArray())).ToArray();
        return new DatasetFingerprint(definition.Name, scan.Modalities, scan.ClassNames, subjects, pooled,
            labelled.All(l => l) ? "labels" : "non-zero voxels");
    }

    /// <summary>The fingerprint of one raw subject and its pooled-statistics sample per modality.</summary>
    public static (SubjectFingerprint Fingerprint, float[][] Samples) Subject(RawSubject raw, int classCount)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var g = raw.Geometry;
        var size = raw.Size;
        var n = checked((int)size.Voxels);
        var foreground = new bool[n];
        if (raw.Label is { } label)
            for (var i = 0; i < n; i++) foreground[i] = label[i] != 0;
        else
            foreach (var img in raw.Images)
                for (var i = 0; i < n; i++) foreground[i] |= img[i] != 0;
        var count = foreground.Count(f => f);
        var stride = Math.Max(1, (count + SamplesPerSubject - 1) / SamplesPerSubject);
        var stats = new IntensityStatistics[raw.Images.Length];
        var samples = new float[raw.Images.Length][];
        for (var c = 0; c < raw.Images.Length; c++)
        {
            var values = new float[count];
            var sample = new List<float>(Math.Min(count, SamplesPerSubject));
            for (int i = 0, k = 0; i < n; i++)
            {
                if (!foreground[i]) continue;
                values[k] = raw.Images[c][i];
                if (k % stride == 0) sample.Add(values[k]);
                k++;
            }
            samples[c] = sample.ToArray();
            stats[c] = IntensityStatistics.Of(raw.Modalities[c], values);
        }
        var volumes = Array.Empty<double>();
        if (raw.Label is { } l)
        {
            var voxelVolume = g.Spacing[0] * g.Spacing[1] * g.Spacing[2];
            var counts = new long[classCount];
            foreach (var v in l) counts[v]++;
            volumes = counts.Select(k => k * voxelVolume).ToArray();
        }
        var reorientation = Reorientation.ToCanonical(g, size);
        var canonical = reorientation.TargetSize;
        return (new SubjectFingerprint(raw.Id, [size.W, size.H, size.D], g.Spacing.ToArray(), GridOrientation.Codes(g),
            [canonical.W, canonical.H, canonical.D], reorientation.Target.Spacing.ToArray(), stats, volumes), samples);
    }
}
