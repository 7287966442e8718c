using System.Security.Claims;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Placement;

namespace MedZoo.Web.Runs;

/// <summary>
/// What users do to runs: start (queue), pause, resume, stop, continue an interrupted run, delete.
/// Every action checks the caller's role here, on the server, whatever the UI shows.
/// </summary>
public sealed class RunService(
    IRunStore runs, RunWorker worker, IRunExecutor executor, RunNotifier notifier, IRunCheckpointStore checkpoints, TimeProvider clock,
    IClusterRuns? cluster = null)
{
    /// <summary>
    /// Queues a new run of <paramref name="configuration"/> (an object of the executor's
    /// <see cref="RunForm.ConfigurationType"/>), checked once here; throws
    /// <see cref="Engine.InvalidOptionException"/> naming the invalid option, or
    /// <see cref="ArgumentException"/> for another problem. The run stores it as JSON.
    /// </summary>
    public RunRecord Start(ClaimsPrincipal user, string name, object configuration, RunSource source = RunSource.Dashboard)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        user.DemandOperator("start runs");
        var plan = executor.Describe(configuration);
        var configJson = RunConfigJson.Serialize(configuration);
        var now = NextCreatedAt();
        var id = NewRunId(now);
        var run = new RunRecord
        {
            Id = id,
            Name = string.IsNullOrWhiteSpace(name) ? DefaultName(plan, PresetOf(configJson), now, id) : name.Trim(),
            Status = RunStatus.Queued,
            Source = source,
            CreatedBy = user.Identity?.Name ?? "",
            CreatedAt = now,
            Model = plan.Model,
            Dataset = plan.Dataset,
            Epochs = plan.Epochs,
            Device = plan.Device,
            ConfigJson = configJson,
        };
        runs.Insert(run);
        notifier.PublishStatus(run.Id, RunStatus.Queued);
        worker.Wake();
        cluster?.Enqueue(run);
        return run;
    }

    /// <summary>
    /// Queues a new run from configuration JSON (the HTTP API's body): read as the executor's
    /// configuration type, then started as <see cref="Start(ClaimsPrincipal, string, object, RunSource)"/>.
    /// </summary>
    public RunRecord Start(ClaimsPrincipal user, string name, string configJson, RunSource source = RunSource.Dashboard)
    {
        user.DemandOperator("start runs");
        return Start(user, name, RunConfigJson.Deserialize(configJson, executor.Form.ConfigurationType), source);
    }

    /// <summary>
    /// The name of a run started without one. Every run of a model on a dataset used to read
    /// "UNET3D on synthetic"; the preset it came from (when unchanged), the server's local start
    /// time and the end of its id tell runs apart in lists, legends and reviews.
    /// </summary>
    public static string DefaultName(RunPlan plan, string? preset, DateTime createdUtc, string id)
    {
        var local = createdUtc.ToLocalTime().ToString("MMM d HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        var shortId = id.Length > 6 ? id[^6..] : id;
        // "synthetic: demo" on dataset synthetic reads "(demo)": the dataset is already in the name.
        if (preset is not null && preset.StartsWith(plan.Dataset + ":", StringComparison.OrdinalIgnoreCase))
            preset = preset[(plan.Dataset.Length + 1)..].Trim();
        return $"{plan.Model} on {plan.Dataset}{(string.IsNullOrEmpty(preset) ? "" : $" ({preset})")} · {local} · #{shortId}";
    }

    // The preset a configuration is exactly (a form left as the preset filled it), or null when edited.
    private string? PresetOf(string configJson) =>
        executor.Form.Presets.FirstOrDefault(p => RunConfigJson.Serialize(p.Create()) == configJson)?.Name;

    private readonly Lock _createdGate = new();
    private DateTime _lastCreated;

    /// <summary>
    /// Creation times strictly increase, at the millisecond precision LiteDB keeps: the queue is
    /// ordered by them, and two runs started within one millisecond once ran in the wrong order
    /// (the second first), leaving the first queued behind it.
    /// </summary>
    private DateTime NextCreatedAt()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
        lock (_createdGate)
        {
            if (now <= _lastCreated) now = _lastCreated.AddMilliseconds(1);
            _lastCreated = now;
            return now;
        }
    }

    /// <summary>Pauses a running run after its current batch.</summary>
    public bool Pause(ClaimsPrincipal user, string runId)
    {
        user.DemandOperator("pause runs");
        if (cluster is not null) return cluster.Request(runId, RequestedState.Paused);
        return worker.Control(runId) is { } c && Do(c.Pause);
    }

    /// <summary>Lets a paused run continue.</summary>
    public bool Resume(ClaimsPrincipal user, string runId)
    {
        user.DemandOperator("resume runs");
        if (cluster is not null) return cluster.Request(runId, RequestedState.Running);
        return worker.Control(runId) is { } c && Do(c.Resume);
    }

    /// <summary>Stops a running run after its current batch, or cancels a queued one.</summary>
    public bool Stop(ClaimsPrincipal user, string runId)
    {
        user.DemandOperator("stop runs");
        if (cluster?.Request(runId, RequestedState.Stopped) == true) return true;
        if (worker.Control(runId) is { } c) return Do(c.Stop);
        var cancelled = runs.Update(runId, r =>
        {
            if (r.Status != RunStatus.Queued) return;
            r.Status = RunStatus.Stopped;
            r.Reason = RunWorker.CancelledReason;
            r.FinishedAt = clock.GetUtcNow().UtcDateTime;
        });
        if (cancelled?.Status != RunStatus.Stopped) return false;
        notifier.PublishStatus(runId, RunStatus.Stopped, cancelled.Reason);
        return true;
    }

    /// <summary>
    /// Queues a finished run (interrupted, stopped or failed) to continue from its last
    /// checkpoint; its metric series continue where they ended.
    /// </summary>
    public RunRecord Continue(ClaimsPrincipal user, string runId)
    {
        user.DemandOperator("resume runs");
        var run = runs.Get(runId) ?? throw new KeyNotFoundException($"run {runId} does not exist");
        if (run.Source != RunSource.Dashboard)
            throw new InvalidOperationException($"run {runId} was started from the command line; resume it there with --resume");
        if (!run.Status.IsFinished() || run.Status == RunStatus.Completed)
            throw new InvalidOperationException($"run {runId} is {run.Status}; only interrupted, stopped, failed or early-stopped runs can be resumed");
        if (checkpoints.Find(runId, "last") is null)
            throw new InvalidOperationException($"run {runId} has no checkpoint to resume from (it ended before its first epoch finished)");
        var updated = runs.Update(runId, r =>
        {
            r.Status = RunStatus.Queued;
            r.ResumeRequested = true;
            r.Reason = null;
            r.FinishedAt = null;
        })!;
        notifier.PublishStatus(runId, RunStatus.Queued);
        worker.Wake();
        cluster?.Enqueue(updated);
        return updated;
    }

    /// <summary>Deletes a run that is not running, with its history and checkpoints.</summary>
    public bool Delete(ClaimsPrincipal user, string runId)
    {
        user.DemandOperator("delete runs");
        var run = runs.Get(runId);
        if (run is null) return false;
        if (run.Status.IsActive() || worker.Control(runId) is not null)
            throw new InvalidOperationException($"run {runId} is {run.Status}: stop it before deleting it");
        if (run.Source == RunSource.Cli && run.Status == RunStatus.Running)
            throw new InvalidOperationException($"run {runId} is still training on the command line");
        var deleted = runs.Delete(runId);
        if (deleted) notifier.PublishStatus(runId, null);
        return deleted;
    }

    private static bool Do(Action a)
    {
        a();
        return true;
    }

    /// <summary>A sortable, readable, unique id such as "20250101-120000-3fa2c1".</summary>
    public static string NewRunId(DateTime utcNow) => $"{utcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
}
