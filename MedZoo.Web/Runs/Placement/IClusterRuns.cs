using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Runs.Placement;

/// <summary>
/// What <see cref="Runs.RunService"/> does differently in cluster mode: a queued run becomes a Hangfire job on its
/// device kind's queue, and pause, resume and stop of a run a worker trains are written to the run's placement,
/// which that worker polls. Not registered in the embedded mode.
/// </summary>
public interface IClusterRuns
{
    /// <summary>Queues a run that was just inserted or set back to queued (a start or a resume).</summary>
    void Enqueue(RunRecord run);

    /// <summary>
    /// Asks the worker training <paramref name="runId"/> for <paramref name="state"/> (a stop with <paramref name="reason"/>
    /// when given); false if no worker trains it (it is not running or paused).
    /// </summary>
    bool Request(string runId, RequestedState state, string? reason = null);
}
