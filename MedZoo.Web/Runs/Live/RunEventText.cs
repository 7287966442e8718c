using System.Globalization;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs.Live;

/// <summary>A run event as a log line.</summary>
public sealed record RunEventLine(string Kind, EventLevel Level, string Message);

/// <summary>
/// Turns the events that belong in a run's log (start, state changes, checkpoints, log lines,
/// finish) into lines; metric and preview events are charts, not log lines (null).
/// </summary>
public static class RunEventText
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The log line for an event, or null for metric and preview events.</summary>
    public static RunEventLine? Describe(TrainingEvent e) => e switch
    {
        RunStarted s => new("started", EventLevel.Info, string.Format(Inv,
            "Started {0} on {1} ({2}), epochs {3}..{4}, {5} steps per epoch, {6:N0} parameters, {7} train / {8} validation subjects{9}",
            s.Model, s.Dataset, s.Device, s.StartEpoch, s.Epochs, s.StepsPerEpoch, s.Parameters, s.TrainSubjects, s.ValidationSubjects,
            s.DeviceNotice is null ? "" : ". " + s.DeviceNotice)),
        EpochCompleted ep => new("epoch", EventLevel.Info, string.Format(Inv,
            "Epoch {0}/{1}: train loss {2:0.####}{3}{4} ({5:0.#} s){6}", ep.Epoch, ep.Epochs, ep.TrainLoss,
            ep.ValidationLoss is { } vl ? string.Format(Inv, ", val loss {0:0.####}", vl) : "",
            ep.MeanForegroundDice is { } d ? string.Format(Inv, ", mean Dice {0:0.####}", d) : "",
            ep.Seconds, ep.IsBest ? " — new best" : "")),
        CheckpointSaved c => new("checkpoint", EventLevel.Info, string.Format(Inv,
            "Saved {0} checkpoint after epoch {1} ({2:N0} bytes)", c.Kind, c.Epoch, c.Bytes)),
        RunStateChanged c => new("state", EventLevel.Info, c.Paused ? "Paused" : "Resumed"),
        RunLog l => new("log", l.Level switch
        {
            RunLogLevel.Warning => EventLevel.Warning,
            RunLogLevel.Error => EventLevel.Error,
            _ => EventLevel.Info,
        }, l.Message),
        RunFinished f => new("finished", f.Outcome == RunOutcome.Failed ? EventLevel.Error : EventLevel.Info, string.Format(Inv,
            "{0} after {1} epochs{2}{3}", f.Outcome, f.EpochsCompleted,
            f.BestMeanForegroundDice is { } b ? string.Format(Inv, "; best mean Dice {0:0.####} at epoch {1}", b, f.BestEpoch) : "",
            f.Reason is null ? "" : ": " + f.Reason)),
        _ => null,
    };
}
