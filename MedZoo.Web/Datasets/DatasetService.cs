using System.Security.Claims;
using MedZoo.Engine;
using MedZoo.Engine.Data;
using MedZoo.Engine.Training;
using MedZoo.Web.Accounts;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Datasets;

/// <summary>A dataset the dashboard offers: a built-in generated one or one registered by path.</summary>
/// <param name="Name">Name shown and used to pick it.</param>
/// <param name="Kind">Catalog definition (layout) name.</param>
/// <param name="Path">Folder, or null for generated data.</param>
/// <param name="Description">What it is.</param>
/// <param name="BuiltIn">True for the catalog's generated datasets.</param>
/// <param name="Registered">The stored registration, for datasets added by path.</param>
public sealed record DatasetEntry(string Name, string Kind, string? Path, string Description, bool BuiltIn, DatasetRecord? Registered)
{
    /// <summary>Options that load this dataset with the pipeline's defaults.</summary>
    public DatasetOptions ToOptions() => new() { Name = Kind, Path = Path };
}

/// <summary>A dataset check and what it checked: <see cref="DatasetService.Register"/> adds exactly this folder with this layout.</summary>
/// <param name="Kind">Layout name.</param>
/// <param name="Path">The folder checked, symbolic links resolved (under an allowed root).</param>
/// <param name="Report">What the check found.</param>
public sealed record CheckedDataset(string Kind, string Path, DatasetCheckReport Report);

/// <summary>
/// The datasets page's logic: lists the built-in generated datasets and registered ones, checks
/// a dataset by path with the pipeline's <see cref="DatasetCheck"/> (the <c>dataset check</c>
/// verb's engine), registers it when usable, and loads one subject for preview. Every folder
/// must lie under a data root (<see cref="Roots"/>); a run's dataset and the folders it writes
/// are checked here too (<see cref="CheckRun"/>), with the memory its dataset will take.
/// </summary>
public sealed class DatasetService(IDatasetStore store, IOptions<DataOptions> data, TimeProvider clock, IOptions<DataAccessOptions>? access = null)
{
    private readonly IOptions<DataAccessOptions> _access = access ?? Options.Create(new DataAccessOptions());

    /// <summary>Where registrations and plans are stored.</summary>
    internal IDatasetStore Store => store;

    /// <summary>The clock registrations and plans are dated by.</summary>
    internal TimeProvider Clock => clock;

    /// <summary>The folders datasets may be read from.</summary>
    public DataRoots Roots { get; } = new(store, data, access ?? Options.Create(new DataAccessOptions()), clock);

    /// <summary>Most bytes a run's dataset may take in memory (<see cref="DataAccessOptions.EffectiveMemoryBudget"/>).</summary>
    public long MemoryBudget => _access.Value.EffectiveMemoryBudget();

    /// <summary>Built-in generated datasets, then registered ones by name.</summary>
    public IReadOnlyList<DatasetEntry> List()
    {
        var builtIn = DatasetCatalog.All.Where(d => !d.RequiresPath)
            .Select(d => new DatasetEntry(d.Name, d.Name, null, d.Description, true, null));
        var registered = store.List()
            .Select(d => new DatasetEntry(d.Id, d.Kind, d.Path, DatasetCatalog.Find(d.Kind)?.Description ?? d.Kind, false, d));
        return [.. builtIn, .. registered];
    }

    /// <summary>The dataset called <paramref name="name"/>, or null.</summary>
    public DatasetEntry? Find(string name) => List().FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Layouts that read a folder (what can be added by path).</summary>
    public static IReadOnlyList<IDatasetDefinition> Layouts => DatasetCatalog.All.Where(d => d.RequiresPath).ToList();

    /// <summary>
    /// Runs the dataset check on a folder under a data root (loads every subject; slow for big
    /// datasets: call it off the circuit's thread). Operators only.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Not an operator.</exception>
    /// <exception cref="ArgumentException">Unknown layout, or the folder is outside every root (the message names the roots).</exception>
    public CheckedDataset Check(ClaimsPrincipal user, string kind, string path, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("check datasets");
        var real = Roots.ResolveReadable(path, "Folder");
        var report = DatasetCheck.Run(new DatasetOptions { Name = kind, Path = real }, cancellation: cancellation);
        return new CheckedDataset(kind, real, report);
    }

