using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Runs;

/// <summary>What one event adds to a run's history besides its summary: a metric point, a slice preview, a log line.</summary>
/// <param name="Metric">The step or epoch point (keyed by run and step or epoch, so a replay replaces it).</param>
/// <param name="Preview">The latest image of one slice of one plane.</param>
/// <param name="Line">The log line (keyed by run and sequence number, so a line imported twice is one line).</param>
public sealed record RunHistoryEntry(MetricPointRecord? Metric, SlicePreviewRecord? Preview, RunEventRecord? Line);

/// <summary>
/// The one fold of a run's events into its state: <see cref="Apply"/> turns an event into the run's
/// summary fields (status, progress, best results, timing) and <see cref="History"/> into the records
/// its history keeps. The event recorder (what is stored), the live view (what a page shows) and the
/// journal importer (headless runs) all go through it, so the stored run and the one on screen
/// cannot drift apart. The session helpers (<see cref="BeginSession"/>, <see cref="EndSession"/>,
/// <see cref="Interrupt"/>) are the run's life-cycle changes that do not come from the trainer.
/// Replays are safe where they can be: counters (<see cref="RunRecord.GlobalStep"/>,
/// <see cref="RunRecord.EpochsCompleted"/>, <see cref="RunRecord.LastSeq"/>) never go back, the best
/// Dice only improves through epochs, and a late <see cref="RunStarted"/> never reopens a finished run.
/// The fields that describe "the latest" (loss, current epoch) follow the event applied last.
/// </summary>
public static class RunProjection
{
    /// <summary>Folds one event into the run's summary fields.</summary>
    public static void Apply(RunRecord r, RunUpdate u)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(u);
        if (u.Event is RunStatusChanged changed)
        {
            // The dashboard's own notice: not part of the run's numbered history.
            if (changed.Status is { } status)
            {
                r.Status = status;
                r.Reason = changed.Reason;
            }
            return;
        }
        r.LastSeq = Math.Max(r.LastSeq, u.Seq);
        var time = u.Event.Time.UtcDateTime;
        r.LastActivityAt = time;
        switch (u.Event)
        {
            case RunStarted s:
                r.Model = s.Model;
                r.Dataset = s.Dataset;
                r.DeviceUsed = s.Device;
                r.ClassNames = [.. s.ClassNames];
                r.Modalities = [.. s.Modalities];
                r.Epochs = s.Epochs;
                r.StepsPerEpoch = s.StepsPerEpoch;
                r.Parameters = s.Parameters;
                r.StartedAt ??= time;
                r.SessionStartedAt ??= time;
                if (!r.Status.IsFinished()) r.Status = RunStatus.Running;
                break;
            case StepCompleted s:
                r.GlobalStep = Math.Max(r.GlobalStep, s.GlobalStep);
                r.CurrentEpoch = s.Epoch;
                r.StepsPerEpoch = s.StepsPerEpoch;
                r.LastTrainLoss = s.Loss;
                break;
            case EpochCompleted e:
                r.EpochsCompleted = Math.Max(r.EpochsCompleted, e.Epoch);
                r.CurrentEpoch = e.Epoch;
                r.Epochs = e.Epochs;
                r.GlobalStep = Math.Max(r.GlobalStep, (long)e.Epoch * r.StepsPerEpoch);
                r.LastTrainLoss = e.TrainLoss;
                if (e.ValidationLoss is { } vl) r.LastValidationLoss = vl;
                if (e.MeanForegroundDice is { } d && !double.IsNaN(d))
                {
                    r.LastMeanDice = d;
                    if (r.BestMeanDice is null || d > r.BestMeanDice)
                    {
                        r.BestMeanDice = d;
                        r.BestEpoch = e.Epoch;
                    }
                }
                break;
            case RunStateChanged c:
                if (r.Status.IsActive()) r.Status = c.Paused ? RunStatus.Paused : RunStatus.Running;
                break;
            case RunFinished f:
                r.Status = f.Outcome.ToStatus();
                r.Reason = f.Reason;
                r.EpochsCompleted = Math.Max(r.EpochsCompleted, f.EpochsCompleted);
                if (f.BestMeanForegroundDice is { } best && !double.IsNaN(best))
                {
                    r.BestMeanDice = best;
                    r.BestEpoch = f.BestEpoch;
                }
                EndSession(r, time);
                break;
        }
    }

    /// <summary>Folds events into <paramref name="run"/> in the order given; returns it.</summary>
    public static RunRecord Fold(RunRecord run, IEnumerable<RunUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        foreach (var u in updates) Apply(run, u);
        return run;
    }

    /// <summary>The history records one event adds (none for a status notice or an event that is only a state change).</summary>
    public static RunHistoryEntry History(RunUpdate u)
    {
        ArgumentNullException.ThrowIfNull(u);
        if (u.Event is RunStatusChanged) return new(null, null, null);
        var time = u.Event.Time.UtcDateTime;
        var metric = u.Event switch
        {
            StepCompleted s => new MetricPointRecord
            {
                Key = MetricKey(s.RunId, MetricKind.Step, s.GlobalStep), RunId = s.RunId, Seq = u.Seq, Kind = MetricKind.Step, Epoch = s.Epoch,
                Step = s.Step, GlobalStep = s.GlobalStep, Loss = s.Loss, LearningRate = s.LearningRate, Dice = s.Dice?.ToArray(),
                Seconds = s.Seconds, Time = time,
            },
            EpochCompleted e => EpochPoint(u.Seq, e),
            _ => null,
        };
        var preview = u.Event is SlicePreview p ? Preview(u.Seq, p) : null;
        var line = RunEventText.Describe(u.Event) is { } l
            ? new RunEventRecord { Key = EventKey(u.RunId, u.Seq), RunId = u.RunId, Seq = u.Seq, Time = time, Kind = l.Kind, Level = l.Level, Message = l.Message }
            : null;
        return new(metric, preview, line);
    }

    /// <summary>The stored point of an epoch (also how epochs are restored from a checkpoint's own history).</summary>
    public static MetricPointRecord EpochPoint(long seq, EpochCompleted e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new()
        {
            Key = MetricKey(e.RunId, MetricKind.Epoch, e.Epoch), RunId = e.RunId, Seq = seq, Kind = MetricKind.Epoch, Epoch = e.Epoch, Loss = e.TrainLoss,
            LearningRate = e.LearningRate, Dice = e.TrainDice?.ToArray(), ValidationLoss = e.ValidationLoss,
            Validation = e.Validation?.Select(m => new ClassMetricsRecord
            {
                Name = m.Name, Dice = m.Dice, Iou = m.Iou, Precision = m.Precision, Recall = m.Recall, Hd95 = m.Hd95, Assd = m.Assd,
            }).ToList(),
            MeanDice = e.MeanForegroundDice, IsBest = e.IsBest, Seconds = e.Seconds, Time = e.Time.UtcDateTime,
        };
    }

    /// <summary>The stored form of a slice preview (one per run, plane and slice, replaced as training goes on).</summary>
    public static SlicePreviewRecord Preview(long seq, SlicePreview p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new()
        {
            Id = $"{p.RunId}/{p.Plane}/{p.SliceIndex}", RunId = p.RunId, Seq = seq, Epoch = p.Epoch, SubjectId = p.SubjectId,
            Plane = p.Plane, SliceIndex = p.SliceIndex, SliceCount = p.SliceCount, Width = p.Width, Height = p.Height,
            Image = p.Image, Prediction = p.Prediction, GroundTruth = p.GroundTruth, PixelWidthMm = p.PixelWidthMm,
            PixelHeightMm = p.PixelHeightMm, Time = p.Time.UtcDateTime,
        };
    }

    /// <summary>The key of a run's step point (by global step) or epoch point (by epoch).</summary>
    public static string MetricKey(string runId, MetricKind kind, long number) =>
        $"{runId}/{(kind == MetricKind.Step ? "step" : "epoch")}/{number}";

    /// <summary>The key of a run's log line (by sequence number).</summary>
    public static string EventKey(string runId, long seq) => $"{runId}/{seq}";

    /// <summary>Opens a new training session of the run at <paramref name="utcNow"/> (a first start or a resume).</summary>
    public static void BeginSession(RunRecord r, DateTime utcNow)
    {
        ArgumentNullException.ThrowIfNull(r);
        r.Status = RunStatus.Running;
        r.Sessions++;
        r.StartedAt ??= utcNow;
        r.SessionStartedAt = utcNow;
        r.FinishedAt = null;
        r.Reason = null;
    }

    /// <summary>Closes the session in progress: adds its time to the run's total.</summary>
    public static void EndSession(RunRecord r, DateTime utcNow)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.SessionStartedAt is { } s)
        {
            r.ActiveSeconds += Math.Max(0, (utcNow - s).TotalSeconds);
            r.SessionStartedAt = null;
        }
        r.FinishedAt = utcNow;
    }

    /// <summary>
    /// Marks a run whose host went away as interrupted (resumable from its last checkpoint): its session
    /// ends at <paramref name="endedAt"/>. A run already finished is left as it is; returns whether it changed.
    /// </summary>
    public static bool Interrupt(RunRecord r, string reason, DateTime endedAt)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.Status.IsFinished()) return false;
        EndSession(r, endedAt);
        r.Status = RunStatus.Interrupted;
        r.Reason = reason;
        return true;
    }
}
