using System.Collections.Concurrent;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>What the browser tab shows: the favicon (no 404 for it on any page) and, on a run's page, the run's state, live.</summary>
public class BrowserTabE2ETests : E2ETest
{
    [SkippableFact]
    public async Task Favicon_EveryPage_HasOneAndNothingAnswers404()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var run = app.Service().Start(Admin, "tab run", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        var failures = new ConcurrentQueue<string>();
        page.Response += (_, r) => { if (r.Status >= 400) failures.Enqueue($"{r.Status} {r.Url}"); };
        page.RequestFailed += (_, r) => failures.Enqueue($"failed {r.Url}: {r.Failure}");

        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        foreach (var path in new[] { "/runs", $"/runs/{run.Id}", "/reviews", "/models", "/account/tokens" })
        {
            await BrowserSession.GotoAsync(page, path);
            // The link's resolved address (the document's <base> applied), as the browser fetches it.
            var icon = await page.EvaluateAsync<string?>("() => document.querySelector('link[rel=icon]')?.href ?? null");
            Assert.False(string.IsNullOrEmpty(icon), $"{path} has no <link rel=icon>");
            var answer = await page.APIRequest.GetAsync(icon);
            Assert.Equal(200, answer.Status);
            Assert.Equal("image/svg+xml", answer.Headers["content-type"].Split(';')[0]);
        }
        // Clients that ask for /favicon.ico without reading the page (feeds, the API reference, bookmarks) get one too.
        var ico = await page.APIRequest.GetAsync("/favicon.ico");
        Assert.Equal(200, ico.Status);
        Assert.Equal([0, 0, 1, 0], (await ico.BodyAsync())[..4]);

        Assert.True(failures.IsEmpty, "requests that failed: " + string.Join("; ", failures));
    }

    [SkippableFact]
    public async Task RunPage_Title_ShowsTheRunsStateAsItTrains()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0) };
        await using var app = NewApp(folder.Path, executor);
        var address = app.Start();
        var run = app.Service().Start(Admin, "titled", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{run.Id}");

        async Task TitleAsync(string expected)
        {
            try
            {
                await BrowserSession.WaitAsync(page, "t => document.title === t", expected);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"the tab's title is '{await page.TitleAsync()}', expected '{expected}'", e);
            }
        }

        await TitleAsync("▶ epoch 0/3 · titled · MedZoo");
        executor.StepGate.Release();
        await TitleAsync("▶ epoch 1/3 · titled · MedZoo");
        executor.StepGate.Release();
        await TitleAsync("▶ epoch 2/3 · titled · MedZoo");
        executor.StepGate.Release();
        await TitleAsync("✓ completed · titled · MedZoo");

        executor.StepGate = null;
        var failing = app.Service().Start(Admin, "doomed", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2, failAtStep: 2));
        await app.WaitForStatusAsync(failing.Id, RunStatus.Failed);
        await BrowserSession.GotoAsync(page, $"/runs/{failing.Id}");
        await TitleAsync("✗ failed · doomed · MedZoo");
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class BrowserTabE2ETests_Cluster(ClusterHosts cluster) : BrowserTabE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
