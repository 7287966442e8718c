using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using MedZoo.Engine;
using MedZoo.Engine.Data;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Planning;
using MedZoo.Web.Accounts;

namespace MedZoo.Web.Datasets;

/// <summary>
/// What the Datasets page's plan form holds, as typed: the model the patch is sized for, the size
/// of a generated dataset, and the plan fields a person overrides (empty = the planner decides).
/// <see cref="ToOptions"/> turns it into what the planner takes; a value it cannot use is refused
/// with an <see cref="InvalidOptionException"/> whose path is the property (the form's field).
/// </summary>
public sealed class PlanRequestInput
{
    /// <summary>Model the patch, batch and depth are measured for.</summary>
    public string Model { get; set; } = "UNET3D_CICEK";

    /// <summary>Base filters of the model; empty = the model's default.</summary>
    public string BaseFilters { get; set; } = "";

    /// <summary>Generated datasets: how many subjects to fingerprint.</summary>
    public string SyntheticSubjects { get; set; } = "10";

    /// <summary>Generated datasets: subject size (one value for a cube, or D,H,W).</summary>
    public string SyntheticSize { get; set; } = "64";

    /// <summary>Override: target spacing in mm ("1,1,1.5").</summary>
    public string Spacing { get; set; } = "";

    /// <summary>Override: patch ("64,64,48", or one value for a cube).</summary>
    public string Patch { get; set; } = "";

    /// <summary>Override: batch size.</summary>
    public string Batch { get; set; } = "";

    /// <summary>Override: network depth (poolings).</summary>
    public string Depth { get; set; } = "";

    /// <summary>Override: "RAS" or "native".</summary>
    public string Orientation { get; set; } = "";

    /// <summary>Override: image interpolation, "cubic" or "linear".</summary>
    public string Interpolation { get; set; } = "";

    /// <summary>Override: intensity schemes, "T1=mr, CT=ct".</summary>
    public string Intensity { get; set; } = "";

    /// <summary>The dataset options and plan options this input asks for.</summary>
    /// <exception cref="InvalidOptionException">A field (named by its property) holds a value the planner cannot use.</exception>
    public (DatasetOptions Dataset, PlanOptions Plan) ToOptions(DatasetEntry dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var datasetOptions = dataset.ToOptions();
        if (dataset.Path is null)
        {
            datasetOptions.SyntheticSubjects = Field(nameof(SyntheticSubjects), () => PositiveInt(SyntheticSubjects, "the number of subjects", "10"));
            datasetOptions.SyntheticSize = Field(nameof(SyntheticSize), () => PlanningRequest.ParsePatch(SyntheticSize));
            try { datasetOptions.Validate(); }
            catch (InvalidOptionException e) when (e.Error.Path is nameof(DatasetOptions.SyntheticSubjects) or nameof(DatasetOptions.SyntheticSize))
            {
                throw new InvalidOptionException(e.Error.Path, e.Error.Problem, inner: e);
            }
        }
        if (!ModelZoo.TryGet(Model ?? "", out _))
            throw new InvalidOptionException(nameof(Model), $"'{Model}' is not a model: use one of {string.Join(", ", ModelZoo.Names)}");
        var options = new PlanOptions
        {
            Model = Model!,
            BaseFilters = Blank(BaseFilters) ? null : Field(nameof(BaseFilters), () => PositiveInt(BaseFilters, "the base filters", "8")),
            Device = "auto",
            Overrides = new PlanOverrides
            {
                TargetSpacing = Blank(Spacing) ? null : Field(nameof(Spacing), () => PlanningRequest.ParseSpacing(Spacing)),
                PatchSize = Blank(Patch) ? null : Field(nameof(Patch), () => PlanningRequest.ParsePatch(Patch)),
                BatchSize = Blank(Batch) ? null : Field(nameof(Batch), () => PositiveInt(Batch, "the batch size", "2")),
                ModelDepth = Blank(Depth) ? null : Field(nameof(Depth), () => PositiveInt(Depth, "the depth", "3")),
                Orientation = Blank(Orientation) ? null : Field(nameof(Orientation), () => ParseOrientation(Orientation)),
                ImageInterpolation = Blank(Interpolation) ? null : Field(nameof(Interpolation), () => PlanningRequest.ParseImageInterpolation(Interpolation)),
                Intensity = Blank(Intensity) ? null : Field(nameof(Intensity), () => PlanningRequest.ParseIntensity(
                    Intensity.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))),
            },
        };
        try { options.Validate(); }
        catch (ArgumentException e)
        {
            // The planner's own checks (a patch over 1024, say) go on the field they are about.
            var field = e.ParamName switch
            {
                nameof(PlanOverrides.TargetSpacing) => nameof(Spacing),
                nameof(PlanOverrides.PatchSize) => nameof(Patch),
                nameof(PlanOverrides.BatchSize) => nameof(Batch),
                nameof(PlanOverrides.ModelDepth) => nameof(Depth),
                nameof(PlanOverrides.Orientation) => nameof(Orientation),
                nameof(PlanOverrides.Intensity) => nameof(Intensity),
                nameof(PlanOptions.BaseFilters) => nameof(BaseFilters),
                _ => nameof(Model),
            };
            throw new InvalidOptionException(field, e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal), inner: e);
        }
        if (options.Overrides.Intensity is { } schemes)
        {
            var modalities = DatasetCatalog.Get(datasetOptions.Name).Scan(datasetOptions).Modalities;
            if (schemes.Keys.FirstOrDefault(m => !modalities.Contains(m, StringComparer.OrdinalIgnoreCase)) is { } unknown)
                throw new InvalidOptionException(nameof(Intensity), $"'{unknown}' is not a modality of this dataset: use {string.Join(", ", modalities)}");
        }
        return (datasetOptions, options);
    }

    private static bool Blank(string? text) => string.IsNullOrWhiteSpace(text);

    private static T Field<T>(string field, Func<T> parse)
    {
        try { return parse(); }
        catch (ArgumentException e) when (e is not InvalidOptionException)
        {
            throw new InvalidOptionException(field, e.Message, inner: e);
        }
    }

    private static int PositiveInt(string text, string what, string example) =>
        int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new ArgumentException($"{what} must be a positive whole number, e.g. {example}; got '{text.Trim()}'");

    private static string ParseOrientation(string text) =>
        text.Trim().Equals(DatasetPlan.Canonical, StringComparison.OrdinalIgnoreCase) ? DatasetPlan.Canonical
        : text.Trim().Equals(DatasetPlan.Native, StringComparison.OrdinalIgnoreCase) ? DatasetPlan.Native
        : throw new ArgumentException($"orientation '{text.Trim()}' must be {DatasetPlan.Canonical} (reorient to the closest RAS+) or {DatasetPlan.Native} (keep each file's axes)");
}

