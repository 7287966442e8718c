using System.Net;
using System.Text.Json;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// The run queue survives the failures between a run's row and its Hangfire job: a node that died after storing a run
/// but before queueing its job (the run is queued again by a web node and trained), and a PostgreSQL restart just
/// before a user starts a run (Hangfire's own pooled connections are dead; the job is created anyway).
/// </summary>
public sealed class ClusterQueueRepairTests(ClusterQueueRepairTests.Node node) : IClassFixture<ClusterQueueRepairTests.Node>
{
    /// <summary>A web node that repairs the queue after one second instead of thirty.</summary>
    public sealed class Node : ClusterNode
    {
        protected override IEnumerable<KeyValuePair<string, string>> ExtraSettings => [new("MedZoo:Cluster:QueueRepairAfter", "00:00:01")];
    }

    [Fact]
    public async Task QueuedRunWithoutAJob_IsQueuedAgainAndTrained()
    {
        // What a node that died between the two writes leaves: the run's row, queued, and no job.
        var options = TrainerRunExecutor.Smoke();
        options.Device = "cpu";
        var run = new RunRecord
        {
            Id = "orphan-" + Guid.NewGuid().ToString("N")[..8], Name = "left without a job", Status = RunStatus.Queued, Source = RunSource.Dashboard,
            CreatedBy = MedZooAppFactory.AdminName, CreatedAt = DateTime.UtcNow, Model = options.Model, Dataset = "synthetic", Device = "cpu",
            ConfigJson = RunConfigJson.Serialize(options), Epochs = options.Epochs,
        };
        node.Runs.Insert(run);

        await using var worker = WorkerProcess.Start(node.Servers, "repair-worker", "--devices", "cpu");
        var done = await node.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the orphaned run to be queued again and trained", worker);
        Assert.Equal(RunStatus.Completed, done.Status);
    }

    [Fact]
    public async Task StartRun_RightAfterAPostgresRestart_IsQueued()
    {
        var (client, _) = await SignIn.AsAsync(node.Address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        using var _ = client;
        using (var warm = await client.PostAsync("/api/runs", Json("before the restart"))) Assert.Equal(HttpStatusCode.Created, warm.StatusCode);

        await node.Servers.RestartPostgresAsync();
        using var started = await client.PostAsync("/api/runs", Json("after the restart"));
        Assert.True(started.StatusCode == HttpStatusCode.Created, $"POST /api/runs after a PostgreSQL restart answered {started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
        var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        Assert.Equal(RunStatus.Queued, node.Runs.Get(id)!.Status);
    }

    private static StringContent Json(string name) =>
        new($"{{\"name\":\"{name}\",\"config\":{ClusterNode.SmokeConfig("cpu")}}}", System.Text.Encoding.UTF8, "application/json");
}
