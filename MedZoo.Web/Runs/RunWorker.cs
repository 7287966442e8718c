using System.Collections.Concurrent;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Live;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Runs;

/// <summary>
/// Hosts runs: takes queued runs in order, at most <see cref="RunsOptions.MaxConcurrentRunsPerDevice"/>
/// per device, and trains each on its own long-running thread (the trainer is synchronous and
/// its dispose scopes are per thread). A run that throws is recorded as failed with its reason
/// and the server keeps serving. On start, runs the previous process was hosting are marked
/// interrupted; on a graceful stop, running runs are stopped and marked interrupted too, so both
/// can be resumed from their last checkpoint. The queue is the database itself, so queued runs
/// survive a restart.
/// </summary>
public sealed class RunWorker(
    IRunStore runs,
    RunNotifier notifier,
    RunEventRecorder recorder,
    IRunExecutor executor,
    IRunCheckpointStore checkpoints,
    IOptions<RunsOptions> options,
    TimeProvider clock,
    ILogger<RunWorker> logger) : BackgroundService
{
    /// <summary>Reason recorded for runs cut short by the server stopping.</summary>
    public const string InterruptedReason = "the server stopped while the run was in progress; resume it from its last checkpoint";

    /// <summary>Reason recorded for a queued run stopped before it started training.</summary>
    public const string CancelledReason = "cancelled before it started";

    /// <summary>
    /// Called on a run's thread after the worker took it from the queue and before it marks it
    /// running: tests stop or delete the run here to check that it then does not train.
    /// </summary>
    internal Action<string>? BeforeRunStarts { get; set; }

    /// <summary>
    /// Called on a run's thread after the trainer returned and its events are stored, before the
    /// worker settles the run's final status: tests act on the run here (e.g. resume it at once).
    /// </summary>
    internal Action<string>? BeforeRunFinishes { get; set; }

    private readonly ConcurrentDictionary<string, ActiveRun> _active = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private volatile bool _stopping;

    /// <summary>Control of a run this worker is training, or null.</summary>
    public TrainingControl? Control(string runId) => _active.TryGetValue(runId, out var a) ? a.Control : null;

    /// <summary>Ids of the runs being trained now.</summary>
    public IReadOnlyCollection<string> ActiveRunIds => _active.Keys.ToList();

    /// <summary>Asks the worker to look at the queue now.</summary>
    public void Wake() => _wake.Release();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        options.Value.Validate();
        foreach (var id in runs.MarkInterrupted(InterruptedReason, clock.GetUtcNow().UtcDateTime))
        {
            logger.LogWarning("Run {RunId} was in progress when the server last stopped; marked interrupted", id);
            notifier.PublishStatus(id, RunStatus.Interrupted, InterruptedReason);
        }
        var orphans = checkpoints.RemoveOrphans();
        if (orphans > 0) logger.LogInformation("Removed {Count} incomplete checkpoint uploads", orphans);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                StartWhatFits();
            }
            catch (Exception e)
            {
                logger.LogError(e, "The run queue could not be read");
            }
            try
            {
                // Woken by new runs and finished ones; the timeout also picks up runs queued by another path.
                await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void StartWhatFits()
    {
        var limit = options.Value.MaxConcurrentRunsPerDevice;
        foreach (var run in runs.WithStatus(RunStatus.Queued).Where(r => r.Source == RunSource.Dashboard))
        {
            if (_stopping) return;
            var device = DeviceKey(run.Device);
            if (_active.Values.Count(a => a.Device == device) >= limit || _active.ContainsKey(run.Id)) continue;
            var active = new ActiveRun(device, new TrainingControl());
            if (!_active.TryAdd(run.Id, active)) continue;
            var thread = new Thread(() => Train(run.Id, active)) { IsBackground = true, Name = $"medzoo run {run.Id}" };
            active.Thread = thread;
            thread.Start();
        }
    }

    private static string DeviceKey(string device)
    {
        var d = string.IsNullOrWhiteSpace(device) ? "auto" : device.Trim().ToLowerInvariant();
        return d == "cuda" ? "cuda:0" : d;
    }

    private void Train(string runId, ActiveRun active)
    {
        string? failure = null;
        RunRecord? run = null;
        try
        {
            BeforeRunStarts?.Invoke(runId);
            var now = clock.GetUtcNow().UtcDateTime;
            var cancelled = false;
            // Only a run that is still queued starts: one stopped (or deleted) since the queue was
            // read stays as it is, and one stopped through its control in this window is cancelled.
            var stored = runs.Update(runId, r =>
            {
                // The server shutting down leaves a run that has not started queued for the next start.
                if (r.Status != RunStatus.Queued || active.StoppedByServer) return;
                if (active.Control.IsStopRequested)
                {
                    cancelled = true;
                    r.Status = RunStatus.Stopped;
                    r.Reason = CancelledReason;
                    r.ResumeRequested = false;
                    r.FinishedAt = now;
                    return;
                }
                RunProjection.BeginSession(r, now);
            });
            if (stored is null || stored.Status != RunStatus.Running)
            {
                // Not started, so nothing to finish (run stays null); the cleanup below still runs.
                if (cancelled) notifier.PublishStatus(runId, RunStatus.Stopped, CancelledReason);
                logger.LogInformation("Run {RunId} was {State} before it started; not training it", runId, stored is null ? "deleted" : stored.Status.ToString());
            }
            else
            {
                run = stored;
                notifier.BeginRun(runId, run.LastSeq);
                notifier.PublishStatus(runId, RunStatus.Running);
                logger.LogInformation("Run {RunId} ({Name}) started{Resume}", runId, run.Name, run.ResumeRequested ? " from its last checkpoint" : "");
                // A stop that came after the run was marked running but before training began: it ends stopped (see Finish).
                if (!active.Control.IsStopRequested)
                    executor.Execute(new RunExecution(runId, run.ConfigJson, run.ResumeRequested, new NotifierObserver(notifier), active.Control, checkpoints));
            }
        }
        catch (Exception e)
        {
            failure = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0].Message : e.Message;
            logger.LogError(e, "Run {RunId} failed", runId);
        }
        try
        {
            Finish(runId, run, active, failure);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not record the end of run {RunId}", runId);
        }
        finally
        {
            // The control is not disposed: a page may still hold it and call Stop() after the run ended.
            _active.TryRemove(runId, out _);
            active.Done.TrySetResult();
            Wake();
        }
    }

    private void Finish(string runId, RunRecord? started, ActiveRun active, string? failure)
    {
        if (started is null) return;
        // The trainer's own events (RunFinished above all) must be stored before the final status is decided.
        recorder.FlushAsync().GetAwaiter().GetResult();
        BeforeRunFinishes?.Invoke(runId);
        var stored = runs.Get(runId);
        if (stored is null) return;
        var now = clock.GetUtcNow().UtcDateTime;
        if (failure is not null && stored.Status != RunStatus.Failed)
        {
            // The trainer threw without reporting: publish the finish so viewers and the log see why.
            notifier.Publish(new RunFinished
            {
                RunId = runId, Outcome = RunOutcome.Failed, Reason = failure, EpochsCompleted = stored.EpochsCompleted,
                BestEpoch = stored.BestEpoch, BestMeanForegroundDice = stored.BestMeanDice,
            });
            recorder.FlushAsync().GetAwaiter().GetResult();
        }
        var requeued = false;
        var final = runs.Update(runId, r =>
        {
            // Resumed by a user between the trainer's end and this: the run waits for its next session,
            // which the worker starts once this one has let go of it (a stop must not undo that resume).
            if (r.Status == RunStatus.Queued && r.ResumeRequested && failure is null && !active.StoppedByServer)
            {
                requeued = true;
                if (r.SessionStartedAt is { } session)
                {
                    r.ActiveSeconds += Math.Max(0, (now - session).TotalSeconds);
                    r.SessionStartedAt = null;
                }
                return;
            }
            // Only a stop the server itself asked for is an interruption: a user's stop that the
            // trainer has not finished honouring when the server shuts down stays a stop.
            if (active.StoppedByServer && failure is null && (r.Status == RunStatus.Stopped || !r.Status.IsFinished()))
            {
                r.Status = RunStatus.Interrupted;
                r.Reason = InterruptedReason;
            }
            else if (failure is not null)
            {
                r.Status = RunStatus.Failed;
                r.Reason = failure;
            }
            else if (!r.Status.IsFinished())
            {
                // The executor returned without a RunFinished event.
                r.Status = active.Control.IsStopRequested ? RunStatus.Stopped : RunStatus.Completed;
            }
            r.ResumeRequested = false;
            if (r.SessionStartedAt is not null || r.FinishedAt is null) RunProjection.EndSession(r, now);
        });
        if (requeued)
        {
            logger.LogInformation("Run {RunId} ended its session and is queued again: it was resumed while finishing", runId);
            return;
        }
        if (final is not null)
        {
            logger.LogInformation("Run {RunId} ended: {Status}{Reason}", runId, final.Status, final.Reason is null ? "" : " (" + final.Reason + ")");
            notifier.PublishStatus(runId, final.Status, final.Reason);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var active = _active.Values.ToList();
        foreach (var a in active)
        {
            if (!a.Control.IsStopRequested) a.StoppedByServer = true;
            a.Control.Stop();
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // Wait for the trainers to reach a batch boundary and record their end (bounded by the host's shutdown timeout).
        try
        {
            await Task.WhenAll(active.Select(a => a.Done.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Shutdown did not wait for {Count} runs to stop; they will be marked interrupted on the next start", active.Count);
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private sealed class ActiveRun(string device, TrainingControl control)
    {
        public string Device { get; } = device;
        public TrainingControl Control { get; } = control;
        public Thread? Thread { get; set; }
        /// <summary>The server stopped this run because it is shutting down (the run is interrupted, not stopped).</summary>
        public volatile bool StoppedByServer;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
