using System.Net;
using System.Text.Json;
using MedZoo.Tests.E2E;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Cluster mode in a real browser: a run started on web node A is trained by a worker process, and a viewer whose
/// browser is on web node B watches it live (the worker's updates cross through Redis into node B's own stream), with
/// the page saying which worker trains it and the charts growing without a reload.
/// </summary>
public sealed class ClusterBrowserTests(ClusterNode nodeA) : IClassFixture<ClusterNode>
{
    /// <summary>Starts a run through node A's API as the admin; returns its id.</summary>
    private async Task<string> StartRunOnNodeAAsync(string name, string configJson)
    {
        var (client, _) = await SignIn.AsAsync(nodeA.Address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        using var __ = client;
        using var started = await client.PostAsync("/api/runs",
            new StringContent($"{{\"name\":\"{name}\",\"config\":{configJson}}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(started.StatusCode == HttpStatusCode.Created, $"POST /api/runs on node A answered {started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>A second web node on node A's PostgreSQL and Redis, with its own data folder.</summary>
    private MedZooAppFactory NodeB(string data)
    {
        var node = new MedZooAppFactory(data, executor: null);
        node.Settings["MedZoo:Cluster:Enabled"] = "true";
        node.Settings["MedZoo:Cluster:Postgres"] = nodeA.Servers.Postgres;
        node.Settings["MedZoo:Cluster:Redis"] = nodeA.Servers.Redis;
        return node;
    }

    [SkippableFact]
    public async Task Run_TrainedByAWorker_IsWatchedLiveFromAnotherWebNode()
    {
        BrowserSession.RequireChromium();
        using var dataB = TestSupport.TestPaths.NewTempFolder();
        await using var nodeB = NodeB(dataB.Path);
        var addressB = nodeB.Start();

        var runId = await StartRunOnNodeAAsync("watched from node B", ClusterNode.SmokeConfig("cpu", epochs: 6));

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

    /// <summary>
    /// Redis goes down mid-run for several epochs: the page on node B keeps showing every epoch the worker stores
    /// (it reads what the stream lost from the database, <c>RunViewSync</c>) without a reload, the live stream itself
    /// resumes once Redis is back, and after the run the page holds every epoch that a fresh load shows.
    /// </summary>
    [SkippableFact]
    public async Task Run_RedisDownMidRun_PageShowsEveryEpochWithoutReloadAndTheStreamResumes()
    {
        BrowserSession.RequireChromium();
        using var dataB = TestSupport.TestPaths.NewTempFolder();
        await using var nodeB = NodeB(dataB.Path);
        var addressB = nodeB.Start();
        var receiver = nodeB.Services.GetRequiredService<MedZoo.Web.Cluster.Live.ClusterLiveReceiver>();

        // Epochs of about a second, so that an outage of a few seconds spans several of them.
        var options = MedZoo.Web.Runs.TrainerRunExecutor.Smoke();
        options.Device = "cpu";
        options.Epochs = 14;
        options.Threads = 1;
        options.Sampling.SamplesTrain = 48;
        var runId = await StartRunOnNodeAAsync("through a Redis outage", MedZoo.Web.Runs.RunConfigJson.Serialize(options));

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(addressB);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{runId}");
        await page.WaitForSelectorAsync("[data-status]");
        await page.EvaluateAsync("() => window.__mzSamePage = true"); // gone if the page reloads

        await using var worker = WorkerProcess.Start(nodeA.Servers, "outage-worker", "--devices", "cpu");
        var redisDown = false;
        try
        {
            await nodeA.WaitForRunAsync(runId, r => r.EpochsCompleted >= 2, "its second epoch", worker);
            await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 2");

            await nodeA.Servers.StopRedisAsync();
            redisDown = true;
            var atStop = nodeA.Runs.Get(runId)!.EpochsCompleted;
            var stored = await nodeA.WaitForRunAsync(runId, r => r.EpochsCompleted >= atStop + 3 || r.Status.IsFinished(), "three more epochs while Redis is down", worker);
            Assert.False(stored.Status.IsFinished(), $"the run finished before the outage spanned three epochs (stopped at epoch {atStop}): make its epochs longer");
            // Nothing reaches node B live now; the page reads what the worker stored.
            await page.WaitForFunctionAsync($"() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= {stored.EpochsCompleted}", null,
                new PageWaitForFunctionOptions { Timeout = 20_000, PollingInterval = 100 });

            var receivedBefore = receiver.Received;
            var back = System.Diagnostics.Stopwatch.StartNew();
            await nodeA.Servers.StartRedisAsync();
            redisDown = false;
            while (receiver.Received == receivedBefore && !nodeA.Runs.Get(runId)!.Status.IsFinished())
            {
                Assert.True(back.Elapsed < TimeSpan.FromSeconds(60), "the live stream did not resume within 60 s of Redis coming back");
                await Task.Delay(50);
            }
            Assert.True(receiver.Received > receivedBefore, "the run finished before any live update arrived after Redis came back");
            Console.WriteLine($"live stream resumed {back.Elapsed.TotalSeconds:0.0} s after Redis came back");

            await page.WaitForSelectorAsync("[data-status=Completed]", new PageWaitForSelectorOptions { Timeout = 180_000 });
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            throw new TimeoutException($"{e.Message}\npage: {await BrowserSession.DescribeAsync(page)}\nworker {worker.Name}:\n{worker.Output}", e);
        }
        finally
        {
            if (redisDown) await nodeA.Servers.StartRedisAsync();
        }
        Assert.True(await page.EvaluateAsync<bool>("() => window.__mzSamePage === true"), "the page reloaded: it should have caught up in place");

        var live = await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)");
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-status=Completed]");
        await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 1");
        Assert.Equal(await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)"), live);
        Assert.Equal(options.Epochs, nodeA.Runs.Get(runId)!.EpochsCompleted);
    }

    /// <summary>
    /// A run that starts and finishes while Redis is down: node B's run page and runs list, opened before, show it
    /// completed with every epoch (read from the database) without a reload, although no live update reached them.
    /// </summary>
    [SkippableFact]
    public async Task Run_FinishedWhileRedisDown_RunPageAndListShowItWithoutReload()
    {
        BrowserSession.RequireChromium();
        using var dataB = TestSupport.TestPaths.NewTempFolder();
        await using var nodeB = NodeB(dataB.Path);
        var addressB = nodeB.Start();
        var runId = await StartRunOnNodeAAsync("finished in the dark", ClusterNode.SmokeConfig("cpu", epochs: 3));

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(addressB);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{runId}");
        await page.WaitForSelectorAsync("[data-status=Queued]");
        var list = await page.Context.NewPageAsync();
        await list.GotoAsync("/runs");
        await list.WaitForSelectorAsync($"tr:has(a[href='/runs/{runId}']) [data-status=Queued]");
        await page.EvaluateAsync("() => window.__mzSamePage = true");
        await list.EvaluateAsync("() => window.__mzSamePage = true");

        await nodeA.Servers.StopRedisAsync();
        try
        {
            await using var worker = WorkerProcess.Start(nodeA.Servers, "dark-worker", "--devices", "cpu");
            await nodeA.WaitForRunAsync(runId, r => r.Status == RunStatus.Completed, "the run to complete", worker);
            var wait = new PageWaitForSelectorOptions { Timeout = 20_000 };
            await page.WaitForSelectorAsync("[data-status=Completed]", wait);
            await list.WaitForSelectorAsync($"tr:has(a[href='/runs/{runId}']) [data-status=Completed]", wait);
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            throw new TimeoutException($"{e.Message}\nrun page: {await BrowserSession.DescribeAsync(page)}\nlist: {await BrowserSession.DescribeAsync(list)}", e);
        }
        finally
        {
            await nodeA.Servers.StartRedisAsync();
        }
        Assert.True(await page.EvaluateAsync<bool>("() => window.__mzSamePage === true"), "the run page reloaded");
        Assert.True(await list.EvaluateAsync<bool>("() => window.__mzSamePage === true"), "the runs list reloaded");
        var shown = await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)");
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-status=Completed]");
        Assert.Equal(await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)"), shown);
    }
}
