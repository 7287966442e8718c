using System.Globalization;
using System.Text.Json.Serialization;

namespace MedZoo.Engine.Data;

/// <summary>
/// Which dataset to load and how to preprocess and split it. Plain settable properties so the
/// trainer, the command line and the dashboard form can bind them; the defaults load the built-in
/// synthetic brain phantoms, sized so a small network learns them within minutes on a CPU.
/// Names follow MedicalZooPytorch's arguments where it has one (<c>--dataset_name</c>,
/// <c>--split</c>, <c>--normalization</c>).
/// </summary>
public sealed class DatasetOptions
{
    /// <summary>Dataset, by name (<c>medzoo dataset list</c> shows each with its modalities, layout and classes; default <c>synthetic</c>; MedicalZoo's <c>--dataset_name</c>).</summary>
    public string Name { get; set; } = "synthetic";

    /// <summary>Folder holding the dataset as its challenge distributes it; not used by synthetic datasets.</summary>
    public string? Path { get; set; }

    /// <summary>Modalities to use, by name (case-insensitive), in this channel order; null or empty = all of the dataset's.</summary>
    public string[]? Modalities { get; set; }

    /// <summary>Expected number of classes, background included; 0 = as the dataset defines. A mismatch is an error (catches a wrong <c>--classes</c>).</summary>
    public int Classes { get; set; }

    /// <summary>Fraction of subjects used for training, the rest for validation (MedicalZoo's <c>--split</c>, default 0.8). 1 = no validation subjects.</summary>
    public double Split { get; set; } = 0.8;

    /// <summary>k for k-fold cross-validation (≥ 2); 0 = use <see cref="Split"/> instead.</summary>
    public int Folds { get; set; }

    /// <summary>Which fold (0..<see cref="Folds"/>-1) is the validation set when <see cref="Folds"/> ≥ 2.</summary>
    public int Fold { get; set; }

    /// <summary>Seed of the train/validation split and of the synthetic phantoms (default 1777777, MedicalZoo's).</summary>
    public int Seed { get; set; } = 1777777;

    /// <summary>
    /// Intensity normalization per modality (README's Datasets section gives each formula):
    /// none, max_min, full_volume_mean, mean, max, brats, zscore_nonzero. Default zscore_nonzero:
    /// background stays exactly 0, which is also the value patches are padded with, so a padded border
    /// looks like background.
    /// </summary>
    public string Normalization { get; set; } = "zscore_nonzero";

    /// <summary>Lower percentile (0..100) for intensity clipping before normalization; 0 with <see cref="ClipHighPercentile"/> 100 = no clipping.</summary>
    public double ClipLowPercentile { get; set; }

    /// <summary>Upper percentile (0..100) for intensity clipping before normalization (MedicalZoo clips at 0.1 and 99.8).</summary>
    public double ClipHighPercentile { get; set; } = 100;

    /// <summary>Crop each subject to the bounding box of voxels that are non-zero in any modality or labelled (saves memory on BraTS-like data).</summary>
    public bool CropToNonZero { get; set; }

    /// <summary>Number of synthetic subjects to generate (default 10: 8 train, 2 validation with the default split).</summary>
    public int SyntheticSubjects { get; set; } = 10;

    /// <summary>Synthetic subject size (D, H, W) in 1 mm voxels (default 64³).</summary>
    public int[] SyntheticSize { get; set; } = [64, 64, 64];

    /// <summary>Threads that read and preprocess subjects; 0 = one per processor.</summary>
    public int LoadThreads { get; set; }

    /// <summary>
    /// Folder for the optional disk cache of preprocessed subjects (a second run then reads no source
    /// file); null = memory only. Not used for synthetic data, which is generated faster than it is read.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>The parsed <see cref="Normalization"/>.</summary>
    [JsonIgnore] // derived: serializing must not evaluate (and throw for) an invalid name
    public NormalizationKind NormalizationKind => Data.Normalization.Parse(Normalization);

    /// <summary>A copy (arrays copied too).</summary>
    public DatasetOptions Clone()
    {
        var c = (DatasetOptions)MemberwiseClone();
        c.Modalities = Modalities?.ToArray();
        c.SyntheticSize = SyntheticSize?.ToArray()!;
        return c;
    }

    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first bad field and what is allowed.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new InvalidOptionException(nameof(Name), $"a dataset name is required: use one of {string.Join(", ", DatasetCatalog.Names)}");
        var definition = DatasetCatalog.Find(Name)
            ?? throw new InvalidOptionException(nameof(Name), $"unknown dataset '{Name}': use one of {string.Join(", ", DatasetCatalog.Names)}");
        if (definition.RequiresPath && string.IsNullOrWhiteSpace(Path))
            throw new InvalidOptionException(nameof(Path), $"dataset '{definition.Name}' is read from a folder: give its path");
        if (Modalities is not null && Modalities.Any(string.IsNullOrWhiteSpace))
            throw new InvalidOptionException(nameof(Modalities), $"modality names must not be empty");
        if (Modalities is not null && Modalities.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Modalities.Length)
            throw new InvalidOptionException(nameof(Modalities), $"a modality is listed twice ({string.Join(", ", Modalities)})");
        if (Classes is < 0 or > 255)
            throw new InvalidOptionException(nameof(Classes), $"{Classes} must be 0 (as defined by the dataset) or 2..255");
        if (!(Split > 0 && Split <= 1))
            throw new InvalidOptionException(nameof(Split), Invariant($"{Split} must be in (0, 1] (fraction of subjects used for training)"));
        if (Folds is < 0 or 1 or > 100)
            throw new InvalidOptionException(nameof(Folds), $"{Folds} must be 0 (use {nameof(Split)}) or 2..100");
        if (Folds >= 2 && (Fold < 0 || Fold >= Folds))
            throw new InvalidOptionException(nameof(Fold), $"{Fold} must be in 0..{Folds - 1}");
        try { _ = NormalizationKind; }
        catch (ArgumentException e)
        {
            var problem = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new InvalidOptionException(nameof(Normalization), problem, inner: e);
        }
        if (ClipLowPercentile is < 0 or > 100 || ClipHighPercentile is < 0 or > 100 || ClipLowPercentile >= ClipHighPercentile)
            throw new InvalidOptionException(nameof(ClipLowPercentile), Invariant($"{ClipLowPercentile} and {nameof(ClipHighPercentile)} {ClipHighPercentile} must satisfy 0 ≤ low < high ≤ 100"));
        if (SyntheticSubjects is < 1 or > 10000)
            throw new InvalidOptionException(nameof(SyntheticSubjects), $"{SyntheticSubjects} must be 1..10000");
        if (SyntheticSize is null || SyntheticSize.Length != 3 || SyntheticSize.Any(s => s is < 16 or > 512))
            throw new InvalidOptionException(nameof(SyntheticSize), $"({string.Join(", ", SyntheticSize ?? [])}) must be 3 sizes (D, H, W), each 16..512");
        if (LoadThreads is < 0 or > 256)
            throw new InvalidOptionException(nameof(LoadThreads), $"{LoadThreads} must be 0 (one per processor) or 1..256");
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
