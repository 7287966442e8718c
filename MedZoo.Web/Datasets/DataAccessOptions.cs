namespace MedZoo.Web.Datasets;

/// <summary>
/// Which server folders the dashboard may read data from and how much memory loaded data may take
/// (configuration section <c>MedZoo:Data</c>).
/// </summary>
public sealed class DataAccessOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Data";

    /// <summary>
    /// Extra folders datasets may be read from, by name (<c>MedZoo:Data:Roots:mri = /mnt/mri</c>,
    /// or <c>MedZoo__Data__Roots__mri</c> in the environment). The data folder is always a root
    /// (named <see cref="DataRoots.DataFolderRootName"/>); admins add more on the Datasets page.
    /// Names are what users see in messages; paths are shown only to operators.
    /// </summary>
    public Dictionary<string, string> Roots { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Most bytes a training dataset or a review's input may take in memory once loaded
    /// (<c>MedZoo:Data:MemoryBudgetBytes</c>); larger ones are refused before anything is read.
    /// 0 (the default) = half of the memory available to the process (the machine's, or the
    /// container's limit).
    /// </summary>
    public long MemoryBudgetBytes { get; set; }

    /// <summary>The budget in bytes: <see cref="MemoryBudgetBytes"/>, or half the available memory when it is 0.</summary>
    public long EffectiveMemoryBudget() =>
        MemoryBudgetBytes > 0 ? MemoryBudgetBytes : Math.Max(1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (MemoryBudgetBytes < 0)
            throw new ArgumentException($"{Section}:{nameof(MemoryBudgetBytes)} must be 0 (half of the available memory) or positive, got {MemoryBudgetBytes}");
        foreach (var (name, path) in Roots)
        {
            if (!DataRoots.IsValidName(name))
                throw new ArgumentException($"{Section}:{nameof(Roots)}:{name}: a root name uses letters, digits, '-' and '_' (at most 40)");
            if (string.Equals(name, DataRoots.DataFolderRootName, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{Section}:{nameof(Roots)}:{name}: '{DataRoots.DataFolderRootName}' is the data folder's name; choose another");
            if (string.IsNullOrWhiteSpace(path) || !Path.IsPathFullyQualified(path))
                throw new ArgumentException($"{Section}:{nameof(Roots)}:{name} must be an absolute folder path");
        }
    }
}
