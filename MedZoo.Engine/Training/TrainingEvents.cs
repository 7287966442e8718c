namespace MedZoo.Engine.Training;

/// <summary>
/// Receives a run's progress. Called synchronously on the training thread, so implementations must
/// return at once: hand the event to a bounded channel or a non-blocking fan-out and drop frames
/// for slow consumers rather than stall training (STYLE.md, threads). Events are plain records
/// (numbers, strings, small byte arrays), never tensors.
/// </summary>
public interface ITrainingObserver
{
    /// <summary>Handles one event; must not block or throw (exceptions are logged and ignored by the trainer).</summary>
    void OnEvent(TrainingEvent trainingEvent);
}

/// <summary>Base of every event a run publishes.</summary>
public abstract record TrainingEvent
{
    /// <summary>The run this event belongs to.</summary>
    public required string RunId { get; init; }

    /// <summary>When it happened (UTC).</summary>
    public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>The run began (or resumed from a checkpoint at <see cref="StartEpoch"/>).</summary>
public sealed record RunStarted : TrainingEvent
{
    public required string Model { get; init; }
    public required string Dataset { get; init; }
    public required string Device { get; init; }
    public string? DeviceNotice { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }
    public required IReadOnlyList<string> Modalities { get; init; }
    public required int Epochs { get; init; }
    public required int StepsPerEpoch { get; init; }
    public required long Parameters { get; init; }
    /// <summary>First epoch this session trains (1-based); &gt; 1 when resumed.</summary>
    public int StartEpoch { get; init; } = 1;
    public int TrainSubjects { get; init; }
    public int ValidationSubjects { get; init; }
}

/// <summary>One optimizer step finished.</summary>
public sealed record StepCompleted : TrainingEvent
{
    /// <summary>1-based epoch.</summary>
    public required int Epoch { get; init; }
    /// <summary>1-based step within the epoch.</summary>
    public required int Step { get; init; }
    public required int StepsPerEpoch { get; init; }
    /// <summary>Steps since the run began, across resumes.</summary>
    public required long GlobalStep { get; init; }
    public required double Loss { get; init; }
    public required double LearningRate { get; init; }
    /// <summary>Soft Dice per class of this batch (index = class), when computed.</summary>
    public IReadOnlyList<double>? Dice { get; init; }
    /// <summary>Wall time of the step, data wait included.</summary>
    public double Seconds { get; init; }
    /// <summary>Part of <see cref="Seconds"/> spent waiting for the batch.</summary>
    public double DataWaitSeconds { get; init; }
}

/// <summary>Per-class validation result on whole volumes (hard labels, sliding window).</summary>
/// <param name="Name">Class name.</param>
/// <param name="Dice">Mean Dice over validation subjects where the class is scored (see the metrics' empty-class rule); NaN if never scored.</param>
/// <param name="Iou">Mean intersection over union, same rule.</param>
/// <param name="Precision">Mean precision (positive predictive value).</param>
/// <param name="Recall">Mean recall (sensitivity).</param>
/// <param name="Hd95">Mean 95th-percentile Hausdorff distance in mm; NaN where undefined.</param>
/// <param name="Assd">Mean average symmetric surface distance in mm; NaN where undefined.</param>
public sealed record ClassMetrics(string Name, double Dice, double Iou, double Precision, double Recall, double Hd95, double Assd);

/// <summary>
/// An epoch finished (training and, when due, validation). Published after the epoch's checkpoints are saved, and its
/// <see cref="TrainingEvent.Time"/> is that moment.
/// </summary>
public sealed record EpochCompleted : TrainingEvent
{
    public required int Epoch { get; init; }
    public required int Epochs { get; init; }
    public required double TrainLoss { get; init; }
    /// <summary>Mean soft Dice per class over the epoch's batches (index = class).</summary>
    public IReadOnlyList<double>? TrainDice { get; init; }
    /// <summary>Validation loss on whole volumes; null when validation did not run this epoch.</summary>
    public double? ValidationLoss { get; init; }
    /// <summary>Per-class validation metrics, background first; null when validation did not run.</summary>
    public IReadOnlyList<ClassMetrics>? Validation { get; init; }
    /// <summary>Mean Dice over foreground classes; null when validation did not run.</summary>
    public double? MeanForegroundDice { get; init; }
    public required double LearningRate { get; init; }
    public required double Seconds { get; init; }
    /// <summary>Fraction of the epoch's training time spent waiting for data.</summary>
    public double DataWaitFraction { get; init; }
    /// <summary>True if this epoch set a new best validation mean Dice.</summary>
    public bool IsBest { get; init; }
}

/// <summary>Anatomical plane of a slice preview.</summary>
public enum SlicePlane
{
    /// <summary>Constant k (D axis): the slice shows (H, W).</summary>
    Axial,
    /// <summary>Constant j (H axis): the slice shows (D, W).</summary>
    Coronal,
    /// <summary>Constant i (W axis): the slice shows (D, H).</summary>
    Sagittal,
}

/// <summary>
/// One slice of a validation subject: image, prediction and ground truth at the same position, as
/// small row-major arrays (<see cref="Height"/> rows of <see cref="Width"/>).
/// </summary>
public sealed record SlicePreview : TrainingEvent
{
    public required int Epoch { get; init; }
    public required string SubjectId { get; init; }
    public required SlicePlane Plane { get; init; }
    public required int SliceIndex { get; init; }
    public required int SliceCount { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>First modality windowed to 0..255.</summary>
    public required byte[] Image { get; init; }
    /// <summary>Predicted class per pixel.</summary>
    public required byte[] Prediction { get; init; }
    /// <summary>Ground-truth class per pixel; null when unlabeled.</summary>
    public byte[]? GroundTruth { get; init; }
    /// <summary>Pixel size in mm along width and height (for a correct aspect ratio).</summary>
    public double PixelWidthMm { get; init; } = 1;
    public double PixelHeightMm { get; init; } = 1;
}

/// <summary>A checkpoint was written.</summary>
public sealed record CheckpointSaved : TrainingEvent
{
    public required int Epoch { get; init; }
    /// <summary>"last" or "best".</summary>
    public required string Kind { get; init; }
    /// <summary>Where the store put it (a path or a store id).</summary>
    public required string Location { get; init; }
    public long Bytes { get; init; }
    public double? MeanForegroundDice { get; init; }
}

/// <summary>The run was paused or resumed.</summary>
public sealed record RunStateChanged : TrainingEvent
{
    public required bool Paused { get; init; }
}

/// <summary>Severity of a <see cref="RunLog"/> line.</summary>
public enum RunLogLevel { Info, Warning, Error }

/// <summary>A line for the run's log.</summary>
public sealed record RunLog : TrainingEvent
{
    public required RunLogLevel Level { get; init; }
    public required string Message { get; init; }
}

/// <summary>How a run ended.</summary>
public enum RunOutcome
{
    /// <summary>All epochs done.</summary>
    Completed,
    /// <summary>Early stopping: validation stopped improving.</summary>
    EarlyStopped,
    /// <summary>Stopped on request (cancellation).</summary>
    Stopped,
    /// <summary>An error ended it (NaN/Inf loss, exception); see the reason.</summary>
    Failed,
}

/// <summary>The run ended; always the last event of a run.</summary>
public sealed record RunFinished : TrainingEvent
{
    public required RunOutcome Outcome { get; init; }
    /// <summary>Why it stopped or failed; null on normal completion.</summary>
    public string? Reason { get; init; }
    public int EpochsCompleted { get; init; }
    public int? BestEpoch { get; init; }
    public double? BestMeanForegroundDice { get; init; }
}
