namespace MedZoo.Web.Runs.Placement;

/// <summary>What the dashboard wants of a run a worker trains: its control, written by any web node, read by the worker.</summary>
public enum RequestedState
{
    /// <summary>Train (the default, and what Resume asks).</summary>
    Running,
    /// <summary>Hold between batches.</summary>
    Paused,
    /// <summary>Stop after the current batch.</summary>
    Stopped,
}

/// <summary>Where a run is placed and what is asked of it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Worker">The worker training it now, or null while it waits in a queue.</param>
/// <param name="Device">The worker's device it trains on, or null.</param>
/// <param name="Session">The job execution holding it (a new one per attempt), or null.</param>
/// <param name="Requested">The state the dashboard asks for.</param>
/// <param name="Reason">Why a stop was asked for, when not by a user (e.g. successive halving); null otherwise.</param>
/// <param name="PreviousWorker">The worker that held it before the current one (to say where it came from after a fault), or null.</param>
public sealed record RunPlacement(string RunId, string? Worker, string? Device, string? Session, RequestedState Requested, string? PreviousWorker, string? Reason = null);

/// <summary>
/// Which worker trains which run, and the run's requested state: the dashboard writes a pause, resume or stop here and
/// the worker training the run polls it (no connection between web nodes and workers other than the database).
/// </summary>
public interface IRunPlacementStore
{
    /// <summary>The run's placement, or null if it was never queued in cluster mode.</summary>
    RunPlacement? Get(string runId);

    /// <summary>A run is queued (started or resumed): no worker holds it, and it is asked to run.</summary>
    void Queued(string runId);

    /// <summary>
    /// Records the dashboard's request for the run (creating its row if needed); <paramref name="reason"/> is what a stop
    /// says in the run's log (e.g. successive halving's verdict), null for a user's stop.
    /// </summary>
    void Request(string runId, RequestedState state, string? reason = null);

    /// <summary>A worker took the run in job execution <paramref name="session"/>; returns the placement before it.</summary>
    RunPlacement? Assign(string runId, string worker, string device, string session);

    /// <summary>The worker let go of the run (only if <paramref name="session"/> still holds it).</summary>
    void Release(string runId, string session);
}
