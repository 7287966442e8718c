using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// A web node's repair of the run queue. Storing a run and queueing its Hangfire job are two writes (Hangfire keeps its
/// own connection): a node that dies between them leaves a run queued forever with no job. Every
/// <see cref="Interval"/> each web node looks, under a cluster-wide lock, for queued runs that have had no job for
/// <see cref="ClusterOptions.QueueRepairAfter"/> and queues them (<see cref="PostgresClusterStore.RepairQueue"/>), with a
/// log line naming them. A duplicate job is impossible while the lock is held: the check reads Hangfire's own table.
/// </summary>
public sealed class ClusterQueueRepair(PostgresClusterStore store, IClusterRuns queue, IRunStore runs, ClusterOptions options,
    ILogger<ClusterQueueRepair> logger) : BackgroundService
{
    /// <summary>How often a node looks (a cheap indexed query over queued runs).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                RepairOnce();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not look for queued runs that lost their job; trying again in {Seconds} s", Interval.TotalSeconds);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One look; returns the runs queued again.</summary>
    public IReadOnlyList<string> RepairOnce() => store.RepairQueue(options.QueueRepairAfter, id =>
    {
        if (runs.Get(id) is not { Status: RunStatus.Queued } run) return;
        logger.LogWarning("Run {RunId} was queued {After} s ago or more but has no job in the queue (the node that queued it stopped before " +
                          "queueing it): queueing it now", id, options.QueueRepairAfter.TotalSeconds);
        queue.Enqueue(run);
    }, ClusterHangfire.Schema);
}
