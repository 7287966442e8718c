using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// One event as viewers receive it. <see cref="Seq"/> numbers a run's trainer events from 1 across
/// sessions and restarts, so a viewer that loaded history up to N ignores live updates ≤ N; status
/// notices from the dashboard itself carry 0 (they are not part of the run's history).
/// </summary>
public sealed record RunUpdate(long Seq, TrainingEvent Event)
{
    /// <summary>The run the event belongs to.</summary>
    public string RunId => Event.RunId;

    /// <summary>True when another machine published it (a worker, through the cluster backplane): never forwarded again, never recorded here.</summary>
    public bool FromCluster { get; init; }
}

/// <summary>
/// The dashboard changed a run's status (queued, started, finished, interrupted, deleted) outside
/// the trainer's own events. Viewers use it to refresh lists; it is not stored as history.
/// </summary>
public sealed record RunStatusChanged : TrainingEvent
{
    /// <summary>New status; null when the run was deleted.</summary>
    public required RunStatus? Status { get; init; }
    public string? Reason { get; init; }
}
