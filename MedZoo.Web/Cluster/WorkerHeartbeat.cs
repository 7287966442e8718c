using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// Writes this worker's row in the registry every <see cref="WorkerOptions.HeartbeatSeconds"/> (devices, queues, the
/// runs it trains) and removes it on a graceful stop. A failed beat (the database restarting) is logged and retried at
/// the next tick: the worker keeps training.
/// </summary>
public sealed class WorkerHeartbeat(IWorkerStore store, WorkerIdentity worker, ILogger<WorkerHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(worker.Options.HeartbeatSeconds));
        do
        {
            try
            {
                store.Beat(worker.Describe());
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Worker {Name} could not write its heartbeat", worker.Name);
            }
        }
        while (await Tick(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            store.Remove(worker.Name);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Worker {Name} could not remove its heartbeat row", worker.Name);
        }
    }
}
