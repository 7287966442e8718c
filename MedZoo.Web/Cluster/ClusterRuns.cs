using Hangfire;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;

using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// The web node's side of the queue: a run becomes a <see cref="ClusterRunJob"/> on the queue of the device it asked
/// for (<see cref="ClusterQueues.Of"/>; "auto" goes to the GPUs when a live worker serves them); the job itself
/// decides at start whether the run still wants training, so a stop or delete in between needs no job removal.
/// </summary>
public sealed class ClusterRuns(IBackgroundJobClient jobs, IRunStore runs, IRunPlacementStore placements, IWorkerStore workers, ILogger<ClusterRuns> logger)
    : IClusterRuns
{
    /// <inheritdoc />
    public void Enqueue(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var queue = ClusterQueues.Of(RequestedDevice(run.ConfigJson), GpuWorkerAlive());
        placements.Queued(run.Id);
        var job = ClusterHangfire.CreateJob(() => jobs.Enqueue<ClusterRunJob>(queue, j => j.Run(run.Id, queue, CancellationToken.None)), logger);
        logger.LogInformation("Run {RunId} queued on {Queue} as job {JobId}", run.Id, queue, job);
    }

    /// <inheritdoc />
    public bool Request(string runId, RequestedState state, string? reason = null)
    {
        if (runs.Get(runId) is not { } run || !run.Status.IsActive()) return false;
        placements.Request(runId, state, reason);
        return true;
    }

    private bool GpuWorkerAlive() => ClusterQueues.GpuWorkerAlive(workers);

    /// <summary>The device a run's configuration asks for (its "Device" option), or null.</summary>
    internal static string? RequestedDevice(string configJson)
    {
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(configJson) as System.Text.Json.Nodes.JsonObject;
            return node?.FirstOrDefault(p => string.Equals(p.Key, "Device", StringComparison.OrdinalIgnoreCase)).Value?.GetValue<string>();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
