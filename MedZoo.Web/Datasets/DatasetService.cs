using System.Security.Claims;
using MedZoo.Engine.Data;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;

namespace MedZoo.Web.Datasets;

/// <summary>A dataset the dashboard offers: a built-in generated one or one registered by path.</summary>
/// <param name="Name">Name shown and used to pick it.</param>
/// <param name="Kind">Catalog definition (layout) name.</param>
/// <param name="Path">Folder, or null for generated data.</param>
/// <param name="Description">What it is.</param>
/// <param name="BuiltIn">True for the catalog's generated datasets.</param>
/// <param name="Registered">The stored registration, for datasets added by path.</param>
public sealed record DatasetEntry(string Name, string Kind, string? Path, string Description, bool BuiltIn, DatasetDocument? Registered)
{
    /// <summary>Options that load this dataset with the pipeline's defaults.</summary>
    public DatasetOptions ToOptions() => new() { Name = Kind, Path = Path };
}

/// <summary>
/// The datasets page's logic: lists the built-in generated datasets and registered ones, checks
/// a dataset by path with the pipeline's <see cref="DatasetCheck"/> (the <c>dataset check</c>
/// verb's engine), registers it when usable, and loads one subject for preview.
/// </summary>
public sealed class DatasetService(MedZooDatabase database, TimeProvider clock)
{
    /// <summary>Built-in generated datasets, then registered ones by name.</summary>
    public IReadOnlyList<DatasetEntry> List()
    {
        var builtIn = DatasetCatalog.All.Where(d => !d.RequiresPath)
            .Select(d => new DatasetEntry(d.Name, d.Name, null, d.Description, true, null));
        var registered = database.Datasets.FindAll().OrderBy(d => d.Id)
            .Select(d => new DatasetEntry(d.Id, d.Kind, d.Path, DatasetCatalog.Find(d.Kind)?.Description ?? d.Kind, false, d));
        return [.. builtIn, .. registered];
    }

    /// <summary>The dataset called <paramref name="name"/>, or null.</summary>
    public DatasetEntry? Find(string name) => List().FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Layouts that read a folder (what can be added by path).</summary>
    public static IReadOnlyList<IDatasetDefinition> Layouts => DatasetCatalog.All.Where(d => d.RequiresPath).ToList();

    /// <summary>Runs the dataset check (loads every subject; slow for big datasets: call it off the circuit's thread).</summary>
    public static DatasetCheckReport Check(string kind, string path, CancellationToken cancellation) =>
        DatasetCheck.Run(new DatasetOptions { Name = kind, Path = path }, cancellation: cancellation);

    /// <summary>Registers a dataset whose check found no problem; throws naming what is wrong otherwise.</summary>
    public DatasetDocument Register(ClaimsPrincipal user, string name, string kind, string path, DatasetCheckReport report)
    {
        user.DemandOperator("add datasets");
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("a dataset name is required", nameof(name));
        name = name.Trim();
        if (Find(name) is not null) throw new ArgumentException($"a dataset called '{name}' already exists", nameof(name));
        if (!report.Ok) throw new InvalidOperationException($"the check found {report.Errors.Count} problem(s); fix them before adding the dataset");
        var doc = new DatasetDocument
        {
            Id = name, Kind = kind, Path = Path.GetFullPath(path), AddedBy = user.Identity?.Name ?? "", AddedAt = clock.GetUtcNow().UtcDateTime,
            Report = Summarize(report), Valid = true,
        };
        database.Datasets.Insert(doc);
        return doc;
    }

    /// <summary>Removes a registration (the files stay where they are).</summary>
    public bool Remove(ClaimsPrincipal user, string name)
    {
        user.DemandOperator("remove datasets");
        return database.Datasets.Delete(name);
    }

    /// <summary>The subjects of a dataset, without reading voxels.</summary>
    public static DatasetScan Scan(DatasetEntry dataset) => DatasetCatalog.Get(dataset.Kind).Scan(dataset.ToOptions());

    /// <summary>Reads one subject (raw intensities and mapped labels) for preview.</summary>
    public static RawSubject Load(DatasetEntry dataset, DatasetScan scan, string subjectId)
    {
        var source = scan.Subjects.FirstOrDefault(s => s.Id == subjectId)
            ?? throw new ArgumentException($"dataset '{dataset.Name}' has no subject '{subjectId}'", nameof(subjectId));
        return DatasetCatalog.Get(dataset.Kind).Load(scan, source, VolumeFileReader.Instance, dataset.ToOptions());
    }

    /// <summary>A one-line summary of a check, kept with the registration.</summary>
    public static string Summarize(DatasetCheckReport r) =>
        $"{r.SubjectCount} subject(s), {r.Subjects.Count} loaded; modalities {string.Join(", ", r.Modalities)}; classes {string.Join(", ", r.Classes)}" +
        (r.Ok ? "; no problems" : $"; {r.Errors.Count} problem(s)");
}
