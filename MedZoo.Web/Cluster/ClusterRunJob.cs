using System.Text.Json.Nodes;
using Hangfire;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;

using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// One run's training session on a <c>medzoo worker</c>: the Hangfire job a web node enqueues for a run. It trains
/// only a run that still wants it (a deleted or stopped run's job completes without training), on a device of this
/// worker, through the same <see cref="IRunExecutor"/> as the embedded mode, with events published to this process's
/// <see cref="RunNotifier"/> (whose <see cref="RunEventRecorder"/> writes them to PostgreSQL). The dashboard's pause,
/// resume and stop reach it through the run's placement, polled every <see cref="ControlPollInterval"/>; the trainer
/// obeys them at its next batch. A run found running or paused belonged to a worker that vanished (Hangfire hands a job
/// to another worker only when its holder stopped renewing it): it resumes from its last checkpoint, saying so in its
/// log. When this worker shuts down, its runs stop at a batch boundary and go back to the queue to resume elsewhere.
/// </summary>
public sealed class ClusterRunJob(
    IRunStore runs,
    RunNotifier notifier,
    RunEventRecorder recorder,
    IRunExecutor executor,
    IRunCheckpointStore checkpoints,
    IRunPlacementStore placements,
    WorkerIdentity worker,
    TimeProvider clock,
    ILogger<ClusterRunJob> logger)
{
    /// <summary>How often a training run reads its requested state.</summary>
    public static readonly TimeSpan ControlPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Trains run <paramref name="runId"/> taken from <paramref name="queue"/>; <paramref name="shutdown"/> is the worker's (Hangfire passes it).</summary>
    [AutomaticRetry(Attempts = 0)]
    public void Run(string runId, string queue, CancellationToken shutdown)
    {
        var run = runs.Get(runId);
        if (run is null || run.Status.IsFinished())
        {
            logger.LogInformation("Run {RunId} is {State}: its job ends without training", runId, run is null ? "deleted" : run.Status.ToString());
            return;
        }
        var session = Guid.NewGuid().ToString("N");
        var device = worker.Acquire(queue, runId);
        try
        {
            Train(runId, device, session, shutdown);
        }
        finally
        {
            worker.Release(device, runId);
            try
            {
                placements.Release(runId, session);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Could not release the placement of run {RunId}", runId);
            }
        }
    }

    private void Train(string runId, string device, string session, CancellationToken shutdown)
    {
        var before = placements.Assign(runId, worker.Name, device, session);
        var control = new TrainingControl();
        var state = new SessionState();
        string? failure = null;
        RunRecord? started = null;
        try
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var takeover = false;
            var resume = false;
            var stored = runs.Update(runId, r =>
            {
                // Running or paused with its job handed to us: the worker that held it is gone.
                takeover = r.Status.IsActive();
                if (r.Status != RunStatus.Queued && !takeover) return;
                if (before?.Requested == RequestedState.Stopped && takeover)
                {
                    // Stopped from the dashboard while its worker was gone: nothing left to obey but the stop.
                    RunProjection.EndSession(r, now);
                    r.Status = RunStatus.Stopped;
                    r.Reason = $"stopped while worker {before.Worker ?? "?"} was gone";
                    return;
                }
                resume = r.ResumeRequested || (takeover && checkpoints.Find(runId, "last") is not null);
                if (takeover) RunProjection.EndSession(r, now);
                RunProjection.BeginSession(r, now);
                r.ResumeRequested = resume;
            });
            if (stored is null || stored.Status != RunStatus.Running)
            {
                logger.LogInformation("Run {RunId} was {State} when its job started; not training it", runId, stored?.Status.ToString() ?? "deleted");
                if (stored is { Status: RunStatus.Stopped }) notifier.PublishStatus(runId, RunStatus.Stopped, stored.Reason);
                return;
            }
            started = stored;
            notifier.BeginRun(runId, stored.LastSeq);
            notifier.PublishStatus(runId, RunStatus.Running);
            notifier.Publish(new RunLog
            {
                RunId = runId,
                Level = takeover ? RunLogLevel.Warning : RunLogLevel.Info,
                Message = takeover
                    ? $"resumed on worker {worker.Name} after worker {before?.Worker ?? before?.PreviousWorker ?? "?"} vanished" +
                      (resume ? " (from its last checkpoint)" : " (it had no checkpoint yet: starting over)")
                    : $"running on worker {worker.Name} ({device})" + (resume ? ", from its last checkpoint" : ""),
            });
            logger.LogInformation("Run {RunId} ({Name}) started on {Device}{Resume}", runId, stored.Name, device, resume ? " from its last checkpoint" : "");
            using var stopOnShutdown = shutdown.Register(() =>
            {
                state.ByServer = !control.IsStopRequested;
                control.Stop("the worker is shutting down");
            });
            using var poll = new Timer(_ => Poll(runId, session, control, state), null, TimeSpan.Zero, ControlPollInterval);
            executor.Execute(new RunExecution(runId, WithDevice(stored.ConfigJson, device), resume, new NotifierObserver(notifier), control, checkpoints));
        }
        catch (Exception e)
        {
            failure = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0].Message : e.Message;
            logger.LogError(e, "Run {RunId} failed", runId);
        }
        if (started is null) return;
        if (state.Lost)
        {
            // Another worker holds the run now (this one was taken for gone): it records the run's end, not this one.
            recorder.FlushAsync().GetAwaiter().GetResult();
            logger.LogWarning("Run {RunId} was taken over by another worker; this worker stopped training it", runId);
            return;
        }
        Finish(runId, failure, control, state.ByServer);
        // Hangfire puts a job whose worker shuts down back in its queue when it ends with a cancellation.
        if (state.ByServer) throw new OperationCanceledException($"worker {worker.Name} shut down while training run {runId}; it is queued again", shutdown);
    }

    // Applies the dashboard's latest request; a run whose placement another job took is stopped here (it is trained there).
    private void Poll(string runId, string session, TrainingControl control, SessionState state)
    {
        try
        {
            var p = placements.Get(runId);
            if (p is null || p.Session != session)
            {
                state.Lost = true;
                control.Stop($"run {runId} was taken over by worker {p?.Worker ?? "?"}");
                return;
            }
            switch (p.Requested)
            {
                case RequestedState.Stopped when !control.IsStopRequested:
                    if (p.Reason is { } reason) control.Stop(reason);
                    else control.Stop();
                    break;
                case RequestedState.Paused when !control.IsPaused: control.Pause(); break;
                case RequestedState.Running when control.IsPaused: control.Resume(); break;
            }
        }
        catch (Exception e)
        {
            // The database may be restarting: the run keeps training and the next poll tries again.
            logger.LogWarning(e, "Could not read the requested state of run {RunId}", runId);
        }
    }

    private void Finish(string runId, string? failure, TrainingControl control, bool byServer)
    {
        recorder.FlushAsync().GetAwaiter().GetResult();
        if (runs.Get(runId) is not { } stored) return;
        if (failure is not null && stored.Status != RunStatus.Failed)
        {
            notifier.Publish(new RunFinished
            {
                RunId = runId, Outcome = RunOutcome.Failed, Reason = failure, EpochsCompleted = stored.EpochsCompleted,
                BestEpoch = stored.BestEpoch, BestMeanForegroundDice = stored.BestMeanDice,
            });
        }
        if (byServer && failure is null)
            notifier.Publish(new RunLog { RunId = runId, Level = RunLogLevel.Warning, Message = $"worker {worker.Name} is shutting down: the run is queued again and resumes from its last checkpoint" });
        recorder.FlushAsync().GetAwaiter().GetResult();
        var now = clock.GetUtcNow().UtcDateTime;
        var hasCheckpoint = checkpoints.Find(runId, "last") is not null;
        var final = runs.Update(runId, r =>
        {
            if (byServer && failure is null)
            {
                if (r.SessionStartedAt is not null) RunProjection.EndSession(r, now);
                r.Status = RunStatus.Queued;
                r.ResumeRequested = hasCheckpoint;
                r.Reason = null;
                r.FinishedAt = null;
                return;
            }
            if (failure is not null)
            {
                r.Status = RunStatus.Failed;
                r.Reason = failure;
            }
            else if (!r.Status.IsFinished())
            {
                r.Status = control.IsStopRequested ? RunStatus.Stopped : RunStatus.Completed;
            }
            r.ResumeRequested = false;
            if (r.SessionStartedAt is not null || r.FinishedAt is null) RunProjection.EndSession(r, now);
        });
        if (final is null) return;
        logger.LogInformation("Run {RunId} ended its session on {Worker}: {Status}{Reason}", runId, worker.Name, final.Status, final.Reason is null ? "" : " (" + final.Reason + ")");
        notifier.PublishStatus(runId, final.Status, final.Reason);
    }

    /// <summary>The run's configuration with its device set to the worker's device it was given.</summary>
    internal static string WithDevice(string configJson, string device)
    {
        if (JsonNode.Parse(configJson) is not JsonObject o) return configJson;
        var key = o.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, "Device", StringComparison.OrdinalIgnoreCase)) ?? "device";
        o[key] = device;
        return o.ToJsonString();
    }

    private sealed class SessionState
    {
        /// <summary>The worker is shutting down and stopped the run (it goes back to the queue).</summary>
        public volatile bool ByServer;

        /// <summary>Another job execution took the run's placement (this worker was taken for gone).</summary>
        public volatile bool Lost;
    }
}
