namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// The built-in synthetic datasets (<see cref="BrainPhantom"/>): <c>synthetic</c> (brain tissue,
/// the default everywhere) and <c>synthetic_tumour</c>. Subjects are generated from
/// <see cref="DatasetOptions.Seed"/>, <see cref="DatasetOptions.SyntheticSubjects"/> and
/// <see cref="DatasetOptions.SyntheticSize"/>; no folder is needed.
/// </summary>
public sealed class SyntheticDataset(PhantomKind kind) : IDatasetDefinition
{
    /// <summary>The phantom kind this definition generates.</summary>
    public PhantomKind Kind { get; } = kind;

    public string Name => Kind == PhantomKind.Tissue ? "synthetic" : "synthetic_tumour";

    public IReadOnlyList<string> Aliases => Kind == PhantomKind.Tissue ? ["synthetic_tissue"] : ["synthetic_tumor"];

    public string Description => Kind == PhantomKind.Tissue
        ? "generated brain phantoms: T1, T2; background, CSF, grey matter, white matter (no files needed)"
        : "generated brain-tumour phantoms: t1, t1ce, t2, flair; BraTS-like tumour classes (no files needed)";

    public bool RequiresPath => false;

    public DatasetScan Scan(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var all = BrainPhantom.Modalities(Kind);
        var modalities = DatasetLayout.SelectModalities(Name, all, options.Modalities);
        var subjects = Enumerable.Range(0, options.SyntheticSubjects)
            .Select(i => new SubjectSource(
                $"{(Kind == PhantomKind.Tissue ? "phantom" : "tumour-phantom")}-{i:D3}",
                modalities.Select(m => new ModalityFile(m, "")).ToArray(), null, null, i))
            .ToArray();
        return new DatasetScan(Name, null, modalities, LabelMapping.Identity(BrainPhantom.ClassNames(Kind)), subjects, [], []);
    }

    /// <summary>Generates the subject of <paramref name="source"/> with the options' seed and size, keeping the scan's modalities; reads nothing.</summary>
    public RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var raw = BrainPhantom.Generate(Kind, SpatialSize.From(options.SyntheticSize), options.Seed, source.Index);
        var keep = scan.Modalities.Select(m => raw.Modalities.ToList().FindIndex(x => string.Equals(x, m, StringComparison.OrdinalIgnoreCase))).ToArray();
        return raw with
        {
            Modalities = scan.Modalities,
            Images = keep.Select(k => raw.Images[k]).ToArray(),
        };
    }
}
