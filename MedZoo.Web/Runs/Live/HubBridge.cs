using System.Diagnostics;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// Forwards runs' updates from the notifier to the hub connections that subscribed to them, each
/// connection through its own bounded queue and its own send loop. SignalR's group send completes
/// only when every member's transport has taken the message, so awaiting group sends one after
/// another let one stalled client hold up every other; here a stalled connection holds up only its
/// own queue. Step and preview updates in a queue are dropped oldest-first beyond
/// <see cref="LiveOptions.StepBacklog"/>; every other update is delivered in order or, beyond
/// <see cref="LiveOptions.EventBacklog"/>, the connection is disconnected (it resubscribes and reads
/// what it missed over HTTP). The notifier's subscriber only routes, so it never waits on a client.
/// Steps are thinned per run to one per <see cref="LiveOptions.HubStepInterval"/> before they reach
/// any queue: the step held back last goes out just before the run's next other update.
/// </summary>
public sealed class HubBridge(
    RunNotifier notifier,
    IHubContext<TrainingHub, ITrainingClient> hub,
    IOptions<LiveOptions> options,
    ILogger<HubBridge> logger) : IHostedService, IDisposable
{
    /// <summary>Capacity of the bridge's own notifier subscription (routing drains it without waiting on clients).</summary>
    public const int RoutingCapacity = 4096;

    private readonly LiveOptions _options = Validated(options.Value);
    private readonly ILogger _logger = logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Outbox> _connections = new(StringComparer.Ordinal);
    // Copy-on-write arrays, so routing reads them under the lock and posts outside it.
    private readonly Dictionary<string, Outbox[]> _watchers = new(StringComparer.Ordinal);
    // Per run: when a step was last forwarded, and the newest step held back since (guarded by _gate).
    private readonly Dictionary<string, StepThinning> _thinning = new(StringComparer.Ordinal);
    private readonly long _stepIntervalTicks = (long)(options.Value.HubStepInterval.TotalSeconds * Stopwatch.Frequency);
    private IDisposable? _subscription;
    private long _droppedSteps;
    private long _thinnedSteps;
    private long _disconnected;

    /// <summary>Step and preview updates dropped so far for connections that fell behind.</summary>
    public long DroppedSteps => Interlocked.Read(ref _droppedSteps);

    /// <summary>Connections disconnected so far because more than <see cref="LiveOptions.EventBacklog"/> updates waited for them.</summary>
    public long Disconnected => Interlocked.Read(ref _disconnected);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = notifier.Subscribe(null, u =>
        {
            Route(u);
            return ValueTask.CompletedTask;
        }, RoutingCapacity);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts forwarding <paramref name="runId"/>'s updates to a connection; <paramref name="abort"/>
    /// disconnects it (called when it falls too far behind).
    /// </summary>
    public void Watch(string connectionId, string runId, Action abort)
    {
        ArgumentNullException.ThrowIfNull(abort);
        lock (_gate)
        {
            if (!_connections.TryGetValue(connectionId, out var box))
                _connections[connectionId] = box = new Outbox(this, connectionId, abort);
            if (!box.Runs.Add(runId)) return;
            _watchers[runId] = _watchers.TryGetValue(runId, out var boxes) ? [.. boxes, box] : [box];
        }
    }

    /// <summary>Stops forwarding one run's updates to a connection.</summary>
    public void Unwatch(string connectionId, string runId)
    {
        lock (_gate)
        {
            if (_connections.TryGetValue(connectionId, out var box) && box.Runs.Remove(runId)) RemoveWatcher(runId, box);
        }
    }

    /// <summary>Forgets a connection (it disconnected): its queue is discarded.</summary>
    public void Forget(string connectionId)
    {
        Outbox? box;
        lock (_gate)
        {
            if (!_connections.Remove(connectionId, out box)) return;
            foreach (var runId in box.Runs) RemoveWatcher(runId, box);
            box.Runs.Clear();
        }
        box.Close();
    }

    /// <summary>Updates waiting for a connection (0 for one the bridge does not know).</summary>
    public int Backlog(string connectionId)
    {
        Outbox? box;
        lock (_gate) _connections.TryGetValue(connectionId, out box);
        return box?.Count ?? 0;
    }

    /// <summary>Step updates held back by thinning so far (never queued for any connection).</summary>
    public long ThinnedSteps => Interlocked.Read(ref _thinnedSteps);

    /// <summary>
    /// Hands an update to the queue of every connection watching its run, after thinning steps:
    /// a step within <see cref="LiveOptions.HubStepInterval"/> of the last one forwarded is held
    /// back (replacing any held before it) and forwarded just before the run's next other update.
    /// Never waits.
    /// </summary>
    internal void Route(RunUpdate u)
    {
        Outbox[]? boxes;
        RunUpdate? held = null;
        lock (_gate)
        {
            _watchers.TryGetValue(u.RunId, out boxes);
            if (u.Event is StepCompleted && _stepIntervalTicks > 0)
            {
                if (!_thinning.TryGetValue(u.RunId, out var t)) _thinning[u.RunId] = t = new StepThinning();
                var now = Stopwatch.GetTimestamp();
                if (t.LastForwarded != 0 && now - t.LastForwarded < _stepIntervalTicks)
                {
                    if (t.Held is not null) Interlocked.Increment(ref _thinnedSteps);
                    t.Held = u;
                    return;
                }
                t.LastForwarded = now;
                if (t.Held is not null) Interlocked.Increment(ref _thinnedSteps);
                t.Held = null;
            }
            else if (_thinning.TryGetValue(u.RunId, out var t))
            {
                held = t.Held;
                t.Held = null;
                if (u.Event is RunFinished) _thinning.Remove(u.RunId);
            }
        }
        if (boxes is null) return;
        foreach (var box in boxes)
        {
            if (held is not null) box.Post(held);
            box.Post(u);
        }
    }

    private void RemoveWatcher(string runId, Outbox box)
    {
        if (!_watchers.TryGetValue(runId, out var boxes)) return;
        var rest = boxes.Where(b => b != box).ToArray();
        if (rest.Length == 0) _watchers.Remove(runId);
        else _watchers[runId] = rest;
    }

    private void Overflowed(Outbox box)
    {
        Interlocked.Increment(ref _disconnected);
        _logger.LogWarning("Hub connection {ConnectionId} fell more than {Backlog} run updates behind; disconnecting it (it can subscribe again)",
            box.ConnectionId, _options.EventBacklog);
        Forget(box.ConnectionId);
        try
        {
            box.Abort();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Could not disconnect hub connection {ConnectionId}", box.ConnectionId);
        }
    }

    private Task SendAsync(string connectionId, RunUpdate u)
    {
        var c = hub.Clients.Client(connectionId);
        return u.Event switch
        {
            RunStarted e => c.RunStarted(u.Seq, e),
            StepCompleted e => c.StepCompleted(u.Seq, e),
            EpochCompleted e => c.EpochCompleted(u.Seq, e),
            SlicePreview e => c.SlicePreview(u.Seq, e),
            CheckpointSaved e => c.CheckpointSaved(u.Seq, e),
            RunStateChanged e => c.RunStateChanged(u.Seq, e),
            RunLog e => c.RunLog(u.Seq, e),
            RunFinished e => c.RunFinished(u.Seq, e),
            RunStatusChanged e => c.RunStatusChanged(e),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>Steps and previews are frequent and superseded by the next one: a client that falls behind may skip them.</summary>
    private static bool IsDroppable(TrainingEvent e) => e is StepCompleted or SlicePreview;

    private static LiveOptions Validated(LiveOptions o)
    {
        o.Validate();
        return o;
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
        Outbox[] boxes;
        lock (_gate)
        {
            boxes = [.. _connections.Values];
            _connections.Clear();
            _watchers.Clear();
            _thinning.Clear();
        }
        foreach (var box in boxes) box.Close();
    }

    private sealed class StepThinning
    {
        public long LastForwarded;
        public RunUpdate? Held;
    }

    /// <summary>
    /// One connection's queue, in sequence order, and the send loop that drains it (started when
    /// something is queued, ended when the queue is empty, so idle connections hold no task).
    /// </summary>
    private sealed class Outbox(HubBridge owner, string connectionId, Action abort)
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<RunUpdate> _queue = new();
        // The droppable nodes of _queue, oldest first (a subsequence of it, so its head leaves first).
        private readonly Queue<LinkedListNode<RunUpdate>> _droppable = new();
        private bool _pumping;
        private bool _closed;

        public string ConnectionId => connectionId;

        /// <summary>Runs this connection watches (guarded by the bridge's lock).</summary>
        public HashSet<string> Runs { get; } = new(StringComparer.Ordinal);

        public int Count
        {
            get
            {
                lock (_gate) return _queue.Count;
            }
        }

        public void Abort() => abort();

        public void Post(RunUpdate u)
        {
            bool start = false, overflow = false;
            lock (_gate)
            {
                if (_closed) return;
                var node = _queue.AddLast(u);
                if (IsDroppable(u.Event))
                {
                    _droppable.Enqueue(node);
                    if (_droppable.Count > owner._options.StepBacklog)
                    {
                        _queue.Remove(_droppable.Dequeue());
                        Interlocked.Increment(ref owner._droppedSteps);
                    }
                }
                else if (_queue.Count - _droppable.Count > owner._options.EventBacklog)
                {
                    overflow = true;
                }
                if (!overflow && !_pumping) start = _pumping = true;
            }
            if (overflow) owner.Overflowed(this);
            else if (start) _ = Task.Run(PumpAsync);
        }

        public void Close()
        {
            lock (_gate)
            {
                _closed = true;
                _queue.Clear();
                _droppable.Clear();
            }
        }

        private async Task PumpAsync()
        {
            while (true)
            {
                RunUpdate u;
                lock (_gate)
                {
                    if (_closed || _queue.First is not { } first)
                    {
                        _pumping = false;
                        return;
                    }
                    _queue.RemoveFirst();
                    if (_droppable.TryPeek(out var oldest) && oldest == first) _droppable.Dequeue();
                    u = first.Value;
                }
                try
                {
                    await owner.SendAsync(connectionId, u).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // One client's failure is its own: log it and keep delivering.
                    owner._logger.LogWarning(e, "Could not send an update of run {RunId} to hub connection {ConnectionId}", u.RunId, connectionId);
                }
            }
        }
    }
}
