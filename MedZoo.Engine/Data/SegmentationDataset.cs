using System.Diagnostics;
using MedZoo.Engine.Data.Datasets;

namespace MedZoo.Engine.Data;

/// <summary>Progress of <see cref="SegmentationDataset.Load"/>: subjects done out of the total.</summary>
public readonly record struct DatasetLoadProgress(int Loaded, int Total, string SubjectId);

/// <summary>
/// A loaded dataset: every subject read once, preprocessed once and held in memory, split into
/// training and validation subjects. This is what the trainer and the dashboard build first; all
/// bad input (wrong folder, missing or extra files, mismatched shapes, labels outside the mapping,
/// no subjects, a wrong class count) surfaces here as a <see cref="DatasetException"/> naming the
/// subject and file — not later in a training step. Patches come from a <see cref="PatchLoader"/>
/// over <see cref="Training"/>; validation runs on the whole volumes of <see cref="Validation"/>.
/// </summary>
public sealed class SegmentationDataset
{
    private readonly Dictionary<string, Subject> _byId;

    private SegmentationDataset(IDatasetDefinition definition, DatasetOptions options, DatasetScan scan, IReadOnlyList<Subject> subjects,
        DatasetSplit split, IReadOnlyList<string> warnings, TimeSpan loadTime, int cacheHits)
    {
        Definition = definition;
        Options = options;
        Scan = scan;
        Subjects = subjects;
        _byId = subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
        Split = split;
        Training = split.Training.Select(id => _byId[id]).ToArray();
        Validation = split.Validation.Select(id => _byId[id]).ToArray();
        Warnings = warnings;
        LoadTime = loadTime;
        CacheHits = cacheHits;
    }

    /// <summary>The definition the data was loaded with.</summary>
    public IDatasetDefinition Definition { get; }

    /// <summary>Catalog name.</summary>
    public string Name => Definition.Name;

    /// <summary>A copy of the options used.</summary>
    public DatasetOptions Options { get; }

    /// <summary>What the scan found (root folder, files per subject).</summary>
    public DatasetScan Scan { get; }

    /// <summary>Modality names in channel order (C = their count).</summary>
    public IReadOnlyList<string> Modalities => Scan.Modalities;

    /// <summary>Class names, index = class (K = their count).</summary>
    public IReadOnlyList<string> ClassNames => Scan.ClassNames;

    /// <summary>K, background included.</summary>
    public int ClassCount => Scan.Mapping.ClassCount;

    /// <summary>Every subject, in natural order of ids.</summary>
    public IReadOnlyList<Subject> Subjects { get; }

    /// <summary>Training subjects.</summary>
    public IReadOnlyList<Subject> Training { get; }

    /// <summary>Validation subjects (whole volumes).</summary>
    public IReadOnlyList<Subject> Validation { get; }

    /// <summary>The split (ids).</summary>
    public DatasetSplit Split { get; }

    /// <summary>Things worth telling the user that did not stop loading.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Wall time spent reading and preprocessing.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>Subjects taken from the disk cache instead of their source files.</summary>
    public int CacheHits { get; }

    /// <summary>True when every subject has a label map.</summary>
    public bool IsLabeled => Subjects.All(s => s.HasLabel);

    /// <summary>The subject with <paramref name="id"/>.</summary>
    public Subject this[string id] => _byId.TryGetValue(id, out var s) ? s : throw new KeyNotFoundException($"dataset '{Name}' has no subject '{id}'");

    /// <summary>
    /// Loads the dataset <paramref name="options"/> describe. Files are read through
    /// <paramref name="reader"/> (the volume file readers when null), each exactly once; subjects
    /// are read and preprocessed on <see cref="DatasetOptions.LoadThreads"/> threads.
    /// </summary>
    /// <param name="options">Which dataset and how to preprocess it.</param>
    /// <param name="reader">Volume reader; the file readers when null.</param>
    /// <param name="progress">Told after every subject.</param>
    /// <param name="cancellation">Stops loading.</param>
    /// <param name="preprocessing">When set, it prepares each subject (a dataset plan reorients, normalizes and resamples)
    /// (<see cref="ISubjectPreprocessing"/>, e.g. a dataset plan) instead of the options' normalization, clipping and cropping.</param>
    public static SegmentationDataset Load(DatasetOptions options, IVolumeReader? reader = null,
        IProgress<DatasetLoadProgress>? progress = null, CancellationToken cancellation = default, ISubjectPreprocessing? preprocessing = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        options = options.Clone();
        var clock = Stopwatch.StartNew();
        var definition = DatasetCatalog.Get(options.Name);
        var scan = ScanChecked(definition, options);
        reader ??= VolumeFileReader.Instance;
        var cache = options.CacheDirectory is { Length: > 0 } dir && definition.RequiresPath ? new SubjectDiskCache(dir) : null;

        var hits = 0;
        var done = 0;
        var (subjects, errors) = SubjectLoading.Load<Subject>(scan, options, cancellation, source =>
        {
            var cachePath = cache?.PathFor(scan, source, options, preprocessing?.CacheKey);
            var subject = cachePath is null ? null : cache!.TryRead(cachePath, scan.Mapping.ClassCount);
            if (subject is not null) Interlocked.Increment(ref hits);
            else
            {
                var raw = definition.Load(scan, source, reader, options);
                subject = preprocessing is null
                    ? SubjectPreprocessor.Preprocess(raw, options, scan.Mapping.ClassCount)
                    : preprocessing.Preprocess(raw, scan.Mapping.ClassCount);
                if (cachePath is not null) cache!.Write(cachePath, subject);
            }
            return subject;
        }, source => progress?.Report(new DatasetLoadProgress(Interlocked.Increment(ref done), scan.Subjects.Count, source.Id)));
        if (errors.Count > 0) throw new DatasetException(errors);

        var loaded = subjects.Select(s => s!).ToArray();
        var unlabeled = loaded.Where(s => !s.HasLabel).Select(s => s.Id).ToArray();
        if (unlabeled.Length > 0 && unlabeled.Length < loaded.Length)
            throw new DatasetException(unlabeled.Select(id => $"subject '{id}' has no label file while other subjects of dataset '{definition.Name}' have one").ToArray());
        var split = DatasetSplit.For(options, loaded.Select(s => s.Id));
        return new SegmentationDataset(definition, options, scan, loaded, split, scan.Warnings, clock.Elapsed, hits);
    }

    /// <summary>Scans and applies the checks that need no voxel data (layout errors, no subjects, class count).</summary>
    internal static DatasetScan ScanChecked(IDatasetDefinition definition, DatasetOptions options)
    {
        var scan = definition.Scan(options);
        if (scan.Errors.Count > 0) throw new DatasetException(scan.Errors);
        if (scan.Subjects.Count == 0)
            throw new DatasetException($"dataset '{definition.Name}': no subjects found{(scan.Root is null ? "" : $" in '{scan.Root}'")}");
        if (options.Classes > 0 && options.Classes != scan.Mapping.ClassCount)
            throw new DatasetException($"dataset '{definition.Name}' has {scan.Mapping.ClassCount} classes ({string.Join(", ", scan.ClassNames)}), but {options.Classes} were asked for (Classes/--classes)");
        return scan;
    }
}
