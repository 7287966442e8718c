using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs;

/// <summary>
/// A run as the HTTP API (<c>/api/runs</c>) and the hub's <c>Subscribe</c> return it: the contract
/// clients read, decoupled from how a store keeps runs. Field names are the API's; change them only
/// together with the clients (tools/Reliability, scripts).
/// </summary>
public sealed record RunInfo
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public RunStatus Status { get; init; }
    public RunSource Source { get; init; }
    public string CreatedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    /// <summary>Training time of finished sessions (a resumed run has several).</summary>
    public double ActiveSeconds { get; init; }
    /// <summary>Time of the last recorded event.</summary>
    public DateTime? LastActivityAt { get; init; }
    /// <summary>Start of the session in progress, if any.</summary>
    public DateTime? SessionStartedAt { get; init; }
    public string Model { get; init; } = "";
    public string Dataset { get; init; } = "";
    /// <summary>Requested device ("auto", "cpu", "cuda:0").</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Device the trainer reported using.</summary>
    public string? DeviceUsed { get; init; }
    /// <summary>The trainer options as JSON.</summary>
    public string ConfigJson { get; init; } = "{}";
    public int Epochs { get; init; }
    public int EpochsCompleted { get; init; }
    public int CurrentEpoch { get; init; }
    public int StepsPerEpoch { get; init; }
    public long GlobalStep { get; init; }
    public long Parameters { get; init; }
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    public IReadOnlyList<string> Modalities { get; init; } = [];
    public double? BestMeanDice { get; init; }
    public int? BestEpoch { get; init; }
    public double? LastMeanDice { get; init; }
    public double? LastTrainLoss { get; init; }
    public double? LastValidationLoss { get; init; }
    /// <summary>Why it stopped, failed or was interrupted.</summary>
    public string? Reason { get; init; }
    /// <summary>Set when queued to continue from its last checkpoint.</summary>
    public bool ResumeRequested { get; init; }
    /// <summary>Sessions started so far (1 + resumes).</summary>
    public int Sessions { get; init; }
    /// <summary>Highest event sequence number recorded (live updates continue after it).</summary>
    public long LastSeq { get; init; }
    /// <summary>For command-line runs: the process id and host that write the journal.</summary>
    public int? ProcessId { get; init; }
    public string? Host { get; init; }
    /// <summary>Fraction of the planned steps done (0..1).</summary>
    public double Progress { get; init; }

    /// <summary>The contract of a stored run.</summary>
    public static RunInfo From(RunRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new()
        {
            Id = r.Id, Name = r.Name, Status = r.Status, Source = r.Source, CreatedBy = r.CreatedBy, CreatedAt = r.CreatedAt,
            StartedAt = r.StartedAt, FinishedAt = r.FinishedAt, ActiveSeconds = r.ActiveSeconds, LastActivityAt = r.LastActivityAt,
            SessionStartedAt = r.SessionStartedAt, Model = r.Model, Dataset = r.Dataset, Device = r.Device, DeviceUsed = r.DeviceUsed,
            ConfigJson = r.ConfigJson, Epochs = r.Epochs, EpochsCompleted = r.EpochsCompleted, CurrentEpoch = r.CurrentEpoch,
            StepsPerEpoch = r.StepsPerEpoch, GlobalStep = r.GlobalStep, Parameters = r.Parameters, ClassNames = [.. r.ClassNames],
            Modalities = [.. r.Modalities], BestMeanDice = r.BestMeanDice, BestEpoch = r.BestEpoch, LastMeanDice = r.LastMeanDice,
            LastTrainLoss = r.LastTrainLoss, LastValidationLoss = r.LastValidationLoss, Reason = r.Reason, ResumeRequested = r.ResumeRequested,
            Sessions = r.Sessions, LastSeq = r.LastSeq, ProcessId = r.ProcessId, Host = r.Host, Progress = r.Progress,
        };
    }
}

/// <summary>One point of a run's metric series as <c>/api/runs/{id}/metrics</c> returns it (step or epoch).</summary>
public sealed record MetricPointInfo
{
    public required string RunId { get; init; }
    /// <summary>Number of the event that produced the point (the paging cursor).</summary>
    public long Seq { get; init; }
    public MetricKind Kind { get; init; }
    public int Epoch { get; init; }
    public int Step { get; init; }
    public long GlobalStep { get; init; }
    public double Loss { get; init; }
    public double LearningRate { get; init; }
    /// <summary>Training soft Dice per class (batch for a step, epoch mean for an epoch).</summary>
    public IReadOnlyList<double>? Dice { get; init; }
    public double? ValidationLoss { get; init; }
    /// <summary>Per-class validation metrics (epochs with validation).</summary>
    public IReadOnlyList<ClassMetrics>? Validation { get; init; }
    public double? MeanDice { get; init; }
    public bool IsBest { get; init; }
    public double Seconds { get; init; }
    public DateTime Time { get; init; }

    /// <summary>The contract of a stored point.</summary>
    public static MetricPointInfo From(MetricPointRecord m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new()
        {
            RunId = m.RunId, Seq = m.Seq, Kind = m.Kind, Epoch = m.Epoch, Step = m.Step, GlobalStep = m.GlobalStep, Loss = m.Loss,
            LearningRate = m.LearningRate, Dice = m.Dice, ValidationLoss = m.ValidationLoss,
            Validation = m.Validation?.Select(c => new ClassMetrics(c.Name, c.Dice, c.Iou, c.Precision, c.Recall, c.Hd95, c.Assd)).ToList(),
            MeanDice = m.MeanDice, IsBest = m.IsBest, Seconds = m.Seconds, Time = m.Time,
        };
    }
}

/// <summary>One line of a run's event log as <c>/api/runs/{id}/events</c> returns it.</summary>
public sealed record RunEventInfo
{
    public required string RunId { get; init; }
    /// <summary>Number of the event (the paging cursor).</summary>
    public long Seq { get; init; }
    public DateTime Time { get; init; }
    /// <summary>"started", "epoch", "checkpoint", "state", "log" or "finished".</summary>
    public string Kind { get; init; } = "";
    public EventLevel Level { get; init; }
    public string Message { get; init; } = "";

    /// <summary>The contract of a stored line.</summary>
    public static RunEventInfo From(RunEventRecord e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new() { RunId = e.RunId, Seq = e.Seq, Time = e.Time, Kind = e.Kind, Level = e.Level, Message = e.Message };
    }
}
