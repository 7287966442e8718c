using System.Collections.Concurrent;
using System.Threading.Channels;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// The singleton every run's events go through: numbers them, hands them to the recorder
/// (persistence) and fans them out to subscribers (Blazor circuits, the SignalR hub bridge).
/// <see cref="Publish"/> runs on the training thread and never blocks or waits on a consumer: the
/// recorder queue only enqueues, and each subscriber has its own bounded channel, drained by its
/// own task, that drops the oldest updates when the subscriber falls behind. A stuck or
/// disconnected viewer therefore loses frames but never slows training.
/// A short in-memory tail of each run's recent updates is replayed to a new subscriber so that
/// history read from the database (which trails the live stream by the recorder's queue) and the
/// live stream join without a gap.
/// </summary>
public sealed class RunNotifier(RunEventRecorder recorder, ILogger<RunNotifier> logger)
{
    /// <summary>Recent updates kept per run for joining history and live stream.</summary>
    public const int TailLength = 512;

    /// <summary>Default capacity of a subscriber's channel.</summary>
    public const int DefaultSubscriberCapacity = 256;

    private readonly ConcurrentDictionary<string, RunStream> _runs = new(StringComparer.Ordinal);
    private readonly Lock _globalGate = new();
    private volatile Subscription[] _global = [];

    /// <summary>Sets the sequence number a run continues from (its last recorded one) before a session starts.</summary>
    public void BeginRun(string runId, long lastSeq)
    {
        var s = Stream(runId);
        lock (s.Gate) s.Seq = Math.Max(s.Seq, lastSeq);
    }

    /// <summary>Publishes a trainer event: numbered, recorded, fanned out. Never blocks.</summary>
    public void Publish(TrainingEvent e)
    {
        var s = Stream(e.RunId);
        lock (s.Gate)
        {
            var update = new RunUpdate(++s.Seq, e);
            Deliver(s, update, record: true);
        }
    }

    /// <summary>
    /// Publishes an event that already has its number (imported from a headless run's journal); false when the number was
    /// already delivered here (a re-read journal line, or one another web node imported and forwarded), and nothing is done.
    /// </summary>
    public bool PublishNumbered(long seq, TrainingEvent e)
    {
        var s = Stream(e.RunId);
        lock (s.Gate)
        {
            if (seq <= s.Seq) return false;
            s.Seq = seq;
            Deliver(s, new RunUpdate(seq, e), record: true);
            return true;
        }
    }

    /// <summary>
    /// Publishes an update another machine numbered and recorded (a cluster worker's): fanned out and kept in the
    /// tail, never recorded again. A trainer event at or below the run's last number is a repeat and is dropped,
    /// except <see cref="RunStarted"/>, which begins a session (a run resumed elsewhere numbers on from what was
    /// recorded, which can be below what viewers saw live from a worker that vanished).
    /// </summary>
    public void PublishForwarded(RunUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var forwarded = update with { FromCluster = true };
        var s = Stream(update.RunId);
        lock (s.Gate)
        {
            if (update.Seq == 0)
            {
                Deliver(s, forwarded, record: false);
                if (update.Event is RunStatusChanged { Status: var status } && (status is null || status.Value.IsFinished())) s.Tail.Clear();
                return;
            }
            if (update.Seq <= s.Seq)
            {
                if (update.Event is not RunStarted) return;
                // The vanished session's unrecorded updates are not history: late joiners must not replay them.
                var kept = s.Tail.Where(u => u.Seq < update.Seq).ToArray();
                s.Tail.Clear();
                foreach (var u in kept) s.Tail.Enqueue(u);
            }
            s.Seq = update.Seq;
            Deliver(s, forwarded, record: false, tail: true);
        }
    }

    /// <summary>Tells viewers that a run's status changed (or that it was deleted: <paramref name="status"/> null).</summary>
    public void PublishStatus(string runId, RunStatus? status, string? reason = null)
    {
        var s = Stream(runId);
        lock (s.Gate)
        {
            Deliver(s, new RunUpdate(0, new RunStatusChanged { RunId = runId, Status = status, Reason = reason }), record: false);
            // Once a session has ended (and its events were flushed) the database holds everything: free the tail.
            if (status is null || status.Value.IsFinished()) s.Tail.Clear();
        }
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to one run (or to all runs when <paramref name="runId"/>
    /// is null). A run subscription first receives the run's recent tail. The handler runs on its
    /// own task, one update at a time; dispose the result to unsubscribe.
    /// </summary>
    public IDisposable Subscribe(string? runId, Func<RunUpdate, ValueTask> handler, int capacity = DefaultSubscriberCapacity)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var sub = new Subscription(this, runId, handler, capacity, logger);
        if (runId is null)
        {
            lock (_globalGate) _global = [.. _global, sub];
        }
        else
        {
            var s = Stream(runId);
            lock (s.Gate)
            {
                foreach (var u in s.Tail) sub.Post(u);
                s.Subscribers = [.. s.Subscribers, sub];
            }
        }
        sub.Start();
        return sub;
    }

    /// <summary>Updates dropped so far for slow subscribers, all subscribers together.</summary>
    public long DroppedForSubscribers => Interlocked.Read(ref _dropped);

    private long _dropped;

    private RunStream Stream(string runId) => _runs.GetOrAdd(runId, _ => new RunStream());

    private void Deliver(RunStream s, RunUpdate update, bool record, bool tail = false)
    {
        if (record) recorder.Enqueue(update);
        if (record || tail)
        {
            s.Tail.Enqueue(update);
            if (s.Tail.Count > TailLength) s.Tail.Dequeue();
        }
        foreach (var sub in s.Subscribers) sub.Post(update);
        foreach (var sub in _global) sub.Post(update);
    }

    private void Remove(Subscription sub)
    {
        if (sub.RunId is null)
        {
            lock (_globalGate) _global = _global.Where(x => x != sub).ToArray();
        }
        else if (_runs.TryGetValue(sub.RunId, out var s))
        {
            lock (s.Gate) s.Subscribers = s.Subscribers.Where(x => x != sub).ToArray();
        }
    }

    private sealed class RunStream
    {
        public readonly Lock Gate = new();
        public long Seq;
        public readonly Queue<RunUpdate> Tail = new();
        public Subscription[] Subscribers = [];
    }

    private sealed class Subscription : IDisposable
    {
        private readonly RunNotifier _owner;
        private readonly Func<RunUpdate, ValueTask> _handler;
        private readonly Channel<RunUpdate> _channel;
        private readonly ILogger _logger;

        public Subscription(RunNotifier owner, string? runId, Func<RunUpdate, ValueTask> handler, int capacity, ILogger logger)
        {
            _owner = owner;
            RunId = runId;
            _handler = handler;
            _logger = logger;
            _channel = Channel.CreateBounded<RunUpdate>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref owner._dropped));
        }

        public string? RunId { get; }

        public void Post(RunUpdate u) => _channel.Writer.TryWrite(u);

        public void Start() => _ = Task.Run(PumpAsync);

        private async Task PumpAsync()
        {
            await foreach (var u in _channel.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await _handler(u).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // A viewer's failure is its own: log it and keep delivering.
                    _logger.LogWarning(e, "A live subscriber of run {RunId} failed on an update", u.RunId);
                }
            }
        }

        public void Dispose()
        {
            _owner.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
