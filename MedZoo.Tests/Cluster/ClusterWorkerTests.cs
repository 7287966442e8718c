using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bunit;
using Hangfire;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Cluster;
using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Engine.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MudBlazor.Services;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Cluster mode end to end on real servers: a web node (in this process) queues runs through Hangfire in PostgreSQL and
/// never trains; <c>medzoo worker</c> processes take them from their queues, train them with the real trainer (the smoke
/// preset: seconds) and write everything to the shared database, where the web node reads it.
/// </summary>
public sealed class ClusterWorkerTests(ClusterNode node, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ClusterNode>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// The class shares one database and its queues: a run a test left unfinished (a failed assertion, or a worker that
    /// put it back in the queue as it stopped) is stopped here, so the next test's worker skips its job.
    /// </summary>
    public Task DisposeAsync()
    {
        foreach (var run in node.Runs.List().Where(r => !r.Status.IsFinished()))
            node.Runs.Update(run.Id, r =>
            {
                r.Status = RunStatus.Stopped;
                r.Reason = "stopped by the test that started it";
                r.FinishedAt = DateTime.UtcNow;
            });
        return Task.CompletedTask;
    }

    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    private async Task<HttpClient> AdminAsync() =>
        (await SignIn.AsAsync(node.Address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword)).Client;

    private static async Task<RunInfo> StartAsync(HttpClient client, string name, string configJson)
    {
        using var response = await client.PostAsync("/api/runs",
            new StringContent($"{{\"name\":\"{name}\",\"config\":{configJson}}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/runs answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<RunInfo>(ApiJson))!;
    }

    private static long Enqueued(string queue) => JobStorage.Current.GetMonitoringApi().EnqueuedCount(queue);

    [Fact]
    public async Task Run_StartedThroughTheWebNodesApi_IsQueuedThenTrainedByAWorkerToCompletedWithMetricsOnTheWebNode()
    {
        using var client = await AdminAsync();
        // The web node hosts no run worker: nothing in it takes runs from the queue.
        Assert.DoesNotContain(node.App.Services.GetServices<IHostedService>(), s => s is RunWorker);
        var cpuBefore = Enqueued(ClusterQueues.Cpu);

        var run = await StartAsync(client, "on a worker", ClusterNode.SmokeConfig("cpu"));

        Assert.Equal(RunStatus.Queued, node.Runs.Get(run.Id)!.Status);
        Assert.Equal(cpuBefore + 1, Enqueued(ClusterQueues.Cpu)); // a Hangfire job on the cpu queue, nobody to take it
        await using var worker = WorkerProcess.Start(node.Servers.Postgres, "worker-a", "--devices", "cpu");
        var done = await node.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the run to finish", worker);

        Assert.True(done.Status == RunStatus.Completed, $"run ended {done.Status} ({done.Reason})\n{worker.Output}");
        Assert.Equal(2, done.EpochsCompleted);
        Assert.Equal(1, done.Sessions);
        using var metrics = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{run.Id}/metrics?kind=epoch"));
        Assert.Equal(2, metrics.RootElement.GetProperty("items").GetArrayLength());
        using var events = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{run.Id}/events"));
        Assert.Contains(events.RootElement.GetProperty("items").EnumerateArray(), e => e.GetProperty("message").GetString() == "running on worker worker-a (cpu)");
        Assert.NotNull(node.App.Services.GetRequiredService<IRunCheckpointStore>().Find(run.Id, "last"));
    }

    [Fact]
    public async Task Run_WithALogDirectory_WritesTensorBoardEventsInTheWorkersDataFolder()
    {
        using var client = await AdminAsync();
        var options = TrainerRunExecutor.Smoke();
        options.Device = "cpu";
        options.LogDirectory = "tensorboard";
        var run = await StartAsync(client, "with TensorBoard", RunConfigJson.Serialize(options));
        await using var worker = WorkerProcess.Start(node.Servers.Postgres, "worker-tb", "--devices", "cpu");
        var done = await node.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the run to finish", worker);
        Assert.True(done.Status == RunStatus.Completed, $"run ended {done.Status} ({done.Reason})\n{worker.Output}");

        // The export works as on one machine; its files are where the run trained (the worker's data folder).
        var events = Directory.GetFiles(Path.Combine(worker.DataFolder, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories);
        Assert.NotEmpty(events);
        Assert.Contains(MedZoo.Engine.Training.TensorBoard.TensorBoardEventReader.Read(events[0]).SelectMany(e => e.Scalars), s => s.Tag.Contains("loss", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Run_TrainedByAWorker_ReachesTheWebNodesLiveStreamEpochByEpoch()
    {
        using var client = await AdminAsync();
        var run = await StartAsync(client, "watched live", ClusterNode.SmokeConfig("cpu", epochs: 2));
        // What a dashboard page or hub client on the web node subscribes to: the node's own notifier.
        var seen = new ConcurrentQueue<RunUpdate>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = node.App.Services.GetRequiredService<RunNotifier>().Subscribe(run.Id, u =>
        {
            seen.Enqueue(u);
            if (u.Event is RunFinished) finished.TrySetResult();
            return ValueTask.CompletedTask;
        });

        await using var worker = WorkerProcess.Start(node.Servers, "live-worker", "--devices", "cpu");
        var done = await node.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the run to finish", worker);
        Assert.True(done.Status == RunStatus.Completed, $"run ended {done.Status} ({done.Reason})\n{worker.Output}");
        var arrived = await Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(arrived == finished.Task, $"the web node's stream never got the worker's end of run; it got: {string.Join(", ", seen.Select(u => u.Event.GetType().Name))}\n{worker.Output}");

        // Every epoch, in order, each once, from the worker (through Redis), and nothing recorded twice by this node.
        Assert.Equal([1, 2], seen.Select(u => u.Event).OfType<EpochCompleted>().Select(e => e.Epoch));
        Assert.All(seen.Where(u => u.Event is not RunStatusChanged), u => Assert.True(u.FromCluster, $"{u.Event.GetType().Name} did not come from the worker"));
        var seqs = seen.Where(u => u.FromCluster && u.Event is not RunStatusChanged).Select(u => u.Seq).ToList(); // statuses carry no number
        Assert.Equal(seqs.Order().Distinct(), seqs);
        using var epochs = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{run.Id}/metrics?kind=epoch"));
        Assert.Equal(2, epochs.RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Worker_CpuOnly_TakesCpuRunsAndLeavesGpuRunsQueued()
    {
        using var client = await AdminAsync();
        var gpuBefore = Enqueued(ClusterQueues.Gpu);
        await using var worker = WorkerProcess.Start(node.Servers.Postgres, "cpu-only", "--devices", "cpu");
        var info = await node.WaitForWorkerAsync(worker);
        Assert.Equal(["cpu"], info.Queues);

        var gpu = await StartAsync(client, "wants a gpu", ClusterNode.SmokeConfig("cuda"));
        var cpu = await StartAsync(client, "wants the cpu", ClusterNode.SmokeConfig("cpu", epochs: 1));
        var done = await node.WaitForRunAsync(cpu.Id, r => r.Status.IsFinished(), "the cpu run to finish", worker);

        Assert.Equal(RunStatus.Completed, done.Status);
        // Queued before the cpu run, yet untouched: the worker listens to the cpu queue only.
        Assert.Equal(RunStatus.Queued, node.Runs.Get(gpu.Id)!.Status);
        Assert.Equal(gpuBefore + 1, Enqueued(ClusterQueues.Gpu));

        // A worker with a GPU takes it (this machine has none: the trainer falls back to the CPU with a notice).
        await using var gpuWorker = WorkerProcess.Start(node.Servers.Postgres, "gpu-box", "--devices", "cuda:0");
        var trained = await node.WaitForRunAsync(gpu.Id, r => r.Status.IsFinished(), "the gpu worker to train the gpu run", gpuWorker);
        Assert.Equal(RunStatus.Completed, trained.Status);
        using var events = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{gpu.Id}/events"));
        Assert.Contains(events.RootElement.GetProperty("items").EnumerateArray(), e => e.GetProperty("message").GetString() == "running on worker gpu-box (cuda:0)");
    }

    [Fact]
    public async Task PauseResumeStop_FromTheWebNode_ReachTheWorkerTrainingTheRun()
    {
        using var client = await AdminAsync();
        await using var worker = WorkerProcess.Start(node.Servers.Postgres, "controlled", "--devices", "cpu");
        var run = await StartAsync(client, "controlled", ClusterNode.SmokeConfig("cpu", epochs: 500));
        await node.WaitForRunAsync(run.Id, r => r.Status == RunStatus.Running && r.GlobalStep > 0, "training to begin", worker);
        await node.WaitForHeartbeatAsync(worker, w => w.Runs.Any(r => r.RunId == run.Id), "the worker's heartbeat to list the run");
        await using (var ui = new BunitContext())
        {
            ui.Services.AddSingleton(node.App.Services.GetRequiredService<IRunPlacementStore>());
            var label = ui.Render<MedZoo.Web.Runs.Pages.Components.RunPlacementLabel>(p => p.Add(l => l.RunId, run.Id).Add(l => l.Status, RunStatus.Running));
            label.WaitForAssertion(() => Assert.Equal("running on worker controlled (cpu)", label.Find("#run-worker").TextContent.Trim()));
        }

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/runs/{run.Id}/pause", null)).StatusCode);
        var paused = await node.WaitForRunAsync(run.Id, r => r.Status == RunStatus.Paused, "the worker to pause the run", worker);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/runs/{run.Id}/resume", null)).StatusCode);
        await node.WaitForRunAsync(run.Id, r => r.Status == RunStatus.Running && r.GlobalStep > paused.GlobalStep, "the worker to resume training", worker);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{run.Id}/stop", null)).StatusCode);
        var stopped = await node.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the worker to stop the run", worker);

        Assert.Equal(RunStatus.Stopped, stopped.Status);
        Assert.True(stopped.EpochsCompleted < 500);
    }

    [Fact]
    public async Task Job_OfARunStoppedWhileQueued_EndsWithoutTraining()
    {
        using var client = await AdminAsync();
        var run = await StartAsync(client, "cancelled", ClusterNode.SmokeConfig("cpu"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{run.Id}/stop", null)).StatusCode);
        var after = await StartAsync(client, "after it", ClusterNode.SmokeConfig("cpu", epochs: 1));

        await using var worker = WorkerProcess.Start(node.Servers.Postgres, "skipper", "--devices", "cpu");
        await node.WaitForRunAsync(after.Id, r => r.Status.IsFinished(), "the next run to finish", worker);

        var cancelled = node.Runs.Get(run.Id)!;
        Assert.Equal(RunStatus.Stopped, cancelled.Status);
        Assert.Equal(0, cancelled.Sessions);
        Assert.Equal(0, cancelled.GlobalStep);
    }

    [Fact]
    public async Task WorkersPage_ALiveWorker_IsListedWithItsDevicesQueuesAndRun()
    {
        using var client = await AdminAsync();
        await using var worker = WorkerProcess.Start(node.Servers.Postgres, "listed", "--devices", "cpu", "--runs-per-device", "2");
        var run = await StartAsync(client, "shown on the workers page", ClusterNode.SmokeConfig("cpu", epochs: 500));
        await node.WaitForRunAsync(run.Id, r => r.Status == RunStatus.Running, "training to begin", worker);
        await using var ui = new BunitContext();
        ui.Services.AddMudServices();
        ui.JSInterop.Mode = JSRuntimeMode.Loose;
        ui.Services.AddSingleton(node.Workers);
        ui.Services.AddSingleton(node.Runs);

        var page = ui.Render<MedZoo.Web.Cluster.Pages.Workers>();

        // The heartbeat that lists the run comes within a beat of its start; the page reads the registry every 2 s.
        page.WaitForAssertion(() =>
        {
            var row = page.Find(".mz-worker[data-worker=listed]");
            Assert.Equal("false", row.GetAttribute("data-lost"));
            Assert.Equal("cpu", row.QuerySelector(".mz-worker-devices")!.TextContent.Trim());
            Assert.Equal("cpu", row.QuerySelector(".mz-worker-queues")!.TextContent.Trim());
            Assert.Equal("1 / 2", row.QuerySelector(".mz-worker-load")!.TextContent.Trim());
            Assert.Contains("shown on the workers page", row.QuerySelector(".mz-worker-runs")!.TextContent);
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{run.Id}/stop", null)).StatusCode);
        await node.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the run to stop", worker);
    }

    [Fact]
    public async Task Worker_KilledMidRun_RunResumesOnAnotherWorkerFromItsLastCheckpointAndSaysSo()
    {
        using var client = await AdminAsync();
        var a = WorkerProcess.Start(node.Servers.Postgres, "doomed", "--devices", "cpu");
        int atKill;
        string id;
        await using (a)
        {
            id = (await StartAsync(client, "survives a crash", ClusterNode.SmokeConfig("cpu", epochs: 500))).Id;
            atKill = (await node.WaitForRunAsync(id, r => r.EpochsCompleted >= 1, "the first epoch and its checkpoint", a)).EpochsCompleted;
            await a.KillAsync(); // SIGKILL: no goodbye, the run stays 'running' in the database
        }
        var killedAt = DateTime.UtcNow;
        await using var b = WorkerProcess.Start(node.Servers.Postgres, "rescuer", "--devices", "cpu");

        var resumed = await node.WaitForRunAsync(id, r => r.Sessions == 2 && r.EpochsCompleted > atKill + 1, "the run to resume on the other worker", b,
            TimeSpan.FromSeconds(150));
        var took = DateTime.UtcNow - killedAt;
        output.WriteLine($"killed after epoch {atKill}; resumed and past epoch {atKill + 1} {took.TotalSeconds:0.0} s after the kill");
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{id}/stop", null)).StatusCode);
        await node.WaitForRunAsync(id, r => r.Status.IsFinished(), "the run to stop", b);

        using var events = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{id}/events?limit=5000"));
        var lines = events.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains("resumed on worker rescuer after worker doomed vanished (from its last checkpoint)", lines);
        // Every epoch once, none lost beyond the one in progress at the kill: the series continues from the checkpoint.
        var epochs = node.App.Services.GetRequiredService<IMetricStore>().Metrics(id, MetricKind.Epoch).Select(p => p.Epoch).ToList();
        Assert.Equal(Enumerable.Range(1, epochs.Count), epochs);
        Assert.True(took < TimeSpan.FromSeconds(90), $"resumed {took.TotalSeconds:0} s after the kill");
    }

    [Fact]
    public async Task Worker_StoppedGracefully_PutsItsRunBackInTheQueueAndAnotherWorkerResumesIt()
    {
        using var client = await AdminAsync();
        var a = WorkerProcess.Start(node.Servers.Postgres, "leaving", "--devices", "cpu");
        string id;
        int atStop;
        await using (a)
        {
            id = (await StartAsync(client, "outlives its worker", ClusterNode.SmokeConfig("cpu", epochs: 500))).Id;
            await node.WaitForRunAsync(id, r => r.EpochsCompleted >= 1, "the first epoch and its checkpoint", a);
            await a.StopAsync(); // SIGTERM: the run stops at a batch boundary and goes back to the queue
            Assert.True(a.HasExited, a.Output);
        }
        var queued = node.Runs.Get(id)!;
        Assert.True(queued.Status == RunStatus.Queued && queued.ResumeRequested, $"after the worker left the run is {queued.Status} (resume {queued.ResumeRequested})");
        atStop = queued.EpochsCompleted;

        await using var b = WorkerProcess.Start(node.Servers.Postgres, "arriving", "--devices", "cpu");
        await node.WaitForRunAsync(id, r => r.Sessions == 2 && r.EpochsCompleted > atStop, "the other worker to resume the run", b);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{id}/stop", null)).StatusCode);
        await node.WaitForRunAsync(id, r => r.Status.IsFinished(), "the run to stop", b);

        using var events = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{id}/events?limit=5000"));
        var lines = events.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains("worker leaving is shutting down: the run is queued again and resumes from its last checkpoint", lines);
        Assert.Contains("running on worker arriving (cpu), from its last checkpoint", lines);
        var epochs = node.App.Services.GetRequiredService<IMetricStore>().Metrics(id, MetricKind.Epoch).Select(p => p.Epoch).ToList();
        Assert.Equal(Enumerable.Range(1, epochs.Count), epochs);
    }
}
