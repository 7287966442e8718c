using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using MedZoo.Web.Sweeps;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.E2E;

public class SweepsE2ETests : E2ETest
{
    [SkippableFact]
    public async Task Sweeps_PreviewThenStart_TrialsTrainAndTheDetailPageRanksThem()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/sweeps");

        // A typo is caught before anything is queued, naming the option meant.
        await page.FillAsync("#sweep-parameters", "diceScal: 0.5 | 1");
        await page.ClickAsync("#sweep-preview");
        await page.WaitForSelectorAsync("#sweep-error:has-text(\"did you mean 'diceScale'?\")");

        await page.FillAsync("#sweep-name", "scales in the browser");
        await page.FillAsync("#sweep-parameters", "diceScale: 0.5 | 1\nepochs: 1 | 2");
        await page.ClickAsync("#sweep-preview");
        await page.WaitForSelectorAsync("#sweep-preview-count:has-text('4 trial(s)')");
        Assert.Empty(app.Runs().List());

        await BrowserSession.ClickAndWaitForUrlAsync(page, "#sweep-start", new System.Text.RegularExpressions.Regex("/sweeps/sweep-"));
        var sweep = app.Services.GetRequiredService<SweepService>().List().Single();
        foreach (var t in sweep.Trials) await app.WaitForStatusAsync(t.RunId, RunStatus.Completed);

        // The page follows the trials live: it ends "completed" without a reload, the best trial first.
        await page.WaitForSelectorAsync("#sweep-state:has-text('completed')");
        await page.WaitForSelectorAsync("#sweep-summary:has-text('4 of 4 trials done')");
        var firstRow = page.Locator("#sweep-trials tbody tr").First;
        Assert.Equal("1", (await firstRow.Locator(".mz-rank").InnerTextAsync()).Trim());
        Assert.Equal("0.7000", (await firstRow.Locator(".mz-best-dice").InnerTextAsync()).Trim());
        Assert.Equal(4, await page.Locator("#sweep-trials tbody tr").CountAsync());

        await BrowserSession.GotoAsync(page, "/sweeps");
        await page.WaitForSelectorAsync("a.mz-sweep-link:has-text('scales in the browser')");
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class SweepsE2ETests_Cluster(ClusterHosts cluster) : SweepsE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
