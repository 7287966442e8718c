using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The dashboard's main promise in a real browser, with the scripted trainer so that every step
/// is released by the test: two viewers see charts and slice previews update live, an operator
/// stops the run, and after a restart the run and its metrics are still there.
/// </summary>
public sealed class LiveRunE2ETests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static Task<int> Points(IPage page, string chart) =>
        page.EvalOnSelectorAsync<int>(chart, "e => Number(e.dataset.points)");

    [SkippableFact]
    public async Task TwoBrowsers_WatchLive_StopAndRestartKeepTheRun()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        string runId;
        await using var browser = await BrowserSession.LaunchAsync();
        await using (var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate }))
        {
            var address = app.Start();
            app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);

            // The operator fills the New run form: a preset, then an invalid value the server rejects by name, then a valid one.
            var op = await browser.NewPageAsync(address);
            await BrowserSession.SignInAsync(op, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs/new");
            await op.FillAsync("#run-name-input", "live run");
            await op.FillAsync("#opt-Epochs", "0");
            await op.PressAsync("#opt-Epochs", "Tab");
            await op.ClickAsync("#start-run");
            await op.WaitForSelectorAsync("#start-error:has-text('Epochs')");
            await op.FillAsync("#opt-Epochs", "20");
            await op.PressAsync("#opt-Epochs", "Tab");
            await op.FillAsync("#opt-StepsPerEpoch", "2");
            await op.PressAsync("#opt-StepsPerEpoch", "Tab");
            await op.ClickAsync("#start-run");
            await op.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/runs/[0-9]{8}-"));
            runId = op.Url[(op.Url.LastIndexOf('/') + 1)..];
            Assert.Equal("live run", app.Repository().Get(runId)!.Name);

            var viewer = await browser.NewPageAsync(address);
            await BrowserSession.SignInAsync(viewer, "watcher", "watcher-password", "/runs");
            await viewer.ClickAsync("a.mz-run-link:has-text('live run')");
            await op.WaitForSelectorAsync("[data-status=Running]");
            await viewer.WaitForSelectorAsync("[data-status=Running]");

            gate.Release(2); // the first epoch: 2 steps, validation, previews, checkpoint
            foreach (var page in new[] { op, viewer })
            {
                await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 1");
                await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#slice-axial-prediction')?.dataset.drawn) >= 1");
                Assert.Equal(3, await page.Locator(".mz-preview-plane").CountAsync());
            }
            var before = await Points(viewer, "#chart-loss");
            var epochBefore = await viewer.GetAttributeAsync("[data-plane=axial]", "data-epoch");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            gate.Release(1); // one step of epoch 2: how long until each browser draws it?
            var opWait = BrowserSession.WaitAsync(op, $"() => Number(document.querySelector('#chart-loss')?.dataset.points) > {before}")
                .ContinueWith(_ => clock.Elapsed);
            await BrowserSession.WaitAsync(viewer, $"() => Number(document.querySelector('#chart-loss')?.dataset.points) > {before}");
            var viewerLatency = clock.Elapsed;
            var opLatency = await opWait;
            output.WriteLine($"step to chart: operator {opLatency.TotalMilliseconds:0} ms, viewer {viewerLatency.TotalMilliseconds:0} ms (including 100 ms page polling)");
            Assert.True(viewerLatency < TimeSpan.FromSeconds(1.5) && opLatency < TimeSpan.FromSeconds(1.5), $"operator {opLatency}, viewer {viewerLatency}");
            gate.Release(1);
            await BrowserSession.WaitAsync(viewer, $"() => document.querySelector('[data-plane=axial]')?.dataset.epoch !== '{epochBefore}'");
            Assert.Equal(0, await viewer.Locator("#stop-run").CountAsync());

            await op.ClickAsync("#stop-run");
            await op.WaitForSelectorAsync("[data-status=Stopped]");
            await viewer.WaitForSelectorAsync("[data-status=Stopped]");
            await op.Context.CloseAsync();
            await viewer.Context.CloseAsync();
        }

        await using (var again = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor()))
        {
            var address = again.Start();
            var page = await browser.NewPageAsync(address);
            await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs");
            await page.ClickAsync($"a.mz-run-link:has-text('live run')");
            await page.WaitForSelectorAsync("[data-status=Stopped]");
            Assert.Contains(runId, page.Url);
            await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 2");
            Assert.True(await Points(page, "#chart-loss") >= 4 + 2 + 2);
            await page.WaitForSelectorAsync("#continue-run"); // stopped with a checkpoint: it can be resumed
        }
    }
}