/// <summary>A dataset's stored plan with the fingerprint it was made from, as the Datasets page shows it.</summary>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="Fingerprint">The fingerprint.</param>
/// <param name="Plan">The plan.</param>
/// <param name="InDatasetFolder">True when the plan file was written in the dataset's folder (where <c>medzoo dataset plan</c> writes it).</param>
/// <param name="PlannedBy">Who planned it.</param>
/// <param name="PlannedAt">When (UTC).</param>
public sealed record StoredDatasetPlan(string Dataset, DatasetFingerprint Fingerprint, DatasetPlan Plan, bool InDatasetFolder, string PlannedBy, DateTime PlannedAt)
{
    /// <summary>Reads a stored plan document.</summary>
    public static StoredDatasetPlan From(DatasetPlanRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var fingerprint = JsonSerializer.Deserialize<DatasetFingerprint>(record.FingerprintJson, DatasetPlan.JsonOptions)
            ?? throw new InvalidDataException($"the stored fingerprint of '{record.Id}' is empty");
        return new StoredDatasetPlan(record.Id, fingerprint, DatasetPlan.FromJson(record.PlanJson), record.SavedTo is not null, record.PlannedBy, record.PlannedAt);
    }
}

/// <summary>Planning datasets from the Datasets page (issue 15): fingerprint, plan, store, show.</summary>
public static class DatasetPlanning
{
    /// <summary>
    /// Fingerprints and plans <paramref name="dataset"/> on the server's device ("auto") with the
    /// input's model and overrides, writes the plan file where <c>medzoo dataset plan</c> does
    /// (<see cref="PlanningRequest.DefaultFileName"/> in the dataset's folder) and stores plan and
    /// fingerprint with the dataset. Slow (reads every subject, measures the model): call it off
    /// the circuit's thread. Operators only.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Not an operator.</exception>
    /// <exception cref="InvalidOptionException">A field of <paramref name="input"/> is invalid (its path is the field).</exception>
    /// <exception cref="DatasetException">The dataset cannot be read.</exception>
    public static StoredDatasetPlan Plan(this DatasetService service, ClaimsPrincipal user, DatasetEntry dataset, PlanRequestInput input, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(input);
        user.DemandOperator("plan datasets");
        var (datasetOptions, planOptions) = input.ToOptions(dataset);
        if (datasetOptions.Path is not null) datasetOptions.Path = service.Roots.ResolveReadable(datasetOptions.Path, "Dataset.Path");
        var fingerprint = FingerprintBuilder.Build(datasetOptions, cancellation: cancellation);
        cancellation.ThrowIfCancellationRequested();
        var plan = Planner.Plan(fingerprint, planOptions);
        var path = PlanningRequest.DefaultPath(datasetOptions);
        if (path is not null)
        {
            try { plan.Save(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                path = null; // a read-only dataset folder: the plan is kept in the store only
            }
        }
        var record = new DatasetPlanRecord
        {
            Id = dataset.Name, PlanJson = plan.ToJson(), FingerprintJson = JsonSerializer.Serialize(fingerprint, DatasetPlan.JsonOptions),
            SavedTo = path, PlannedBy = user.Identity?.Name ?? "", PlannedAt = service.Clock.GetUtcNow().UtcDateTime,
        };
        service.Store.SavePlan(record);
        return StoredDatasetPlan.From(record);
    }

    /// <summary>The plan stored for <paramref name="dataset"/>, or null when it was never planned.</summary>
    public static StoredDatasetPlan? StoredPlan(this DatasetService service, string dataset)
    {
        ArgumentNullException.ThrowIfNull(service);
        return service.Store.FindPlan(dataset) is { } record ? StoredDatasetPlan.From(record) : null;
    }
}
