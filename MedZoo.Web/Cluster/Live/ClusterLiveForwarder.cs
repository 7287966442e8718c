using MedZoo.Web.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// A worker's side of the cluster live stream: every update its trainers publish into the worker's
/// <see cref="RunNotifier"/> (already numbered and recorded by the worker's own recorder) is sent to every web node
/// with <c>IHubContext&lt;ClusterLiveHub, IClusterLiveClient&gt;</c>; SignalR's Redis backplane carries it. It is a
/// notifier subscriber with its own bounded queue, so training never waits on Redis: while Redis is unreachable each
/// send fails after StackExchange.Redis's timeout, is logged once per outage, and the oldest waiting updates are
/// dropped beyond <see cref="ClusterLiveOptions.ForwarderCapacity"/> (viewers read them from the database's history).
/// Updates that came from another machine (<see cref="RunUpdate.FromCluster"/>) are not sent back.
/// </summary>
public sealed class ClusterLiveForwarder(
    RunNotifier notifier,
    ClusterLiveOrigin origin,
    IHubContext<ClusterLiveHub, IClusterLiveClient> hub,
    IOptions<ClusterLiveOptions> options,
    ILogger<ClusterLiveForwarder> logger) : IHostedService, IDisposable
{
    private readonly ClusterLiveOptions _options = options.Value;
    private IDisposable? _subscription;
    private long _sent;
    private long _failed;
    private long _oversized;
    private bool _failing;

    /// <summary>Updates handed to the backplane so far (counted as the send starts; those that failed are in <see cref="Failed"/> too).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Updates whose send failed (Redis unreachable) so far.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Updates not sent because they exceeded <see cref="ClusterLiveOptions.MaxMessageChars"/>.</summary>
    public long Oversized => Interlocked.Read(ref _oversized);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        _subscription = notifier.Subscribe(null, SendAsync, _options.ForwarderCapacity);
        return Task.CompletedTask;
    }

    private async ValueTask SendAsync(RunUpdate update)
    {
        if (update.FromCluster) return;
        var message = ClusterLiveMessage.Encode(update, origin.Name);
        if (message.Length > _options.MaxMessageChars)
        {
            Interlocked.Increment(ref _oversized);
            logger.LogWarning("Not forwarding a {Type} of run {RunId} to the web nodes: it has {Length} characters, more than MaxMessageChars {Max}",
                update.Event.GetType().Name, update.RunId, message.Length, _options.MaxMessageChars);
            return;
        }
        try
        {
            Interlocked.Increment(ref _sent);
            await hub.Clients.Group(ClusterLiveHub.NodesGroup).Update(message).ConfigureAwait(false);
            if (_failing)
            {
                _failing = false;
                logger.LogInformation("The live stream reaches the web nodes again (Redis answers); {Failed} updates could not be sent so far", Failed);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.Increment(ref _failed);
            // One line per outage, not one per update: an outage of a minute is thousands of steps.
            if (!_failing)
            {
                _failing = true;
                logger.LogWarning(e, "Cannot send live updates to the web nodes (is Redis up?); viewers miss them until it answers and read them from history");
            }
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _subscription?.Dispose();
        _subscription = null;
    }
}
