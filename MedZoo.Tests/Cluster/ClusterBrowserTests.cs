using System.Net;
using System.Text.Json;
using MedZoo.Tests.E2E;
using MedZoo.Tests.Web.Support;
using Microsoft.Playwright;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Cluster mode in a real browser: a run started on web node A is trained by a worker process, and a viewer whose
/// browser is on web node B watches it live (the worker's updates cross through Redis into node B's own stream), with
/// the page saying which worker trains it and the charts growing without a reload.
/// </summary>
public sealed class ClusterBrowserTests(ClusterNode nodeA) : IClassFixture<ClusterNode>
{
    [SkippableFact]
    public async Task Run_TrainedByAWorker_IsWatchedLiveFromAnotherWebNode()
    {
        BrowserSession.RequireChromium();
        using var dataB = TestSupport.TestPaths.NewTempFolder();
        await using var nodeB = new MedZooAppFactory(dataB.Path, executor: null);
        nodeB.Settings["MedZoo:Cluster:Enabled"] = "true";
        nodeB.Settings["MedZoo:Cluster:Postgres"] = nodeA.Servers.Postgres;
        nodeB.Settings["MedZoo:Cluster:Redis"] = nodeA.Servers.Redis;
        var addressB = nodeB.Start();

        var (client, _) = await SignIn.AsAsync(nodeA.Address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        using var __ = client;
        using var started = await client.PostAsync("/api/runs",
            new StringContent($"{{\"name\":\"watched from node B\",\"config\":{ClusterNode.SmokeConfig("cpu", epochs: 6)}}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(started.StatusCode == HttpStatusCode.Created, $"POST /api/runs on node A answered {started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
        var runId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        // The viewer's page on node B is open before any worker exists: everything it shows later arrives live.
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(addressB);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{runId}");
        await page.WaitForSelectorAsync("[data-status=Queued]");

        await using var worker = WorkerProcess.Start(nodeA.Servers, "browser-worker", "--devices", "cpu");
        try
        {
            await page.WaitForSelectorAsync("[data-status=Running]");
            await page.WaitForSelectorAsync("#run-worker:has-text('running on worker browser-worker')");
            await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-loss')?.dataset.points) >= 1");
            var points = await page.EvalOnSelectorAsync<int>("#chart-loss", "e => Number(e.dataset.points)");
            await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#chart-loss')?.dataset.points) > {points}");
            await page.WaitForSelectorAsync("[data-status=Completed]", new PageWaitForSelectorOptions { Timeout = 180_000 });
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            throw new TimeoutException($"{e.Message}\npage: {await BrowserSession.DescribeAsync(page)}\nworker {worker.Name}:\n{worker.Output}", e);
        }

        // What the page drew live is what node B reads from the database after the run: every epoch.
        var live = await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)");
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-status=Completed]");
        await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 1");
        Assert.Equal(await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)"), live);
    }
}
