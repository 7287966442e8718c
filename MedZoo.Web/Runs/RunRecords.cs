using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs;

/// <summary>Where a run is in its life. Terminal states are Completed, EarlyStopped, Stopped and Failed.</summary>
public enum RunStatus
{
    /// <summary>Waiting for a free slot on its device.</summary>
    Queued,
    /// <summary>Training.</summary>
    Running,
    /// <summary>Held between batches by a pause.</summary>
    Paused,
    /// <summary>All epochs done.</summary>
    Completed,
    /// <summary>Early stopping ended it.</summary>
    EarlyStopped,
    /// <summary>An operator stopped it.</summary>
    Stopped,
    /// <summary>An error ended it; see <see cref="RunRecord.Reason"/>.</summary>
    Failed,
    /// <summary>The process hosting it ended while it ran; it can be resumed from its last checkpoint.</summary>
    Interrupted,
}

/// <summary>Helpers over <see cref="RunStatus"/>.</summary>
public static class RunStatusExtensions
{
    /// <summary>True while a trainer thread owns the run.</summary>
    public static bool IsActive(this RunStatus s) => s is RunStatus.Running or RunStatus.Paused;

    /// <summary>True once nothing more will happen to the run unless someone resumes it.</summary>
    public static bool IsFinished(this RunStatus s) => s is RunStatus.Completed or RunStatus.EarlyStopped or RunStatus.Stopped
        or RunStatus.Failed or RunStatus.Interrupted;

    /// <summary>The status a trainer outcome maps to.</summary>
    public static RunStatus ToStatus(this RunOutcome o) => o switch
    {
        RunOutcome.Completed => RunStatus.Completed,
        RunOutcome.EarlyStopped => RunStatus.EarlyStopped,
        RunOutcome.Stopped => RunStatus.Stopped,
        _ => RunStatus.Failed,
    };
}

/// <summary>Who launched a run.</summary>
public enum RunSource
{
    /// <summary>Started from the dashboard and hosted by the server.</summary>
    Dashboard,
    /// <summary>A headless <c>medzoo train</c>, imported from its journal.</summary>
    Cli,
}

/// <summary>One training run: configuration, status, timing, who started it and its best results.</summary>
public sealed class RunRecord
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public RunStatus Status { get; set; }
    public RunSource Source { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    /// <summary>Training time of finished sessions (a resumed run has several).</summary>
    public double ActiveSeconds { get; set; }
    /// <summary>Time of the last recorded event (bounds the duration of a session a crash cut short).</summary>
    public DateTime? LastActivityAt { get; set; }
    /// <summary>Start of the session in progress, if any.</summary>
    public DateTime? SessionStartedAt { get; set; }
    public string Model { get; set; } = "";
    public string Dataset { get; set; } = "";
    /// <summary>Requested device ("auto", "cpu", "cuda:0").</summary>
    public string Device { get; set; } = "auto";
    /// <summary>Device the trainer reported using.</summary>
    public string? DeviceUsed { get; set; }
    /// <summary>The trainer options as JSON (what the New run form or the CLI produced).</summary>
    public string ConfigJson { get; set; } = "{}";
    public int Epochs { get; set; }
    public int EpochsCompleted { get; set; }
    public int CurrentEpoch { get; set; }
    public int StepsPerEpoch { get; set; }
    public long GlobalStep { get; set; }
    public long Parameters { get; set; }
    public List<string> ClassNames { get; set; } = [];
    public List<string> Modalities { get; set; } = [];
    public double? BestMeanDice { get; set; }
    public int? BestEpoch { get; set; }
    public double? LastMeanDice { get; set; }
    public double? LastTrainLoss { get; set; }
    public double? LastValidationLoss { get; set; }
    /// <summary>Why it stopped, failed or was interrupted.</summary>
    public string? Reason { get; set; }
    /// <summary>Set when queued to continue from its last checkpoint.</summary>
    public bool ResumeRequested { get; set; }
    /// <summary>Sessions started so far (1 + resumes).</summary>
    public int Sessions { get; set; }
    /// <summary>Highest event sequence number recorded (live updates continue after it).</summary>
    public long LastSeq { get; set; }
    /// <summary>For CLI runs: the process id and host that write the journal.</summary>
    public int? ProcessId { get; set; }
    public string? Host { get; set; }

    /// <summary>Training time so far, including the session in progress.</summary>
    public TimeSpan Duration(DateTime utcNow) =>
        TimeSpan.FromSeconds(ActiveSeconds + (SessionStartedAt is { } s && Status.IsActive() ? Math.Max(0, (utcNow - s).TotalSeconds) : 0));

    /// <summary>Fraction of the planned steps done (0..1).</summary>
    public double Progress => Epochs <= 0 || StepsPerEpoch <= 0 ? 0 : Math.Clamp((double)GlobalStep / ((long)Epochs * StepsPerEpoch), 0, 1);
}

