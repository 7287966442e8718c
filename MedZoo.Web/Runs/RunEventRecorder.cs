using System.Threading.Channels;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Runs;

/// <summary>
/// Writes run events to the run stores on its own task. <see cref="Enqueue"/> is called on training
/// threads and only adds to a queue: bulk updates (steps, slice previews) are dropped once
/// <see cref="MaxBacklog"/> are waiting, so a stalled disk cannot grow memory without bound;
/// events that change a run's state (epochs, checkpoints, finish) are always kept, in order.
/// The writer drains the queue in batches, one store transaction per batch (<see cref="IRunStore.WriteBatch"/>). A process killed
/// mid-run loses at most the updates still queued, a fraction of a second's worth. A batch that
/// fails is written again one update at a time, so one bad update (a hostile journal line) costs
/// only itself; updates that still fail are counted per run (<see cref="FailedUpdates"/>) so that
/// whoever fed them (the journal importer) can keep them for another try. Every write is
/// idempotent: a metric point is keyed by run and step (or epoch), an event line by run and
/// sequence number, so a replay after a resume or a re-imported journal line never duplicates.
/// The trainer reports an epoch only after its checkpoint is stored, so a crash in between leaves
/// the checkpoint without the epoch's point: when a checkpoint is recorded, and when a run resumes,
/// the epochs in the checkpoint's own history that have no point yet are stored from it.
/// </summary>
public sealed class RunEventRecorder(IRunStore runs, IMetricStore metrics, IRunEventStore events, IPreviewStore previews,
    ILogger<RunEventRecorder> logger, IRunCheckpointStore? checkpoints = null) : BackgroundService
{
    /// <summary>Queued bulk updates beyond which new ones are dropped.</summary>
    public const int MaxBacklog = 10_000;

    private const int BatchSize = 512;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _failed = new(StringComparer.Ordinal);
    private readonly List<(string RunId, string Kind, long Seq)> _backfills = []; // the writer task's only
    private long _dropped;
    private bool _stopping;
    private long _backlog; // counted here: a single-reader channel cannot count its items

    /// <summary>Bulk updates dropped because the writer fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Updates of <paramref name="runId"/> that could not be written so far (only grows).</summary>
    public long FailedUpdates(string runId) => _failed.GetValueOrDefault(runId);

    /// <summary>Queues an update for writing; never blocks.</summary>
    public void Enqueue(RunUpdate update)
    {
        if (update.Event is StepCompleted or SlicePreview && Interlocked.Read(ref _backlog) >= MaxBacklog)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        Interlocked.Increment(ref _backlog);
        if (!_queue.Writer.TryWrite(new Item(update, null))) Interlocked.Decrement(ref _backlog);
    }

    /// <summary>Completes once everything queued before the call is written.</summary>
    public Task FlushAsync(CancellationToken cancellation = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Item(null, done))) done.TrySetResult();
        return done.Task.WaitAsync(cancellation);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Item>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
                DrainOnce(batch);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Shutting down: write what is still queued so a graceful stop loses nothing.
        DrainOnce(batch);
    }

    /// <summary>
    /// Stops the writer, then writes whatever is still queued. The final drain is here and not only at
    /// the end of <see cref="ExecuteAsync"/>: .NET starts ExecuteAsync with Task.Run and the stopping
    /// token, so a service stopped before that task began never runs it (seen in a test that recorded a
    /// short run and stopped at once: every update was lost).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _stopping, true);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        var task = ExecuteTask;
        if (task is null || task.IsCompleted) DrainOnce(new List<Item>(BatchSize));
    }

    private void DrainOnce(List<Item> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < BatchSize && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
                if (item.Update is not null) Interlocked.Decrement(ref _backlog);
            }
            if (batch.Count == 0) return;
            var updates = batch.Where(i => i.Update is not null).Select(i => i.Update!).ToList();
            try
            {
                WriteWaitingForTheStore(updates);
            }
            catch (Exception e) when (e is not StoreUnavailableException)
            {
                // Never let one bad update stop the recorder or take the rest of its batch with it.
                logger.LogWarning(e, "Could not record {Count} run updates in one transaction; writing them one by one", updates.Count);
                foreach (var u in updates) WriteAlone(u);
            }
            catch (StoreUnavailableException e)
            {
                // Stopping while the store is still down: these cannot be kept any longer.
                foreach (var u in updates) _failed.AddOrUpdate(u.RunId, 1, (_, n) => n + 1);
                logger.LogError(e, "Stopping with the store unreachable: {Count} run updates were not recorded", updates.Count);
            }
            // After the batch's transaction: reading a checkpoint takes the store's lock, never while holding the database's.
            foreach (var (runId, kind, seq) in _backfills.Distinct().ToList()) BackfillEpochs(runId, kind, seq);
            _backfills.Clear();
            foreach (var i in batch) i.Flushed?.TrySetResult();
        }
    }

    /// <summary>
    /// Writes a batch; while the store is unreachable (a database restart or outage, <see cref="StoreUnavailableException"/>)
    /// keeps it and tries again every second instead of dropping it, so an outage delays history but loses none of it.
    /// Gives up (throws) only once the recorder is stopping.
    /// </summary>
    private void WriteWaitingForTheStore(List<RunUpdate> updates)
    {
        var since = 0L;
        while (true)
        {
            try
            {
                runs.WriteBatch(() => Write(updates));
                if (since != 0)
                    logger.LogInformation("The store answers again: recorded {Count} run updates kept for {Seconds:0} s", updates.Count,
                        System.Diagnostics.Stopwatch.GetElapsedTime(since).TotalSeconds);
                return;
            }
            catch (StoreUnavailableException e) when (!Volatile.Read(ref _stopping))
            {
                if (since == 0)
                {
                    since = System.Diagnostics.Stopwatch.GetTimestamp();
                    logger.LogWarning(e, "The store is unreachable: keeping {Count} run updates (and those that follow) and trying again until it answers", updates.Count);
                }
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }
        }
    }

    private void WriteAlone(RunUpdate u)
    {
        try
        {
            runs.WriteBatch(() => Write([u]));
        }
        catch (Exception e)
        {
            _failed.AddOrUpdate(u.RunId, 1, (_, n) => n + 1);
            logger.LogError(e, "Could not record update {Seq} ({Type}) of run {RunId}", u.Seq, u.Event.GetType().Name, u.RunId);
        }
    }

    private void Write(List<RunUpdate> batch)
    {
        foreach (var group in batch.GroupBy(u => u.RunId))
        {
            var updates = group.ToList();
            foreach (var u in updates) WriteHistory(u);
            runs.Update(group.Key, r =>
            {
                foreach (var u in updates) RunProjection.Apply(r, u);
            });
        }
    }

    private void WriteHistory(RunUpdate u)
    {
        switch (u.Event)
        {
            case CheckpointSaved c:
                _backfills.Add((c.RunId, c.Kind, u.Seq));
                break;
            case RunStarted { StartEpoch: > 1 } s:
                _backfills.Add((s.RunId, "last", u.Seq));
                break;
        }
        var entry = RunProjection.History(u);
        if (entry.Metric is { } point) metrics.Upsert(point);
        if (entry.Preview is { } preview) previews.Upsert(preview);
        if (entry.Line is { } line) events.AddIfAbsent(line);
    }

    // Stores the epochs of the run's stored checkpoint that have no point (never overwrites one). They take the
    // number of the event that revealed them, so history pages (numbered from 1) include them where they were found.
    private void BackfillEpochs(string runId, string kind, long seq)
    {
        if (checkpoints is null) return;
        try
        {
            CheckpointHeader header;
            using (var stream = checkpoints.OpenRead(runId, kind))
            {
                if (stream is null) return;
                header = Checkpoint.ReadHeader(stream);
            }
            if (header.RunId != runId) return;
            runs.WriteBatch(() =>
            {
                foreach (var e in header.Epochs())
                {
                    if (e is null || e.RunId != runId) continue;
                    metrics.AddIfAbsent(RunProjection.EpochPoint(seq, e));
                }
            });
        }
        catch (InvalidDataException e)
        {
            logger.LogDebug(e, "The {Kind} checkpoint of run {RunId} has no readable header; no epochs taken from it", kind, runId);
        }
        catch (Exception e)
        {
            // The events themselves are stored; only the epochs a crash may have lost are not restored this time.
            logger.LogWarning(e, "Could not restore epochs of run {RunId} from its {Kind} checkpoint", runId, kind);
        }
    }

    private sealed record Item(RunUpdate? Update, TaskCompletionSource? Flushed);
}
