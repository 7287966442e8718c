namespace MedZoo.Web.Reviews;

/// <summary>Where a review is in its life.</summary>
public enum ReviewStatus
{
    /// <summary>Waiting for the inference worker.</summary>
    Queued,
    /// <summary>Sliding-window inference in progress.</summary>
    Running,
    /// <summary>Prediction, metrics and display files are ready.</summary>
    Completed,
    /// <summary>Inference failed; see <see cref="ReviewRecord.Reason"/>.</summary>
    Failed,
    /// <summary>The server stopped while it ran (a crash, perhaps out of memory); not run again until a user asks (<see cref="ReviewService.Rerun"/>).</summary>
    Interrupted,
}

/// <summary>Where a review's input comes from.</summary>
public enum ReviewSource
{
    /// <summary>A validation subject of the run's dataset.</summary>
    Validation,
    /// <summary>Volumes an operator uploaded.</summary>
    Upload,
}

/// <summary>One class row of a review's metrics (engine metrics over the whole volume; NaN where undefined).</summary>
public sealed class ReviewClassMetrics
{
    public int Class { get; set; }
    public string Name { get; set; } = "";
    /// <summary>Engine's <see cref="MedZoo.Engine.Metrics.ClassPresence"/> as text; empty without ground truth.</summary>
    public string Presence { get; set; } = "";
    public double Dice { get; set; } = double.NaN;
    public double Iou { get; set; } = double.NaN;
    public double Hd95 { get; set; } = double.NaN;
    public long PredictedVoxels { get; set; }
    public long GroundTruthVoxels { get; set; }
    public double PredictedVolumeMm3 { get; set; }
    public double GroundTruthVolumeMm3 { get; set; } = double.NaN;
    public long FalsePositiveVoxels { get; set; }
    public long FalseNegativeVoxels { get; set; }
}

/// <summary>
/// A whole-volume prediction of one checkpoint on one subject, kept with its metrics. Its files
/// live in <c>reviews/&lt;id&gt;/</c> under the data folder (see <see cref="ReviewStorage"/>).
/// </summary>
public sealed class ReviewRecord
{
    public string Id { get; set; } = "";
    public string RunId { get; set; } = "";
    public string RunName { get; set; } = "";
    /// <summary>"best" or "last".</summary>
    public string CheckpointKind { get; set; } = "last";
    public int CheckpointEpoch { get; set; }
    public ReviewSource Source { get; set; }
    /// <summary>Validation subject id or upload id.</summary>
    public string SubjectId { get; set; } = "";
    /// <summary>What users read: "phantom-004 (synthetic)" or the upload's name.</summary>
    public string SubjectName { get; set; } = "";
    /// <summary>Identifies the subject across runs (dataset configuration + subject id, or the upload id): reviews with equal keys can be compared.</summary>
    public string SubjectKey { get; set; } = "";
    public ReviewStatus Status { get; set; }
    public string? Reason { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public int WindowsDone { get; set; }
    public int WindowsTotal { get; set; }
    /// <summary>Volume size (X, Y, Z) of the file's voxel axes.</summary>
    public int[] Shape { get; set; } = [];
    public double[] Spacing { get; set; } = [];
    /// <summary>Axis codes of the input's affine ("RAS", "LPS", ...).</summary>
    public string Orientation { get; set; } = "";
    public List<string> Modalities { get; set; } = [];
    public List<string> ClassNames { get; set; } = [];
    public bool HasGroundTruth { get; set; }
    /// <summary>Predicted with mirroring test-time augmentation (8 passes per window, class probabilities averaged).</summary>
    public bool TestTimeAugmentation { get; set; }
    /// <summary>
    /// The class probabilities and their entropy were stored (<c>probability-&lt;c&gt;.u8</c>,
    /// <c>entropy.u8</c>, see <see cref="ReviewStorage"/>); false for reviews made before MedZoo kept them.
    /// </summary>
    public bool HasProbabilities { get; set; }
    public List<ReviewClassMetrics> Metrics { get; set; } = [];
    public double MeanDice { get; set; } = double.NaN;
    /// <summary>Intensity range each modality's display levels span, and its default window (min, max, low, high per modality).</summary>
    public List<double[]> DisplayRanges { get; set; } = [];
    public double Seconds { get; set; }
    /// <summary>Times a process began running it since it was queued by a user (a cluster worker that vanished mid-review counts one).</summary>
    public int Attempts { get; set; }
    /// <summary>The cluster worker that runs or ran it; null in embedded mode.</summary>
    public string? Worker { get; set; }
}

/// <summary>One file of an upload: its stored name and what it holds.</summary>
public sealed class UploadFile
{
    public string Name { get; set; } = "";
    /// <summary>"image" (a modality, in order) or "label".</summary>
    public string Role { get; set; } = "image";
    public long Bytes { get; set; }
}

/// <summary>Volumes an operator uploaded for review, stored in <c>uploads/&lt;id&gt;/</c> under the data folder.</summary>
public sealed class UploadRecord
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    /// <summary>Every stored file (pairs' .img and MetaImage data files included).</summary>
    public List<UploadFile> Files { get; set; } = [];
    /// <summary>Image volumes to read, in modality order (names of header files within the upload).</summary>
    public List<string> Images { get; set; } = [];
    /// <summary>Ground-truth label volume, or null.</summary>
    public string? Label { get; set; }
    public int[] Shape { get; set; } = [];
    public int Channels { get; set; }
    public string Orientation { get; set; } = "";
    public long Bytes { get; set; }
}
