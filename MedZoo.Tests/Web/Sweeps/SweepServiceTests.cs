using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Sweeps;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Sweeps;

/// <summary>Sweeps against the real host with the scripted trainer: trials queue as runs, rank by Dice, and halving stops trailers.</summary>
public sealed class SweepServiceTests
{
    private static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static SweepRequest DiceScales(int epochs, bool halving, params double[] scales) => new()
    {
        Name = "scales",
        BaseConfig = J(ScriptedRunExecutor.Json(epochs: epochs, stepsPerEpoch: 20)),
        Parameters = [new SweepParameter { Path = "diceScale", Values = scales.Select(s => J(s.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList() }],
        Halving = halving ? new SuccessiveHalvingOptions { Enabled = true, MinEpochs = 1, Eta = 3 } : null,
    };

    private static async Task<SweepView> WaitForSweepAsync(MedZooAppFactory app, SweepView sweep)
    {
        foreach (var t in sweep.Trials) await app.WaitForRunAsync(t.RunId, r => r.Status.IsFinished(), $"trial {t.Number} to end");
        return app.Services.GetRequiredService<SweepService>().View(sweep.Id)!;
    }

    [Fact]
    public async Task Create_Grid_QueuesOneRunPerTrialAndRanksThemByBestDice()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var sweeps = app.Services.GetRequiredService<SweepService>();

        var created = sweeps.Create(Admin, DiceScales(epochs: 2, halving: false, 0.5, 1.0, 0.8));
        Assert.Equal("running", created.State);
        var done = await WaitForSweepAsync(app, created);

        Assert.Equal("completed", done.State);
        Assert.Equal([2, 3, 1], done.Trials.Select(t => t.Number));
        Assert.Equal([1, 2, 3], done.Trials.Select(t => t.Rank));
        Assert.All(done.Trials, t => Assert.Equal(RunStatus.Completed, t.Status));
        Assert.Equal(0.7, done.Trials[0].BestDice!.Value, 6);
        Assert.Equal("diceScale=1", done.Best!.Label);
        var run = app.Repository().Get(done.Trials[0].RunId)!;
        Assert.Equal("scales · #2 diceScale=1", run.Name);
        Assert.Contains("\"diceScale\":1", run.ConfigJson);
    }

    [Fact]
    public async Task Create_Halving_StopsTheTrialTrailingAtTheFirstRungWithTheReason()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        // Each step takes a little time, so a trial stopped at its first epoch's end is still training then.
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepWork = () => Thread.Sleep(10) });
        app.Start();
        var sweeps = app.Services.GetRequiredService<SweepService>();

        var done = await WaitForSweepAsync(app, sweeps.Create(Admin, DiceScales(epochs: 6, halving: true, 1.0, 0.9, 0.5)));

        // Trials train one after another: the first two reach the rungs with fewer than 3 trials there and go on;
        // the third trails the best at epoch 1 and is stopped.
        var third = done.Trials.Single(t => t.Number == 3);
        Assert.Equal(RunStatus.Stopped, third.Status);
        Assert.True(third.EpochsCompleted < 6, $"trial 3 trained {third.EpochsCompleted} epochs");
        Assert.StartsWith("stopped by successive halving at epoch ", third.Note);
        Assert.StartsWith("stopped by successive halving at epoch ", app.Repository().Get(third.RunId)!.Reason);
        Assert.All(done.Trials.Where(t => t.Number != 3), t => Assert.Equal(RunStatus.Completed, t.Status));
        Assert.Equal("successive halving from epoch 1, keeping 1 in 3 at each rung", done.Halving);
    }

    [Fact]
    public async Task Create_HalvingWithAClusterRunningTheTrials_StopsTheTrailerThroughItsPlacementWithTheReason()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepWork = () => Thread.Sleep(10) });
        // The cluster seam as a worker sees it: the request lands in the run's placement, and the worker training the run
        // obeys it at its next poll (here: at once, on this process's run worker).
        var cluster = new RecordingCluster();
        app.ExtraServices = s => s.AddSingleton<IClusterRuns>(sp => cluster.On(sp.GetRequiredService<RunWorker>()));
        app.Start();
        var sweeps = app.Services.GetRequiredService<SweepService>();

        var done = await WaitForSweepAsync(app, sweeps.Create(Admin, DiceScales(epochs: 6, halving: true, 1.0, 0.9, 0.5)));

        var third = done.Trials.Single(t => t.Number == 3);
        var request = Assert.Single(cluster.Requests);
        Assert.Equal(third.RunId, request.RunId);
        Assert.Equal(RequestedState.Stopped, request.State);
        Assert.StartsWith("stopped by successive halving at epoch ", request.Reason);
        Assert.Equal(RunStatus.Stopped, third.Status);
        Assert.Equal(request.Reason, app.Repository().Get(third.RunId)!.Reason);
    }

    private sealed class RecordingCluster : IClusterRuns
    {
        private RunWorker? _worker;

        public System.Collections.Concurrent.ConcurrentQueue<(string RunId, RequestedState State, string? Reason)> Requests { get; } = new();

        public IClusterRuns On(RunWorker worker)
        {
            _worker = worker;
            return this;
        }

        public void Enqueue(RunRecord run)
        {
        }

        public bool Request(string runId, RequestedState state, string? reason = null)
        {
            Requests.Enqueue((runId, state, reason));
            if (state == RequestedState.Stopped && _worker!.Control(runId) is { } control) control.Stop(reason ?? "stopped");
            return true;
        }
    }

    [Fact]
    public void Preview_HalvingWithoutRungs_SaysToTrainLonger()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var sweeps = app.Services.GetRequiredService<SweepService>();

        var e = Assert.Throws<ArgumentException>(() => sweeps.Preview(DiceScales(epochs: 1, halving: true, 1.0, 0.5)));
        Assert.Contains("first compares trials at epoch 1, but the trials train 1 epoch(s)", e.Message);
        var bad = Assert.Throws<ArgumentException>(() => sweeps.Preview(DiceScales(epochs: 2, halving: false, 1.0) with
        {
            Parameters = [new SweepParameter { Path = "epochs", Values = [J("2"), J("0")] }],
        }));
        Assert.Equal("trial 2 (epochs=0): Epochs: must be at least 1, got 0", bad.Message);
        Assert.Empty(app.Repository().List());
    }

    [Fact]
    public async Task Stop_RunningSweep_StopsItsTrialsAndSaysStopped()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        app.Start();
        var sweeps = app.Services.GetRequiredService<SweepService>();
        var created = sweeps.Create(Admin, DiceScales(epochs: 2, halving: false, 1.0, 0.5));
        await app.WaitForStatusAsync(created.Trials.Single(t => t.Number == 1).RunId, RunStatus.Running);

        Assert.Throws<UnauthorizedAccessException>(() => sweeps.Stop(Principal("v", Roles.Viewer), created.Id));
        Assert.True(sweeps.Stop(Admin, created.Id));
        var done = await WaitForSweepAsync(app, created);

        Assert.Equal("stopped", done.State);
        Assert.All(done.Trials, t => Assert.Equal(RunStatus.Stopped, t.Status));
    }

    [Fact]
    public async Task Api_OperatorStartsViewerIsRefusedBadRequestSaysWhy()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var users = app.Services.GetRequiredService<UserService>();
        users.Create("op", "operator-password", Roles.Operator);
        users.Create("viewer", "viewer-password", Roles.Viewer);
        var (op, _) = await SignIn.AsAsync(address, "op", "operator-password");
        var (viewer, _) = await SignIn.AsAsync(address, "viewer", "viewer-password");
        var body = JsonSerializer.Serialize(DiceScales(epochs: 1, halving: false, 1.0, 0.5), RunConfigJson.Options);
        StringContent Content(string json) => new(json, Encoding.UTF8, "application/json");

        using (var refused = await viewer.PostAsync("/api/sweeps", Content(body)))
            Assert.True(MedZoo.Tests.Web.Endpoints.EndpointCrawl.IsForbidden(refused), $"a viewer's POST /api/sweeps answered {(int)refused.StatusCode} {refused.Headers.Location}");
        Assert.Empty(app.Services.GetRequiredService<SweepService>().List());
        Assert.Contains("\"path\":\"diceScale\"", body);
        using (var bad = await op.PostAsync("/api/sweeps", Content(body.Replace("\"path\":\"diceScale\"", "\"path\":\"dicescale\"", StringComparison.Ordinal))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("did you mean 'diceScale'?", await bad.Content.ReadAsStringAsync());
        }
        using var created = await op.PostAsync("/api/sweeps", Content(body));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = (await created.Content.ReadFromJsonAsync<SweepView>(RunConfigJson.Options))!;
        Assert.Equal(2, view.Trials.Count);

        await WaitForSweepAsync(app, view);
        var read = (await viewer.GetFromJsonAsync<SweepView>($"/api/sweeps/{view.Id}", RunConfigJson.Options))!;
        Assert.Equal("completed", read.State);
        Assert.Equal("diceScale=1", read.Trials[0].Label);
        var list = (await viewer.GetFromJsonAsync<List<SweepView>>("/api/sweeps", RunConfigJson.Options))!;
        Assert.Equal(view.Id, Assert.Single(list).Id);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/sweeps/nope")).StatusCode);
    }
}
