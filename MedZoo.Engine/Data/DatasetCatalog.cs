using MedZoo.Engine.Data.Datasets;

namespace MedZoo.Engine.Data;

/// <summary>
/// Every dataset the pipeline knows, by name: the synthetic phantoms, the challenge layouts
/// MedicalZooPytorch supports (iSeg 2017/2019, MRBrainS 2018 with 9 or 4 classes, BraTS
/// 2018–2020) and the two layouts for your own data (Medical Segmentation Decathlon, nnU-Net raw).
/// Names are case-insensitive; an unknown name is an error listing the valid ones.
/// </summary>
public static class DatasetCatalog
{
    /// <summary>All definitions, in listing order (the default first).</summary>
    public static IReadOnlyList<IDatasetDefinition> All { get; } =
    [
        new SyntheticDataset(PhantomKind.Tissue),
        new SyntheticDataset(PhantomKind.Tumour),
        new ISegDataset(2017),
        new ISegDataset(2019),
        new MRBrainS2018Dataset(fourClasses: false),
        new MRBrainS2018Dataset(fourClasses: true),
        new BratsDataset(2018),
        new BratsDataset(2019),
        new BratsDataset(2020),
        new DecathlonDataset(),
        new NnUNetDataset(),
    ];

    /// <summary>Canonical names, in listing order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToArray();

    /// <summary>The default dataset (the tissue phantoms).</summary>
    public static IDatasetDefinition Default => All[0];

    /// <summary>The definition called <paramref name="name"/> (or one of its aliases), or null.</summary>
    public static IDatasetDefinition? Find(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var n = name.Trim();
        return All.FirstOrDefault(d => string.Equals(d.Name, n, StringComparison.OrdinalIgnoreCase))
            ?? All.FirstOrDefault(d => d.Aliases.Any(a => string.Equals(a, n, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>The definition called <paramref name="name"/>; throws <see cref="ArgumentException"/> listing the valid names.</summary>
    public static IDatasetDefinition Get(string? name) =>
        Find(name) ?? throw new ArgumentException($"unknown dataset '{name}': use one of {string.Join(", ", Names)}", nameof(name));
}
