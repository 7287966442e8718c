using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using MedZoo.Engine.Training;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;

using MedZoo.Web.Runs.Placement;

namespace MedZoo.Web.Sweeps;

/// <summary>
/// Sweeps: a grid or random search over run options, queued as ordinary runs (so they train one after another
/// on one machine, each visible on its own run page), ranked by best Dice as they finish, with optional
/// successive halving that stops trials trailing the others at the same epoch. The halving state lives in the
/// store, so a restarted server goes on deciding where it left off.
/// </summary>
public sealed class SweepService(
    ISweepStore store, RunService runs, IRunStore repository, RunWorker worker, IRunExecutor executor, RunNotifier notifier,
    TimeProvider clock, ILogger<SweepService> logger, IClusterRuns? cluster = null) : IHostedService, IDisposable
{
    private readonly Lock _gate = new();
    // Run id → (sweep, trial number) for trials whose run may still report epochs.
    private readonly Dictionary<string, (string Sweep, int Trial)> _trials = new(StringComparer.Ordinal);
    private IDisposable? _subscription;

    /// <summary>The trials a request would queue, each checked as a run configuration; throws <see cref="ArgumentException"/> for the user.</summary>
    public IReadOnlyList<SweepTrial> Preview(SweepRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var trials = SweepPlanner.Expand(request, BaseConfig(request));
        var epochs = new List<int>();
        foreach (var t in trials)
        {
            try
            {
                epochs.Add(executor.Describe(RunConfigJson.Deserialize(t.ConfigJson, executor.Form.ConfigurationType)).Epochs);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"trial {t.Number} ({t.Label}): {e.Message}", e);
            }
        }
        if (request.Halving is { Enabled: true } h)
        {
            if (h.Eta is < 2 or > 10) throw new ArgumentException($"successive halving's reduction factor is {h.Eta}; use 2 to 10 (3 is usual)");
            if (h.MinEpochs < 1) throw new ArgumentException($"successive halving's first rung is epoch {h.MinEpochs}; it must be at least 1");
            if (epochs.All(e => SuccessiveHalving.Rungs(h.MinEpochs, h.Eta, e).Count == 0))
                throw new ArgumentException(
                    $"successive halving first compares trials at epoch {h.MinEpochs}, but the trials train {epochs.Max()} epoch(s): lower its first rung or train longer");
        }
        return trials;
    }

    /// <summary>Queues a sweep's trials as runs; throws <see cref="ArgumentException"/> for an invalid request.</summary>
    public SweepView Create(ClaimsPrincipal user, SweepRequest request)
    {
        user.DemandOperator("start sweeps");
        var trials = Preview(request);
        var now = clock.GetUtcNow().UtcDateTime;
        var parameters = request.Parameters.Select(p => p.Path).ToList();
        var name = string.IsNullOrWhiteSpace(request.Name)
            ? $"{string.Join(", ", parameters)} ({request.Search.ToString().ToLowerInvariant()}, {trials.Count} trials) · {now.ToLocalTime().ToString("MMM d HH:mm", CultureInfo.InvariantCulture)}"
            : request.Name.Trim();
        var sweep = new SweepRecord
        {
            Id = "sweep-" + RunService.NewRunId(now),
            Name = name,
            CreatedBy = user.Identity?.Name ?? "",
            CreatedAt = now,
            RequestJson = JsonSerializer.Serialize(request, RunConfigJson.Options),
            Parameters = parameters,
            HalvingEnabled = request.Halving is { Enabled: true },
            HalvingMinEpochs = request.Halving?.MinEpochs ?? 1,
            HalvingEta = request.Halving?.Eta ?? 3,
        };
        store.Insert(sweep);
        // Held while queueing: a trial's first event waits here until its run is recorded, instead of finding nothing.
        lock (_gate)
        {
            foreach (var t in trials)
            {
                var run = runs.Start(user, $"{name} · #{t.Number} {t.Label}", t.ConfigJson);
                _trials[run.Id] = (sweep.Id, t.Number);
                store.Update(sweep.Id, s => s.Trials.Add(new SweepTrialRecord { Number = t.Number, RunId = run.Id, Values = new(t.Values) }));
            }
        }
        logger.LogInformation("Sweep {SweepId} ({Name}) queued {Trials} trials", sweep.Id, name, trials.Count);
        return View(sweep.Id)!;
    }

    /// <summary>Stops every queued or training trial of a sweep.</summary>
    public bool Stop(ClaimsPrincipal user, string id)
    {
        user.DemandOperator("stop sweeps");
        var sweep = store.Update(id, s => s.StopRequested = true);
        if (sweep is null) return false;
        foreach (var t in sweep.Trials)
        {
            if (repository.Get(t.RunId) is { } r && !r.Status.IsFinished()) runs.Stop(user, t.RunId);
        }
        return true;
    }

    /// <summary>Every sweep, newest first.</summary>
    public IReadOnlyList<SweepView> List() => store.List().Select(ToView).ToList();

    /// <summary>One sweep with its ranked trials, or null.</summary>
    public SweepView? View(string id) => store.Get(id) is { } s ? ToView(s) : null;

    /// <summary>Whether <paramref name="runId"/> is a trial of some sweep (pages refresh on such runs' events).</summary>
    public bool IsTrial(string runId)
    {
        lock (_gate) return _trials.ContainsKey(runId);
    }

    private SweepView ToView(SweepRecord s)
    {
        var rows = s.Trials.Select(t =>
        {
            var run = repository.Get(t.RunId);
            var status = run?.Status ?? RunStatus.Stopped;
            var best = run?.BestMeanDice ?? t.BestDice;
            var note = t.HaltedReason ?? (run is null ? "its run was deleted" : status is RunStatus.Failed or RunStatus.Interrupted ? run.Reason : null);
            return (t, status, best, run, note);
        }).OrderByDescending(x => x.best ?? double.NegativeInfinity).ThenBy(x => x.t.Number).ToList();
        var trials = rows.Select((x, i) => new SweepTrialView(
            i + 1, x.t.Number, x.t.RunId, x.t.Values, x.status, x.best, x.run?.EpochsCompleted ?? 0, x.run?.Epochs ?? 0, x.note)).ToList();
        var state = trials.Any(t => !t.Status.IsFinished()) ? "running" : s.StopRequested ? "stopped" : "completed";
        var halving = s.HalvingEnabled
            ? $"successive halving from epoch {s.HalvingMinEpochs}, keeping 1 in {s.HalvingEta} at each rung"
            : null;
        return new SweepView(s.Id, s.Name, s.CreatedBy, s.CreatedAt, state, s.Parameters, halving, trials);
    }

    private string BaseConfig(SweepRequest request)
    {
        if (request.BaseConfig is { ValueKind: JsonValueKind.Object } config) return config.GetRawText();
        if (request.BaseConfig is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) })
            throw new ArgumentException("baseConfig must be a JSON object (a run configuration, as POST /api/runs takes)");
        var presets = executor.Form.Presets;
        var preset = string.IsNullOrWhiteSpace(request.Preset)
            ? presets[0]
            : presets.FirstOrDefault(p => string.Equals(p.Name, request.Preset.Trim(), StringComparison.OrdinalIgnoreCase))
              ?? throw new ArgumentException($"no preset '{request.Preset}'; presets: {string.Join("; ", presets.Select(p => p.Name))}");
        return RunConfigJson.Serialize(preset.Create());
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var s in store.List())
        {
            foreach (var t in s.Trials)
            {
                if (repository.Get(t.RunId) is { } r && !r.Status.IsFinished())
                    lock (_gate) _trials[t.RunId] = (s.Id, t.Number);
            }
        }
        _subscription = notifier.Subscribe(null, u =>
        {
            try
            {
                OnUpdate(u);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Sweep bookkeeping failed for run {RunId}", u.RunId);
            }
            return ValueTask.CompletedTask;
        }, capacity: 4096);
        return Task.CompletedTask;
    }

    private void OnUpdate(RunUpdate u)
    {
        (string Sweep, int Trial) trial;
        lock (_gate)
        {
            if (!_trials.TryGetValue(u.RunId, out trial)) return;
            if (u.Event is RunFinished) _trials.Remove(u.RunId);
        }
        if (u.Event is not EpochCompleted e) return;
        HalvingDecision? decision = null;
        store.Update(trial.Sweep, s =>
        {
            var t = s.Trials.FirstOrDefault(x => x.Number == trial.Trial);
            if (t is null) return;
            if (e.MeanForegroundDice is { } d && double.IsFinite(d) && (t.BestDice is null || d > t.BestDice)) t.BestDice = d;
            if (!s.HalvingEnabled || s.StopRequested || t.HaltedReason is not null || t.BestDice is not { } best) return;
            if (!SuccessiveHalving.Rungs(s.HalvingMinEpochs, s.HalvingEta, e.Epochs).Contains(e.Epoch)) return;
            // A resumed run replays no epochs, but a rung is recorded once whatever happens.
            if (t.Rungs.Any(r => r.Epoch == e.Epoch)) return;
            t.Rungs.Add(new SweepRungRecord { Epoch = e.Epoch, Dice = best });
            var atRung = s.Trials.SelectMany(x => x.Rungs.Where(r => r.Epoch == e.Epoch).Select(r => r.Dice)).ToList();
            decision = SuccessiveHalving.Decide(best, atRung, s.HalvingEta, e.Epoch);
            if (decision.Stop) t.HaltedReason = decision.Reason;
        });
        if (decision is { Stop: true, Reason: { } reason })
        {
            logger.LogInformation("Sweep {SweepId}: trial {Trial} (run {RunId}) {Reason}", trial.Sweep, trial.Trial, u.RunId, reason);
            // In cluster mode a worker trains the trial: the stop and its reason go through the run's placement.
            if (cluster?.Request(u.RunId, RequestedState.Stopped, reason) != true) worker.Control(u.RunId)?.Stop(reason);
        }
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
