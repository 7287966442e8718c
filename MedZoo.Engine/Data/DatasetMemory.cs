using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>What loading a dataset will hold in memory, estimated before any voxel is read.</summary>
/// <param name="Subjects">Subjects that will be loaded.</param>
/// <param name="Channels">Modalities per subject.</param>
/// <param name="HeldBytes">Bytes the loaded subjects keep (float32 per modality, one byte of label per voxel).</param>
/// <param name="LargestSubjectBytes">Bytes of the largest subject.</param>
/// <param name="PeakBytes">
/// <see cref="HeldBytes"/> plus what the loading threads hold at once while they read (each reads
/// one subject into a fresh buffer before it is kept): the figure to compare with a memory budget.
/// </param>
public sealed record DatasetMemoryEstimate(int Subjects, int Channels, long HeldBytes, long LargestSubjectBytes, long PeakBytes);

/// <summary>
/// Estimates the memory a <see cref="SegmentationDataset.Load"/> of a dataset will take, from the
/// options alone for generated data and from one header per subject for data in a folder (headers
/// are read without touching voxels), so a host can refuse a dataset that would not fit before it
/// allocates anything. Sums saturate at <see cref="long.MaxValue"/> instead of overflowing.
/// </summary>
public static class DatasetMemory
{
    /// <summary>Bytes one loaded subject holds: <paramref name="channels"/> float32 images and, when labeled, one byte per voxel.</summary>
    public static long SubjectBytes(long voxels, int channels, bool labeled)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(voxels);
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        return Multiply(voxels, 4L * channels + (labeled ? 1 : 0));
    }

    /// <summary>
    /// Estimates what loading the dataset <paramref name="options"/> describe will hold. Folder
    /// datasets are scanned (layout only) and the first image header of every subject is read
    /// through <paramref name="readHeader"/> (<see cref="VolumeIO.ReadHeader"/> when null).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options (the field is named).</exception>
    /// <exception cref="DatasetException">The layout scan or a header failed (subject and file named).</exception>
    public static DatasetMemoryEstimate Estimate(DatasetOptions options, Func<string, VolumeHeader>? readHeader = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        readHeader ??= VolumeIO.ReadHeader;
        var definition = DatasetCatalog.Get(options.Name);
        var scan = definition.Scan(options);
        if (scan.Errors.Count > 0) throw new DatasetException(scan.Errors);
        var channels = scan.Modalities.Count;
        long held = 0, largest = 0;
        if (!definition.RequiresPath)
        {
            // Generated data: every subject has the configured size and a label.
            var size = options.SyntheticSize;
            largest = SubjectBytes(Multiply(Multiply(size[0], size[1]), size[2]), channels, labeled: true);
            held = Multiply(largest, scan.Subjects.Count);
        }
        else
        {
            var errors = new List<string>();
            foreach (var subject in scan.Subjects)
            {
                if (subject.Images.Count == 0) continue;
                var file = subject.Images[0].Path;
                VolumeHeader header;
                try
                {
                    header = readHeader(file);
                }
                catch (Exception e) when (e is VolumeFormatException or IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or OverflowException or FormatException or NotSupportedException)
                {
                    errors.Add($"subject '{subject.Id}': {System.IO.Path.GetFileName(file)}: the header cannot be read: {e.Message}");
                    continue;
                }
                var voxels = header.Shape.Take(3).Aggregate(1L, Multiply);
                var bytes = SubjectBytes(voxels, subject.Images.Count, subject.LabelFile is not null);
                held = Add(held, bytes);
                largest = Math.Max(largest, bytes);
            }
            if (errors.Count > 0) throw new DatasetException(errors);
        }
        var threads = Math.Min(scan.Subjects.Count, SubjectLoading.Threads(options));
        return new DatasetMemoryEstimate(scan.Subjects.Count, channels, held, largest, Add(held, Multiply(largest, threads)));
    }

    private static long Multiply(long a, long b)
    {
        if (a == 0 || b == 0) return 0;
        return a > long.MaxValue / b ? long.MaxValue : a * b;
    }

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
