using System.Diagnostics;
using MedZoo.Web.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// A web node's side of the cluster live stream: a SignalR client connected in-process to this node's
/// <see cref="ClusterLiveHub"/> (<see cref="InProcessHubConnectionFactory{THub}"/>), so that the Redis backplane
/// delivers to it every update the workers send, which it checks (<see cref="ClusterLiveMessage.TryDecode"/>) and
/// re-publishes into the node's own <see cref="RunNotifier"/> with <see cref="RunNotifier.PublishForwarded"/>.
/// Everything downstream (the hub bridge's per-connection queues and step thinning, live pages, sweeps) is then the
/// same as on a single machine, and nothing is recorded twice (the worker's recorder already wrote it).
/// A rejected message is dropped with a log line (at most one per second, with a count of those not logged).
/// When Redis restarts, StackExchange.Redis reconnects and re-subscribes on its own; updates sent during the gap
/// are lost to live viewers, whose pages read them from the run's history (<c>RunViewSync</c>). Ten Redis outages in
/// <c>benchmarks/cluster-faults.py --fault redis</c> and ten restarts in <c>ClusterLiveStreamFaultTests</c> all resumed within a
/// second; a subscription lost while Redis and the connection stay up would not, so the node checks it: every
/// <see cref="ClusterLiveOptions.ProbeInterval"/> it sends itself a probe through the backplane, and when one that Redis
/// accepted has not come back within <see cref="ClusterLiveOptions.ProbeTimeout"/> it closes its in-process connection
/// and opens a new one, which subscribes afresh (<see cref="Resubscriptions"/>). It does the same when the connection
/// has not been connected for that long (a reconnect that hangs), and says so in one line when Redis refuses its probes
/// for that long (it then cannot tell whether it receives). Connection attempts run one at a time.
/// </summary>
public sealed class ClusterLiveReceiver(
    RunNotifier notifier,
    ClusterLiveOrigin origin,
    InProcessHubConnectionFactory<ClusterLiveHub> connections,
    IHubContext<ClusterLiveHub, IClusterLiveClient> hub,
    IServiceProvider services,
    ILoggerFactory loggerFactory,
    IOptions<ClusterLiveOptions> options,
    ILogger<ClusterLiveReceiver> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly ClusterLiveOptions _options = options.Value;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _logGate = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private HubConnection? _connection;
    private Task _connecting = Task.CompletedTask;
    private long _received;
    private long _rejected;
    private long _lastRejectLog;
    private int _unloggedRejects;
    private int _disposed;
    private long _connections;
    private Task? _probing;
    private long _probesSent;
    private long _probesBack;
    private long _probesRefused;
    private long _refusedSince; // Stopwatch timestamp of the first refused probe in a row; 0: the last one was accepted
    private bool _refusedLogged;
    private long _notConnectedSince; // Stopwatch timestamp since the probe found the connection not connected; 0: connected
    private long _unansweredSince; // Stopwatch timestamp of the oldest probe Redis accepted that has not come back; 0: none
    private int _resubscribing;
    private long _resubscriptions;

    /// <summary>Times the node found its subscription lost (its probe did not come back) and subscribed again.</summary>
    public long Resubscriptions => Interlocked.Read(ref _resubscriptions);

    /// <summary>The in-process connection's id (tests take it out of the nodes' group to lose the subscription).</summary>
    internal string? ConnectionId => _connection?.ConnectionId;

    /// <summary>Completes once the receiver is connected to its hub (and so subscribed through the backplane).</summary>
    public Task Connected => _connected.Task;

    /// <summary>In-process connections opened so far (1 unless one was closed and replaced).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Updates accepted from workers so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Messages dropped as malformed, unknown or oversized so far.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>The connection's state and the probe's counters, for logs and a failed test's message.</summary>
    public string Describe()
    {
        var since = Interlocked.Read(ref _unansweredSince);
        return $"connection {_connection?.State.ToString() ?? "none"}, {Connections} opened, {Interlocked.Read(ref _probesSent)} probes sent, " +
               $"{Interlocked.Read(ref _probesRefused)} refused, {Interlocked.Read(ref _probesBack)} back, unanswered for {(since == 0 ? 0 : Stopwatch.GetElapsedTime(since).TotalSeconds):F1} s, " +
               $"{Resubscriptions} resubscriptions, {Received} received";
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        _connection = new HubConnection(connections, new JsonHubProtocol(), new InProcessHubConnectionFactory<ClusterLiveHub>.Address(),
            services, loggerFactory, new EveryRetryDelay());
        _connection.On<string>(nameof(IClusterLiveClient.Update), Receive);
        _connection.On<string>(nameof(IClusterLiveClient.Probe), OnProbe);
        _connection.Reconnecting += e =>
        {
            logger.LogWarning(e, "The cluster live stream's in-process connection dropped; reconnecting");
            return Task.CompletedTask;
        };
        _connection.Reconnected += _ =>
        {
            logger.LogInformation("The cluster live stream's in-process connection is back");
            return Task.CompletedTask;
        };
        _connection.Closed += e =>
        {
            // SignalR raises Closed on a task of its own, so it may arrive after a resubscription that closed the
            // connection on purpose has already opened it again: ConnectAsync then finds it connected and returns.
            if (_stopping.IsCancellationRequested || Volatile.Read(ref _resubscribing) == 1) return Task.CompletedTask;
            if (_connection.State != HubConnectionState.Disconnected) return Task.CompletedTask;
            // Closed for good by the hub side (reconnecting gave up or was refused): open a new connection.
            logger.LogWarning(e, "The cluster live stream's in-process connection closed; opening a new one");
            _connecting = ConnectAsync(_stopping.Token);
            return Task.CompletedTask;
        };
        // Connecting waits for Redis when it is down; the node serves its pages meanwhile.
        _connecting = ConnectAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task ConnectAsync(CancellationToken stopping)
    {
        try
        {
            // One attempt at a time: the Closed handler, a resubscription and the start may all want a connection.
            await _connectGate.WaitAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            await ConnectLockedAsync(stopping).ConfigureAwait(false);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task ConnectLockedAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Another attempt already connected it (or SignalR's own reconnect is under way, which the probe watches).
                if (_connection!.State != HubConnectionState.Disconnected) return;
                await _connection.StartAsync(stopping).ConfigureAwait(false);
                if (failures > 0) logger.LogInformation("Receiving the cluster's live stream after {Failures} failed attempts", failures);
                Interlocked.Increment(ref _connections);
                _connected.TrySetResult();
                if (_options.ProbeInterval > TimeSpan.Zero) _probing ??= ProbeAsync(stopping);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (failures++ == 0)
                    logger.LogWarning(e, "Cannot receive the cluster's live stream yet (is Redis up?); retrying every {Delay} s", RetryDelay.TotalSeconds);
            }
            try
            {
                await Task.Delay(RetryDelay, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Sends this node a probe through Redis every interval and subscribes again when one does not come back.</summary>
    private async Task ProbeAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.ProbeInterval, stopping).ConfigureAwait(false);
                if (_connection?.State != HubConnectionState.Connected)
                {
                    // Not connected: nothing is received either. SignalR's reconnect or ConnectAsync is trying; one that
                    // has not succeeded within the timeout (an attempt that hangs) is replaced by a fresh connection.
                    Interlocked.Exchange(ref _unansweredSince, 0);
                    if (_notConnectedSince == 0) _notConnectedSince = Stopwatch.GetTimestamp();
                    else if (Stopwatch.GetElapsedTime(_notConnectedSince) > _options.ProbeTimeout)
                    {
                        _notConnectedSince = 0;
                        await ResubscribeAsync("its in-process connection has not been connected for " +
                                               $"{_options.ProbeTimeout.TotalSeconds:0} s", stopping).ConfigureAwait(false);
                    }
                    continue;
                }
                _notConnectedSince = 0;
                var probe = $"{origin.Name}:{Interlocked.Increment(ref _probesSent)}";
                try
                {
                    // A send that neither completes nor fails within the timeout counts as refused.
                    await hub.Clients.Group(ClusterLiveHub.NodesGroup).Probe(probe).WaitAsync(_options.ProbeTimeout, stopping).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Redis refused it (down): that says nothing about the subscription, so the node cannot tell whether
                    // it still receives; one line when that has lasted a while, one when Redis takes probes again.
                    Interlocked.Exchange(ref _unansweredSince, 0);
                    Interlocked.Increment(ref _probesRefused);
                    if (_refusedSince == 0) _refusedSince = Stopwatch.GetTimestamp();
                    else if (!_refusedLogged && Stopwatch.GetElapsedTime(_refusedSince) > _options.ProbeTimeout)
                    {
                        _refusedLogged = true;
                        logger.LogWarning(e, "This node cannot send through Redis for {Seconds:0} s, so it cannot check that it still receives the " +
                                             "cluster's live stream; its pages read runs from the database meanwhile", Stopwatch.GetElapsedTime(_refusedSince).TotalSeconds);
                    }
                    continue;
                }
                if (_refusedLogged)
                    logger.LogInformation("This node sends through Redis again after {Seconds:0} s", Stopwatch.GetElapsedTime(_refusedSince).TotalSeconds);
                _refusedSince = 0;
                _refusedLogged = false;
                Interlocked.CompareExchange(ref _unansweredSince, Stopwatch.GetTimestamp(), 0);
                var since = Interlocked.Read(ref _unansweredSince);
                if (since != 0 && Stopwatch.GetElapsedTime(since) > _options.ProbeTimeout)
                    await ResubscribeAsync($"this node's probe, accepted by Redis, did not come back within {_options.ProbeTimeout.TotalSeconds:0} s",
                        stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Checking the cluster live stream's subscription failed; trying again");
            }
        }
    }

    private void OnProbe(string probe)
    {
        // Any of this node's own probes coming back shows that its subscription receives.
        if (!probe.StartsWith(origin.Name + ":", StringComparison.Ordinal)) return;
        Interlocked.Increment(ref _probesBack);
        Interlocked.Exchange(ref _unansweredSince, 0);
    }

    private async Task ResubscribeAsync(string why, CancellationToken stopping)
    {
        if (Interlocked.Exchange(ref _resubscribing, 1) == 1) return;
        try
        {
            Interlocked.Increment(ref _resubscriptions);
            logger.LogWarning("The cluster live stream's subscription through Redis stopped receiving: {Why}. Subscribing again", why);
            await _connection!.StopAsync(stopping).ConfigureAwait(false);
            await ConnectAsync(stopping).ConfigureAwait(false);
            Interlocked.Exchange(ref _unansweredSince, 0);
        }
        finally
        {
            Volatile.Write(ref _resubscribing, 0);
        }
    }

    /// <summary>Checks and re-publishes one message; exposed for tests of the hostile-input rule.</summary>
    internal void Receive(string message)
    {
        if (!ClusterLiveMessage.TryDecode(message, _options.MaxMessageChars, out var from, out var update, out var error))
        {
            Interlocked.Increment(ref _rejected);
            LogRejected(error);
            return;
        }
        if (from == origin.Name) return; // this node published it already
        Interlocked.Increment(ref _received);
        notifier.PublishForwarded(update!);
    }

    private void LogRejected(string error)
    {
        int unlogged;
        lock (_logGate)
        {
            var now = Stopwatch.GetTimestamp();
            if (_lastRejectLog != 0 && Stopwatch.GetElapsedTime(_lastRejectLog, now) < TimeSpan.FromSeconds(1))
            {
                _unloggedRejects++;
                return;
            }
            _lastRejectLog = now;
            unlogged = _unloggedRejects;
            _unloggedRejects = 0;
        }
        logger.LogWarning("Dropped a live message from the cluster backplane: {Error} ({Unlogged} more dropped since the last such line)", error, unlogged);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _connecting.ConfigureAwait(false);
        if (_probing is not null) await _probing.ConfigureAwait(false);
        try
        {
            if (_connection is not null) await _connection.StopAsync(cancellationToken).ConfigureAwait(false);
            // The hub side ends on its own task: let it finish while the host's services still exist.
            await connections.WhenClosedAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            // The host's shutdown time ran out first (e.g. Kestrel waited for a browser that reconnected as the node
            // stopped): stopping goes on without waiting; the connection ends with the process.
            logger.LogWarning("Stopped without waiting for the cluster live stream's in-process connection to close ({Reason})", e.GetType().Name);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // The container disposes it twice (as itself and as the hosted service it also is).
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>The in-process connection only ends when the hub side fails: try again every second, forever.</summary>
    private sealed class EveryRetryDelay : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => RetryDelay;
    }
}