    /// <summary>
    /// Registers the folder a check found no problem in (the folder and layout that were checked,
    /// whatever the page shows now); throws naming what is wrong otherwise.
    /// </summary>
    public DatasetRecord Register(ClaimsPrincipal user, string name, CheckedDataset check)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(check);
        user.DemandOperator("add datasets");
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("a dataset name is required", nameof(name));
        name = name.Trim();
        if (Find(name) is not null) throw new ArgumentException($"a dataset called '{name}' already exists", nameof(name));
        if (!check.Report.Ok) throw new InvalidOperationException($"the check found {check.Report.Errors.Count} problem(s); fix them before adding the dataset");
        // A root may have been removed since the check.
        var path = Roots.ResolveReadable(check.Path, "Folder");
        var doc = new DatasetRecord
        {
            Id = name, Kind = check.Kind, Path = path, AddedBy = user.Identity?.Name ?? "", AddedAt = clock.GetUtcNow().UtcDateTime,
            Report = Summarize(check.Report), Valid = true,
        };
        if (!store.Insert(doc)) throw new ArgumentException($"a dataset called '{name}' already exists", nameof(name));
        return doc;
    }

    /// <summary>Removes a registration (the files stay where they are).</summary>
    public bool Remove(ClaimsPrincipal user, string name)
    {
        user.DemandOperator("remove datasets");
        return store.Delete(name);
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

    /// <summary>
    /// Checks what a run will read, write and hold, before it is queued and again when it starts:
    /// the dataset folder lies under a data root, the folders it writes (<c>LogDirectory</c>,
    /// <c>Dataset.CacheDirectory</c>) under the data folder, and the loaded dataset fits the memory
    /// budget (estimated from headers, before any voxel is read). Rewrites those paths to their
    /// resolved form, so that the run uses exactly the folders that were checked.
    /// </summary>
    /// <exception cref="InvalidOptionException">The field it is about ("Dataset.Path") and the problem, which names no server path.</exception>
    public void CheckRun(TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var d = options.Dataset;
        var definition = DatasetCatalog.Find(d.Name);
        if (definition?.RequiresPath == true)
        {
            // The stored configuration keeps the text: reviews read the run's dataset from it later,
            // so a path relative to the data folder would be read relative to elsewhere there.
            if (!string.IsNullOrWhiteSpace(d.Path) && !Path.IsPathFullyQualified(d.Path.Trim()))
                throw new InvalidOptionException("Dataset.Path", "give the folder as an absolute path, or pick a dataset added on the Datasets page");
            d.Path = Roots.ResolveReadable(d.Path, "Dataset.Path");
        }
        if (!string.IsNullOrWhiteSpace(d.CacheDirectory)) d.CacheDirectory = Roots.ResolveWritable(d.CacheDirectory, "Dataset.CacheDirectory");
        if (!string.IsNullOrWhiteSpace(options.LogDirectory)) options.LogDirectory = Roots.ResolveWritable(options.LogDirectory, nameof(TrainerOptions.LogDirectory));
        if (options.PlanSource is { } planSource && !string.IsNullOrWhiteSpace(planSource) && !string.Equals(planSource.Trim(), "auto", StringComparison.OrdinalIgnoreCase))
            options.PlanSource = ResolvePlanFile(planSource.Trim());
        if (definition is null) return; // the options' own validation names the unknown dataset
        var field = definition.RequiresPath ? "Dataset.Path" : "Dataset.SyntheticSubjects";
        DatasetMemoryEstimate estimate;
        try
        {
            estimate = DatasetMemory.Estimate(d);
        }
        catch (DatasetException e)
        {
            throw new InvalidOptionException("Dataset.Path", $"the dataset cannot be read: {e.Message}", inner: e);
        }
        var budget = MemoryBudget;
        if (estimate.PeakBytes > budget)
            throw new InvalidOptionException(field,
                $"loading this dataset would take about {ByteSize.Format(estimate.PeakBytes)} of memory " +
                $"({estimate.Subjects} subject(s), {estimate.Channels} modalities, largest {ByteSize.Format(estimate.LargestSubjectBytes)}), " +
                $"more than the server's budget of {ByteSize.Format(budget)} ({DataAccessOptions.Section}:{nameof(DataAccessOptions.MemoryBudgetBytes)}); " +
                "use fewer or smaller subjects, or ask an admin to raise the budget");
    }

    /// <summary>A one-line summary of a check, kept with the registration.</summary>
    public static string Summarize(DatasetCheckReport r) =>
        $"{r.SubjectCount} subject(s), {r.Subjects.Count} loaded; modalities {string.Join(", ", r.Modalities)}; classes {string.Join(", ", r.Classes)}" +
        (r.Ok ? "; no problems" : $"; {r.Errors.Count} problem(s)");

    // A plan file is read by the server like a dataset: it must lie (after links) under a data root, so a run
    // cannot make the server read any file it can reach.
    private string ResolvePlanFile(string path)
    {
        const string field = nameof(TrainerOptions.PlanSource);
        if (!Path.IsPathFullyQualified(path))
            throw new InvalidOptionException(field, "give the plan file as an absolute path (as the Datasets page saves it), or 'auto' to plan the dataset when the run starts");
        var full = Path.GetFullPath(path);
        var target = File.Exists(full) ? new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
        var folder = Roots.ResolveReadable(Path.GetDirectoryName(target), field);
        return Path.Combine(folder, Path.GetFileName(target));
    }
}
