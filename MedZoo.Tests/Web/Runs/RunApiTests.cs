using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Runs;

/// <summary>Starting and resuming runs over HTTP (what scripts such as the reliability harness use).</summary>
public sealed class RunApiTests
{
    private static async Task<(MedZooAppFactory App, HttpClient Client)> StartAsync(string folder, ScriptedRunExecutor executor)
    {
        var app = new MedZooAppFactory(folder, executor);
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("op", "operator-password", Roles.Operator);
        var (client, _) = await SignIn.AsAsync(address, "op", "operator-password");
        return (app, client);
    }

    private static StringContent Body(string name, string configJson) =>
        new($"{{\"name\":\"{name}\",\"config\":{configJson}}}", System.Text.Encoding.UTF8, "application/json");

    [Fact]
    public async Task Post_ValidConfiguration_StartsTheRun()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var (app, client) = await StartAsync(folder.Path, new ScriptedRunExecutor());
        await using var _ = app;

        using var response = await client.PostAsync("/api/runs", Body("from a script", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 1)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = (await response.Content.ReadFromJsonAsync<RunInfo>(RunConfigOptions))!;
        Assert.Equal($"/api/runs/{run.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal("from a script", run.Name);
        Assert.Equal("op", run.CreatedBy);
        Assert.Equal(2, (await app.WaitForStatusAsync(run.Id, RunStatus.Completed)).Epochs);
    }

    [Fact]
    public async Task Post_InvalidConfiguration_Answers400WithTheReason()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var (app, client) = await StartAsync(folder.Path, new ScriptedRunExecutor());
        await using var _ = app;

        using var response = await client.PostAsync("/api/runs", Body("bad", ScriptedRunExecutor.Json(epochs: 0)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Epochs: must be at least 1, got 0", answer.RootElement.GetProperty("detail").GetString());
        Assert.Equal("Epochs", answer.RootElement.GetProperty("field").GetString());
        Assert.Empty(app.Repository().List());
    }

    [Fact]
    public async Task Resume_StoppedRun_ContinuesFromItsLastCheckpoint()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0) };
        var (app, client) = await StartAsync(folder.Path, executor);
        await using var _ = app;
        using var started = await client.PostAsync("/api/runs", Body("resumable", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 1)));
        var id = (await started.Content.ReadFromJsonAsync<RunInfo>(RunConfigOptions))!.Id;
        executor.StepGate.Release(); // epoch 1 and its checkpoint
        await app.WaitForRunAsync(id, r => r.EpochsCompleted == 1, "epoch 1");
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{id}/stop", null)).StatusCode);
        await app.WaitForStatusAsync(id, RunStatus.Stopped);
        executor.StepGate = null;
        // The worker ends the session after the trainer's RunFinished is stored; a resume before that is lost
        // (the worker's end of session overwrites Queued with Stopped: reported with the reliability figures).
        var worker = app.Services.GetRequiredService<MedZoo.Web.Runs.RunWorker>();
        var deadline = DateTime.UtcNow + Waits.Timeout;
        while (worker.ActiveRunIds.Contains(id) && DateTime.UtcNow < deadline) await Task.Delay(20);

        using var resumed = await client.PostAsync($"/api/runs/{id}/resume", null);

        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        await app.WaitForStatusAsync(id, RunStatus.Completed);
        Assert.Equal([1, 2, 3], app.Repository().Metrics(id, MetricKind.Epoch).Select(e => e.Epoch));
        using var again = await client.PostAsync($"/api/runs/{id}/resume", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("only interrupted, stopped, failed", await again.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/runs/missing/resume", null)).StatusCode);
    }

    private static readonly JsonSerializerOptions RunConfigOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
