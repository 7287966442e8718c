using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using MedZoo.Engine.Training;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The dashboard's main promise in a real browser with the real trainer: an operator starts a
/// small run on the synthetic phantoms from the New run form, the operator's and a viewer's
/// browsers both see the charts and slice previews update live, the operator stops the run, and
/// after a restart the run and its metrics are still there and it resumes from its checkpoint.
/// </summary>
public partial class LiveRunE2ETests(Xunit.Abstractions.ITestOutputHelper output) : E2ETest
{
    // Records every value #run-step shows, with the browser's clock, from now on.
    private const string RecordSteps = """
        () => {
            window.mzSteps = [];
            const el = document.querySelector('#run-step');
            new MutationObserver(() => window.mzSteps.push([Number(el.textContent), Date.now()]))
                .observe(el, { childList: true, characterData: true, subtree: true });
        }
        """;

    private static Task<int> Points(IPage page, string chart) =>
        page.EvalOnSelectorAsync<int>(chart, "e => Number(e.dataset.points)");

    private static Task<long> Step(IPage page) => page.EvalOnSelectorAsync<long>("#run-step", "e => Number(e.textContent)");

    [GeneratedRegex("/runs/[0-9]{8}-")]
    private static partial Regex RunUrl();

    [SkippableFact]
    public async Task TwoBrowsers_WatchRealTrainingLive_StopRestartAndResume()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        string runId;
        int lossPoints, meanPoints;
        long stoppedAt;
        await using var browser = await BrowserSession.LaunchAsync();
        await using (var app = NewApp(folder.Path, executor: null))
        {
            var address = app.Start();
            app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);

            // The operator picks the smoke-test preset, tries an invalid value the server rejects by name, then starts a longer run.
            var op = await browser.NewPageAsync(address);
            await BrowserSession.SignInAsync(op, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs/new");
            await op.ClickAsync("div.mud-select:has(#run-preset)"); // the select's input is hidden: click its box
            await op.ClickAsync($".mud-popover-open .mud-list-item:has-text('{TrainerRunExecutor.SmokePreset}')");
            await BrowserSession.WaitAsync(op, "() => document.querySelector('#opt-Sampling-PatchSize')?.value === '16 16 16'");
            await op.FillAsync("#run-name-input", "live run");
            await op.FillAsync("#opt-Epochs", "0");
            await op.PressAsync("#opt-Epochs", "Tab");
            await op.ClickAsync("#start-run");
            await op.WaitForSelectorAsync("#start-error:has-text('Epochs')");
            await op.FillAsync("#opt-Epochs", "200");
            await op.PressAsync("#opt-Epochs", "Tab");
            await BrowserSession.ClickAndWaitForUrlAsync(op, "#start-run", RunUrl());
            runId = op.Url[(op.Url.LastIndexOf('/') + 1)..];
            Assert.Equal("live run", app.Runs().Get(runId)!.Name);
            var published = new ConcurrentDictionary<long, DateTimeOffset>();
            using var times = app.Services.GetRequiredService<RunNotifier>().Subscribe(runId, u =>
            {
                if (u.Event is StepCompleted s) published[s.GlobalStep] = s.Time;
                return ValueTask.CompletedTask;
            });

            var viewer = await browser.NewPageAsync(address);
            await BrowserSession.SignInAsync(viewer, "watcher", "watcher-password", "/runs");
            await viewer.ClickAsync("a.mz-run-link:has-text('live run')");
            // The grid shows status chips too: wait for the run page itself before looking for one.
            await BrowserSession.WaitForUrlAsync(viewer, new Regex($"/runs/{runId}$"));
            foreach (var page in new[] { op, viewer })
            {
                await page.WaitForSelectorAsync("#run-step");
                await page.WaitForSelectorAsync("[data-status=Running]");
                await page.EvaluateAsync(RecordSteps);
            }

            // Both browsers see the first validation: Dice on the chart, three planes of slices drawn.
            foreach (var page in new[] { op, viewer })
            {
                await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 1");
                await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#slice-axial-prediction')?.dataset.drawn) >= 1");
                Assert.Equal(3, await page.Locator(".mz-preview-plane").CountAsync());
            }
            // ... and keep updating as training goes on: more loss points, a later epoch's previews.
            foreach (var page in new[] { op, viewer })
            {
                var loss = await Points(page, "#chart-loss");
                var epoch = await page.GetAttributeAsync("[data-plane=axial]", "data-epoch");
                await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#chart-loss')?.dataset.points) > {loss}");
                await BrowserSession.WaitAsync(page, $"() => document.querySelector('[data-plane=axial]')?.dataset.epoch !== '{epoch}'");
            }
            // An epoch of the smoke preset is two quick steps and renders are throttled (200 ms): let each
            // browser show a few steps before stopping, or the latency check below has nothing to measure.
            foreach (var page in new[] { op, viewer })
                await BrowserSession.WaitAsync(page, "() => new Set(window.mzSteps.map(s => s[0])).size >= 4");
            Assert.Equal(0, await viewer.Locator("#stop-run").CountAsync());
            Assert.Equal(0, await viewer.Locator("#pause-run").CountAsync());

            await op.ClickAsync("#stop-run");
            await op.WaitForSelectorAsync("[data-status=Stopped]");
            await viewer.WaitForSelectorAsync("[data-status=Stopped]");
            lossPoints = await Points(op, "#chart-loss");
            meanPoints = await Points(op, "#chart-mean-dice");
            stoppedAt = await Step(op);
            Assert.Equal(lossPoints, await Points(viewer, "#chart-loss"));

            // Event-to-browser latency: when each browser showed a step, against when the trainer published it.
            foreach (var (name, page) in new[] { ("operator", op), ("viewer", viewer) })
            {
                var shown = await page.EvaluateAsync<double[][]>("() => window.mzSteps");
                var latencies = shown.Where(s => published.ContainsKey((long)s[0]))
                    .Select(s => s[1] - published[(long)s[0]].ToUnixTimeMilliseconds()).Order().ToList();
                Assert.True(latencies.Count >= 2, $"{name} showed {latencies.Count} steps");
                var median = latencies[latencies.Count / 2];
                output.WriteLine($"{name}: {latencies.Count} step updates, event to browser median {median:0} ms, max {latencies[^1]:0} ms");
                Assert.True(median < 1000, $"{name}: median latency {median} ms");
            }
            await op.Context.CloseAsync();
            await viewer.Context.CloseAsync();
        }

