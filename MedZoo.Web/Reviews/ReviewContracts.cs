namespace MedZoo.Web.Reviews;

/// <summary>
/// A review as <c>/api/reviews</c> returns it: the contract clients read, decoupled from how a store
/// keeps reviews. Field names are the API's; change them only together with the clients.
/// </summary>
public sealed record ReviewInfo
{
    public required string Id { get; init; }
    public string RunId { get; init; } = "";
    public string RunName { get; init; } = "";
    /// <summary>"best" or "last".</summary>
    public string CheckpointKind { get; init; } = "last";
    public int CheckpointEpoch { get; init; }
    public ReviewSource Source { get; init; }
    /// <summary>Validation subject id or upload id.</summary>
    public string SubjectId { get; init; } = "";
    public string SubjectName { get; init; } = "";
    /// <summary>Identifies the subject across runs: reviews with equal keys can be compared.</summary>
    public string SubjectKey { get; init; } = "";
    public ReviewStatus Status { get; init; }
    public string? Reason { get; init; }
    public string CreatedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public int WindowsDone { get; init; }
    public int WindowsTotal { get; init; }
    /// <summary>Volume size (X, Y, Z) of the file's voxel axes.</summary>
    public IReadOnlyList<int> Shape { get; init; } = [];
    public IReadOnlyList<double> Spacing { get; init; } = [];
    public string Orientation { get; init; } = "";
    public IReadOnlyList<string> Modalities { get; init; } = [];
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    public bool HasGroundTruth { get; init; }
    public IReadOnlyList<ReviewClassMetrics> Metrics { get; init; } = [];
    public double MeanDice { get; init; } = double.NaN;
    /// <summary>Display range and default window per modality (min, max, low, high).</summary>
    public IReadOnlyList<double[]> DisplayRanges { get; init; } = [];
    public double Seconds { get; init; }

    /// <summary>The contract of a stored review.</summary>
    /// <summary>Predicted with mirroring test-time augmentation (8 passes per window, class probabilities averaged).</summary>
    public bool TestTimeAugmentation { get; init; }
    /// <summary>Per-class probability and entropy maps are stored (download them from /probabilities.nii.gz and /entropy.nii.gz).</summary>
    public bool HasProbabilities { get; init; }

    public static ReviewInfo From(ReviewRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new()
        {
            Id = r.Id, RunId = r.RunId, RunName = r.RunName, CheckpointKind = r.CheckpointKind, CheckpointEpoch = r.CheckpointEpoch,
            Source = r.Source, SubjectId = r.SubjectId, SubjectName = r.SubjectName, SubjectKey = r.SubjectKey, Status = r.Status,
            Reason = r.Reason, CreatedBy = r.CreatedBy, CreatedAt = r.CreatedAt, FinishedAt = r.FinishedAt, WindowsDone = r.WindowsDone,
            WindowsTotal = r.WindowsTotal, Shape = [.. r.Shape], Spacing = [.. r.Spacing], Orientation = r.Orientation,
            Modalities = [.. r.Modalities], ClassNames = [.. r.ClassNames], HasGroundTruth = r.HasGroundTruth, Metrics = [.. r.Metrics],
            MeanDice = r.MeanDice, DisplayRanges = [.. r.DisplayRanges], Seconds = r.Seconds,
            TestTimeAugmentation = r.TestTimeAugmentation, HasProbabilities = r.HasProbabilities,
        };
    }
}

/// <summary>An upload as <c>/api/uploads</c> returns it.</summary>
public sealed record UploadInfo
{
    public required string Id { get; init; }
    public string Name { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    /// <summary>Every stored file.</summary>
    public IReadOnlyList<UploadFile> Files { get; init; } = [];
    /// <summary>Image volumes in modality order.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];
    /// <summary>Ground-truth label volume, or null.</summary>
    public string? Label { get; init; }
    public IReadOnlyList<int> Shape { get; init; } = [];
    public int Channels { get; init; }
    public string Orientation { get; init; } = "";
    public long Bytes { get; init; }

    /// <summary>The contract of a stored upload.</summary>
    public static UploadInfo From(UploadRecord u)
    {
        ArgumentNullException.ThrowIfNull(u);
        return new()
        {
            Id = u.Id, Name = u.Name, CreatedBy = u.CreatedBy, CreatedAt = u.CreatedAt, Files = [.. u.Files], Images = [.. u.Images],
            Label = u.Label, Shape = [.. u.Shape], Channels = u.Channels, Orientation = u.Orientation, Bytes = u.Bytes,
        };
    }
}
