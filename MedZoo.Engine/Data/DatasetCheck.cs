namespace MedZoo.Engine.Data;

/// <summary>One subject as <see cref="DatasetCheck"/> found it.</summary>
/// <param name="Id">Subject id.</param>
/// <param name="Group">Sub-collection (HGG/LGG) or null.</param>
/// <param name="Shape">Voxels along (x, y, z), the files' own axis order (as nibabel reports it).</param>
/// <param name="Spacing">Voxel size in mm along (x, y, z).</param>
/// <param name="Orientation">Axis codes such as "RAS".</param>
/// <param name="Files">Files read.</param>
/// <param name="LabelCounts">Voxels per mapped class; null when unlabeled.</param>
public sealed record SubjectCheck(string Id, string? Group, int[] Shape, double[] Spacing, string Orientation, IReadOnlyList<string> Files, long[]? LabelCounts);

/// <summary>What <see cref="DatasetCheck.Run"/> found: the dataset's description, every subject that loaded, and every problem.</summary>
/// <param name="Dataset">Catalog name.</param>
/// <param name="Root">Folder the subjects were found in (null for generated data).</param>
/// <param name="Modalities">Modality names.</param>
/// <param name="Classes">Class names, index = mapped label.</param>
/// <param name="Mapping">Raw label values → classes, as text.</param>
/// <param name="SubjectCount">Subjects found by the layout scan.</param>
/// <param name="Subjects">Subjects that loaded.</param>
/// <param name="LabelCounts">Voxels per mapped label over every loaded subject.</param>
/// <param name="Errors">Every problem, naming the subject and file; empty when the dataset is usable.</param>
/// <param name="Warnings">Oddities that do not stop loading.</param>
public sealed record DatasetCheckReport(
    string Dataset, string? Root, IReadOnlyList<string> Modalities, IReadOnlyList<string> Classes, string Mapping,
    int SubjectCount, IReadOnlyList<SubjectCheck> Subjects, IReadOnlyDictionary<int, long> LabelCounts,
    IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    /// <summary>True when no problem was found.</summary>
    public bool Ok => Errors.Count == 0;
}

/// <summary>
/// Loads every subject of a dataset and reports what it holds and everything wrong with it — layout
/// errors, unreadable files, shape or geometry mismatches between modalities and label, label values
/// outside the mapping — without stopping at the first problem (<c>medzoo dataset check</c>).
/// Each file is read once; nothing is kept in memory afterwards.
/// </summary>
public static class DatasetCheck
{
    /// <summary>Checks the dataset <paramref name="options"/> describe; invalid options throw <see cref="ArgumentException"/>.</summary>
    /// <param name="options">Which dataset, where.</param>
    /// <param name="reader">Reads volume files; null = the file readers.</param>
    /// <param name="cancellation">Checked between subjects.</param>
    /// <param name="progress">Called with (subjects checked, subjects found) after each subject, from the checking threads.</param>
    public static DatasetCheckReport Run(DatasetOptions options, IVolumeReader? reader = null, CancellationToken cancellation = default,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        reader ??= VolumeFileReader.Instance;
        var definition = DatasetCatalog.Get(options.Name);
        var errors = new List<string>();
        DatasetScan scan;
        try { scan = definition.Scan(options); }
        catch (DatasetException e)
        {
            return new DatasetCheckReport(definition.Name, options.Path, [], [], "", 0, [], new Dictionary<int, long>(), e.Errors, []);
        }
        errors.AddRange(scan.Errors);
        if (scan.Subjects.Count == 0 && scan.Errors.Count == 0)
            errors.Add($"dataset '{definition.Name}': no subjects found{(scan.Root is null ? "" : $" in '{scan.Root}'")}");
        if (options.Classes > 0 && options.Classes != scan.Mapping.ClassCount)
            errors.Add($"dataset '{definition.Name}' has {scan.Mapping.ClassCount} classes ({string.Join(", ", scan.ClassNames)}), but {options.Classes} were asked for");

        var checkedCount = 0;
        var (results, subjectErrors) = SubjectLoading.Load(scan, options, cancellation, source =>
        {
            var raw = definition.Load(scan, source, reader, options);
            long[]? counts = null;
            if (raw.Label is not null)
            {
                counts = new long[scan.Mapping.ClassCount];
                foreach (var v in raw.Label) counts[v]++;
            }
            return new SubjectCheck(raw.Id, raw.Group, [raw.Size.W, raw.Size.H, raw.Size.D], raw.Geometry.Spacing.ToArray(),
                raw.Geometry.Orientation, raw.SourceFiles, counts);
        }, _ => progress?.Invoke(Interlocked.Increment(ref checkedCount), scan.Subjects.Count));
        errors.AddRange(subjectErrors);

        var loaded = results.OfType<SubjectCheck>().ToArray();
        var labeled = loaded.Count(s => s.LabelCounts is not null);
        if (labeled > 0 && labeled < loaded.Length)
            errors.AddRange(loaded.Where(s => s.LabelCounts is null).Select(s => $"subject '{s.Id}' has no label file while other subjects have one"));
        var totals = Enumerable.Range(0, scan.Mapping.ClassCount)
            .ToDictionary(c => c, c => loaded.Sum(s => s.LabelCounts?[c] ?? 0));
        return new DatasetCheckReport(definition.Name, scan.Root, scan.Modalities, scan.ClassNames, scan.Mapping.ToString(),
            scan.Subjects.Count, loaded, totals, errors, scan.Warnings);
    }
}