        // The restart: in cluster mode a new web node and worker on the same database.
        await using (var again = NewApp(folder.Path, executor: null))
        {
            var address = again.Start();
            var stored = again.Runs().Get(runId)!;
            Assert.Equal(RunStatus.Stopped, stored.Status);
            Assert.Equal(stoppedAt, stored.GlobalStep);

            var page = await browser.NewPageAsync(address);
            await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs");
            await page.ClickAsync("a.mz-run-link:has-text('live run')");
            await BrowserSession.WaitForUrlAsync(page, new Regex($"/runs/{runId}$"));
            await BrowserSession.WaitInteractiveAsync(page);
            await page.WaitForSelectorAsync("[data-status=Stopped]");
            await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#chart-loss')?.dataset.points) === {lossPoints}");
            Assert.Equal(meanPoints, await Points(page, "#chart-mean-dice"));

            // Stopped after at least one epoch: it resumes from its last checkpoint and its series continue.
            await page.ClickAsync("#continue-run");
            await page.WaitForSelectorAsync("[data-status=Running]");
            await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#run-step')?.textContent) > {stoppedAt}");
            await page.ClickAsync("#stop-run");
            await page.WaitForSelectorAsync("[data-status=Stopped]");
            var resumed = await again.WaitForStatusAsync(runId, RunStatus.Stopped);
            Assert.Equal(2, resumed.Sessions);
            // The resumed session retrains the epoch the stop cut short: its steps replace that epoch's first attempt.
            var steps = RunView.Load(again.History(), resumed).Steps.Select(s => s.GlobalStep).ToList();
            Assert.Equal(Enumerable.Range(1, steps.Count).Select(i => (long)i), steps);
            Assert.True(steps.Count > stoppedAt - 2, $"{steps.Count} steps after resuming from step {stoppedAt}");
        }
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class LiveRunE2ETests_Cluster(ClusterHosts cluster, Xunit.Abstractions.ITestOutputHelper output) : LiveRunE2ETests(output)
{
    protected override IDashboardHosts Hosts => cluster;
}