/// <summary>Kind of a metric point.</summary>
public enum MetricKind
{
    /// <summary>One optimizer step (training loss, learning rate, batch Dice).</summary>
    Step,
    /// <summary>One epoch (mean training loss, validation metrics).</summary>
    Epoch,
}

/// <summary>Per-class validation metrics as stored.</summary>
public sealed class ClassMetricsRecord
{
    public string Name { get; set; } = "";
    public double Dice { get; set; }
    public double Iou { get; set; }
    public double Precision { get; set; }
    public double Recall { get; set; }
    public double Hd95 { get; set; }
    public double Assd { get; set; }
}

/// <summary>One point of a run's metric series (one document per step or epoch keeps each far below LiteDB's 1 MB cap).</summary>
public sealed class MetricPointRecord
{
    public long Id { get; set; }
    public string RunId { get; set; } = "";
    /// <summary>
    /// "{runId}/step/{globalStep}" or "{runId}/epoch/{epoch}": one point per step and per epoch, so a resumed run
    /// that replays steps after its last checkpoint replaces their points instead of adding a second copy.
    /// </summary>
    public string? Key { get; set; }
    public long Seq { get; set; }
    public MetricKind Kind { get; set; }
    public int Epoch { get; set; }
    public int Step { get; set; }
    public long GlobalStep { get; set; }
    public double Loss { get; set; }
    public double LearningRate { get; set; }
    /// <summary>Training soft Dice per class (batch for a step, epoch mean for an epoch).</summary>
    public double[]? Dice { get; set; }
    public double? ValidationLoss { get; set; }
    public List<ClassMetricsRecord>? Validation { get; set; }
    public double? MeanDice { get; set; }
    public bool IsBest { get; set; }
    public double Seconds { get; set; }
    public DateTime Time { get; set; }
}

/// <summary>Severity of a run event line.</summary>
public enum EventLevel { Info, Warning, Error }

/// <summary>A line of a run's event log (start, state changes, checkpoints, log lines, finish).</summary>
public sealed class RunEventRecord
{
    public long Id { get; set; }
    public string RunId { get; set; } = "";
    /// <summary>"{runId}/{seq}": an event stored twice (a journal line imported again) is one line.</summary>
    public string? Key { get; set; }
    public long Seq { get; set; }
    public DateTime Time { get; set; }
    public string Kind { get; set; } = "";
    public EventLevel Level { get; set; }
    public string Message { get; set; } = "";
}

/// <summary>The latest preview of one slice of one plane (replaced as training goes on).</summary>
public sealed class SlicePreviewRecord
{
    /// <summary>"{runId}/{plane}/{slice}".</summary>
    public string Id { get; set; } = "";
    public string RunId { get; set; } = "";
    public long Seq { get; set; }
    public int Epoch { get; set; }
    public string SubjectId { get; set; } = "";
    public SlicePlane Plane { get; set; }
    public int SliceIndex { get; set; }
    public int SliceCount { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public byte[] Image { get; set; } = [];
    public byte[] Prediction { get; set; } = [];
    public byte[]? GroundTruth { get; set; }
    public double PixelWidthMm { get; set; } = 1;
    public double PixelHeightMm { get; set; } = 1;
    public DateTime Time { get; set; }
}

/// <summary>Points at the file-storage entry that currently holds a run's checkpoint of one kind.</summary>
public sealed class CheckpointRecord
{
    /// <summary>"{runId}/{kind}".</summary>
    public string Id { get; set; } = "";
    public string RunId { get; set; } = "";
    public string Kind { get; set; } = "";
    public int Epoch { get; set; }
    /// <summary>File-storage id of the bytes (unique per save, so a save never overwrites in place).</summary>
    public string FileId { get; set; } = "";
    public long Bytes { get; set; }
    public DateTime SavedAt { get; set; }
}

/// <summary>How far the server has imported one headless run's journal.</summary>
public sealed class JournalRecord
{
    /// <summary>Journal file name.</summary>
    public string Id { get; set; } = "";
    public string RunId { get; set; } = "";
    /// <summary>Bytes of the file already imported (always at a line boundary).</summary>
    public long Offset { get; set; }
    /// <summary>
    /// The run's last sequence number when this journal began: a journal numbers its events from 1,
    /// so a second session of the same run (a resume) continues after the first one's events.
    /// </summary>
    public long SeqBase { get; set; }
    public bool Finished { get; set; }
    /// <summary>The writer's output folder (from the header): the only place checkpoints are imported from.</summary>
    public string? OutputDirectory { get; set; }
    /// <summary>Import passes in a row whose events could not all be stored (the offset stays until they are).</summary>
    public int FailedPasses { get; set; }
}
