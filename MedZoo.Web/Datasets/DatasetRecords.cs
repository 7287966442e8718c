namespace MedZoo.Web.Datasets;

/// <summary>A dataset registered by path (the built-in synthetic ones are not stored).</summary>
public sealed class DatasetRecord
{
    /// <summary>Unique name.</summary>
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Path { get; set; } = "";
    public string AddedBy { get; set; } = "";
    public DateTime AddedAt { get; set; }
    /// <summary>The <c>dataset check</c> report when it was added.</summary>
    public string Report { get; set; } = "";
    public bool Valid { get; set; }
}

/// <summary>
/// The plan a dataset was last planned with on the Datasets page, with the fingerprint it came from
/// (one per dataset name, built-in ones included; a folder dataset's plan file is written too).
/// </summary>
public sealed class DatasetPlanRecord
{
    /// <summary>The dataset's name.</summary>
    public string Id { get; set; } = "";
    /// <summary>The plan as <c>medzoo dataset plan</c> writes it.</summary>
    public string PlanJson { get; set; } = "";
    /// <summary>The dataset fingerprint the plan was made from.</summary>
    public string FingerprintJson { get; set; } = "";
    /// <summary>The plan file written in the dataset's folder; null when the plan is kept only here.</summary>
    public string? SavedTo { get; set; }
    public string PlannedBy { get; set; } = "";
    public DateTime PlannedAt { get; set; }
}
