using MedZoo.Engine.Training;
using Microsoft.AspNetCore.SignalR;

namespace MedZoo.Web.Live;

/// <summary>
/// Forwards every run's updates from the notifier to the hub's per-run groups. It is one notifier
/// subscriber with its own bounded channel, so slow hub clients can make it drop frames but can
/// never hold up a trainer.
/// </summary>
public sealed class HubBridge(RunNotifier notifier, IHubContext<TrainingHub, ITrainingClient> hub) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = notifier.Subscribe(null, ForwardAsync, capacity: 4096);
        return Task.CompletedTask;
    }

    private async ValueTask ForwardAsync(RunUpdate u)
    {
        var g = hub.Clients.Group(TrainingHub.Group(u.RunId));
        await (u.Event switch
        {
            RunStarted e => g.RunStarted(u.Seq, e),
            StepCompleted e => g.StepCompleted(u.Seq, e),
            EpochCompleted e => g.EpochCompleted(u.Seq, e),
            SlicePreview e => g.SlicePreview(u.Seq, e),
            CheckpointSaved e => g.CheckpointSaved(u.Seq, e),
            RunStateChanged e => g.RunStateChanged(u.Seq, e),
            RunLog e => g.RunLog(u.Seq, e),
            RunFinished e => g.RunFinished(u.Seq, e),
            RunStatusChanged e => g.RunStatusChanged(e),
            _ => Task.CompletedTask,
        }).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _subscription = null;
    }
}
