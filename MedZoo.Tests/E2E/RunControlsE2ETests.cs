using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The run page's controls in a real browser, with the scripted trainer held step by step: a queued run stopped before
/// it starts never trains; a running run pauses (no step while paused), resumes, stops, and resumes from its last
/// checkpoint to completion, with a viewer's page following every change live; its last checkpoint then downloads.
/// </summary>
public class RunControlsE2ETests : E2ETest
{
    private static Task<long> Step(IPage page) => page.EvalOnSelectorAsync<long>("#run-step", "e => Number(e.textContent)");

    private static Task WaitStepAsync(IPage page, long step) =>
        BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#run-step')?.textContent) === {step}");

    [SkippableFact]
    public async Task RunPage_PauseResumeStopThenResumeFromCheckpoint_ViewerFollowsAndTheRunCompletes()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0) };
        await using var app = NewApp(folder.Path, executor);
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);
        var run = app.Service().Start(Admin, "controlled", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 2));
        var waiting = app.Service().Start(Admin, "never trained", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        await using var browser = await BrowserSession.LaunchAsync();
        var op = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(op, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{waiting.Id}");
        var viewer = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(viewer, "watcher", "watcher-password", $"/runs/{run.Id}");

        // One run trains at a time: the second waits in the queue, and a stop there cancels it before it starts.
        await op.WaitForSelectorAsync("[data-status=Queued]");
        await op.ClickAsync("#stop-run");
        await op.WaitForSelectorAsync("[data-status=Stopped]");
        await app.WaitForStatusAsync(waiting.Id, RunStatus.Stopped);

        await BrowserSession.GotoAsync(op, $"/runs/{run.Id}");
        foreach (var page in new[] { op, viewer }) await page.WaitForSelectorAsync("[data-status=Running]");
        // In cluster mode the web node trains nothing: the page names the worker that took the run from the queue.
        if (app.Worker is { } worker) await viewer.WaitForSelectorAsync($"#run-worker:has-text('running on worker {worker.Name}')");
        executor.StepGate.Release(3); // epoch 1 (its checkpoint saved) and the first step of epoch 2
        foreach (var page in new[] { op, viewer }) await WaitStepAsync(page, 3);

        // Paused while held before step 4: released steps wait until the operator resumes.
        await op.ClickAsync("#pause-run");
        foreach (var page in new[] { op, viewer }) await page.WaitForSelectorAsync("[data-status=Paused]");
        await app.WaitForStatusAsync(run.Id, RunStatus.Paused);
        executor.StepGate.Release(1);
        await op.WaitForSelectorAsync("#resume-run");
        Assert.Equal(0, await op.Locator("#pause-run").CountAsync());
        Assert.Equal(0, await viewer.Locator("#resume-run").CountAsync());
        Assert.Equal(3, app.Runs().Get(run.Id)!.GlobalStep);
        Assert.Equal(3, await Step(viewer));

        await op.ClickAsync("#resume-run");
        foreach (var page in new[] { op, viewer }) await page.WaitForSelectorAsync("[data-status=Running]");
        foreach (var page in new[] { op, viewer }) await WaitStepAsync(page, 4); // the step released while paused

        // Stopped at the next step boundary: the stop is recorded, and the run resumes from epoch 2's checkpoint.
        await op.ClickAsync("#stop-run");
        foreach (var page in new[] { op, viewer }) await page.WaitForSelectorAsync("[data-status=Stopped]");
        var stopped = await app.WaitForStatusAsync(run.Id, RunStatus.Stopped);
        Assert.Equal(2, stopped.EpochsCompleted);
        Assert.Equal(0, await viewer.Locator("#continue-run").CountAsync());

        await op.ClickAsync("#continue-run");
        foreach (var page in new[] { op, viewer }) await page.WaitForSelectorAsync("[data-status=Running]");
        executor.StepGate.Release(2); // epoch 3
        foreach (var page in new[] { op, viewer }) await page.WaitForSelectorAsync("[data-status=Completed]");
        var completed = await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        Assert.Equal(3, completed.EpochsCompleted);
        Assert.Equal(2, completed.Sessions);
        Assert.Equal(6, completed.GlobalStep);
        Assert.DoesNotContain(waiting.Id, executor.Started);
        Assert.Equal(new[] { run.Id, run.Id }, executor.Started);

        // The checkpoint the trainer saved last (the scripted one holds its epoch) downloads from the run page.
        await BrowserSession.GotoAsync(op, $"/runs/{run.Id}");
        await op.ClickAsync(".mud-tab:has-text('Checkpoints')");
        var download = await op.RunAndWaitForDownloadAsync(() => op.ClickAsync("#download-last"));
        Assert.Equal(new byte[] { 3 }, await File.ReadAllBytesAsync(await download.PathAsync()));
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class RunControlsE2ETests_Cluster(ClusterHosts cluster) : RunControlsE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
