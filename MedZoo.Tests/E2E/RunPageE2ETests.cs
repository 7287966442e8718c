using System.Text.RegularExpressions;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using Microsoft.Playwright;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The run page and the comparison in a real browser, with the scripted trainer held where the
/// test needs it: validation every few epochs drawn as lines while the run goes on, the phase of
/// a session before its first step with a ticking duration, and default names that tell runs apart.
/// </summary>
public partial class RunPageE2ETests : E2ETest
{
    // Pixels of a canvas within 40 of an RGB colour on every channel (what the issue counted).
    private const string CountColour = """
        ([selector, rgb]) => {
            const c = document.querySelector(selector + ' canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4)
                if (d[i + 3] > 100 && Math.abs(d[i] - rgb[0]) < 40 && Math.abs(d[i + 1] - rgb[1]) < 40 && Math.abs(d[i + 2] - rgb[2]) < 40) n++;
            return n;
        }
        """;

    private static readonly int[] ValidationRed = [198, 40, 40]; // MzColors.Line(1), the validation lines of a run's charts
    private static readonly int[] WhiteMatter = [69, 123, 230]; // MzColors.Class(3): drawn last, over the other classes (the scripted Dice is the same for all)
    private static readonly int[] FirstRunBlue = [21, 101, 192]; // MzColors.Line(0), the first run of a comparison

    private static Task<int> Pixels(IPage page, string chart, int[] rgb) => page.EvaluateAsync<int>(CountColour, new object[] { chart, rgb });

    private static Task WaitDrawnAsync(IPage page, string chart, int points) =>
        BrowserSession.WaitAsync(page, $"() => document.querySelector('{chart} canvas')?.dataset.points === '{points}'");

    [GeneratedRegex("^Running the first step")]
    private static partial Regex FirstStep();

    [SkippableFact]
    public async Task RunPage_ValidationEveryThirdEpoch_DrawsValidationLinesWhileTheRunGoesOn()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0) };
        await using var app = NewApp(folder.Path, executor);
        var address = app.Start();
        var run = app.Service().Start(Admin, "sparse", ScriptedRunExecutor.Json(epochs: 9, stepsPerEpoch: 1, validateEvery: 3));
        executor.StepGate.Release(7); // epochs 1..7 done, validated at 3 and 6; held at the first step of epoch 8
        await app.WaitForRunAsync(run.Id, r => r.EpochsCompleted == 7, "seven epochs");

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await page.SetViewportSizeAsync(1440, 900);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("[data-status=Running]");
        // 3 classes × 2 validated epochs; loss: 7 train epochs + 7 steps + 2 validations; mean Dice: 2 validations + 7 train.
        await WaitDrawnAsync(page, "#chart-class-dice", 6);
        await WaitDrawnAsync(page, "#chart-loss", 16);
        await WaitDrawnAsync(page, "#chart-mean-dice", 9);

        var classPixels = await Pixels(page, "#chart-class-dice", WhiteMatter);
        var lossPixels = await Pixels(page, "#chart-loss", ValidationRed);
        var meanPixels = await Pixels(page, "#chart-mean-dice", ValidationRed);
        Assert.True(classPixels > 150, $"'Validation Dice per class' draws {classPixels} white-matter pixels for epochs 3 and 6");
        Assert.True(lossPixels > 80, $"the Loss chart's validation line has {lossPixels} pixels");
        Assert.True(meanPixels > 80, $"the mean Dice chart's validation line has {meanPixels} pixels");
        Assert.Equal(RunStatus.Running, app.Runs().Get(run.Id)!.Status);

        executor.StepGate.Release(2);
        await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        await BrowserSession.GotoAsync(page, $"/compare?runs={run.Id}");
        await WaitDrawnAsync(page, "#compare-dice", 3);
        var comparePixels = await Pixels(page, "#compare-dice", FirstRunBlue);
        Assert.True(comparePixels > 150, $"/compare draws {comparePixels} pixels of the run's validation line");
    }

    [SkippableFact]
    public async Task RunPage_BeforeTheFirstStep_ShowsThePhaseAndATickingDuration()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StartGate = new SemaphoreSlim(0), StepGate = new SemaphoreSlim(0) };
        await using var app = NewApp(folder.Path, executor);
        var address = app.Start();
        var run = app.Service().Start(Admin, "slow start", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("#run-phase:has-text('Loading the dataset')");
        // Nothing arrives from the trainer while it loads, yet the duration moves on.
        var before = await page.InnerTextAsync("#run-duration");
        await BrowserSession.WaitAsync(page, "d => document.querySelector('#run-duration').textContent !== d", before);

        executor.StartGate.Release();
        await page.WaitForSelectorAsync("#run-phase:has-text('checking convolutions')");
        Assert.Matches(FirstStep(), await page.InnerTextAsync("#run-phase"));
        Assert.Equal("0", await page.InnerTextAsync("#run-step"));

        executor.StepGate.Release();
        await page.WaitForSelectorAsync("#run-step:has-text('1')");
        await page.WaitForSelectorAsync("#run-phase", new() { State = WaitForSelectorState.Detached });

        // A page opened now (from the stored history) shows no phase either.
        await BrowserSession.GotoAsync(page, $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("[data-status=Running]");
        Assert.Equal(0, await page.Locator("#run-phase").CountAsync());
        executor.StepGate.Release();
        await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
    }

    [SkippableFact]
    public async Task DefaultNames_TwoRunsOfOneModelOnOneDataset_DifferEverywhere()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var a = app.Service().Start(Admin, "", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        var b = app.Service().Start(Admin, " ", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(a.Id, RunStatus.Completed);
        await app.WaitForStatusAsync(b.Id, RunStatus.Completed);
        Assert.NotEqual(a.Name, b.Name);
        foreach (var r in new[] { a, b })
        {
            Assert.StartsWith("FAKE on synthetic", r.Name);
            Assert.EndsWith("#" + r.Id[^6..], r.Name);
        }

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await page.SetViewportSizeAsync(1440, 900);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs");
        await page.WaitForSelectorAsync($"a.mz-run-link:has-text('{b.Name}')");
        var listed = await page.Locator("a.mz-run-link").AllInnerTextsAsync();
        Assert.Equal(2, listed.Distinct().Count());

        await BrowserSession.GotoAsync(page, $"/compare?runs={a.Id},{b.Id}");
        await page.WaitForSelectorAsync("#compare-config");
        var legend = await page.Locator("#compare-dice .mz-legend-item").AllInnerTextsAsync();
        Assert.Equal([a.Name, b.Name], legend);
        var headers = await page.Locator("#compare-config thead th").AllInnerTextsAsync();
        Assert.Equal(["Setting", a.Name, b.Name], headers);
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class RunPageE2ETests_Cluster(ClusterHosts cluster) : RunPageE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
