using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

public class RunsPageE2ETests : E2ETest
{
    [SkippableFact]
    public async Task Runs_SelectTwoToCompareThenDeleteOneAfterConfirming()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var short1 = app.Service().Start(Admin, "short one", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        var long3 = app.Service().Start(Admin, "longer one", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(short1.Id, RunStatus.Completed);
        await app.WaitForStatusAsync(long3.Id, RunStatus.Completed);

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs");
        await page.FillAsync("#runs-search", "longer");
        await page.WaitForSelectorAsync("a.mz-run-link:has-text('short one')", new() { State = Microsoft.Playwright.WaitForSelectorState.Detached });
        await page.FillAsync("#runs-search", "");
        await page.WaitForSelectorAsync("a.mz-run-link:has-text('short one')");

        await page.CheckAsync("tr:has(a:has-text('short one')) input[type=checkbox]");
        await page.CheckAsync("tr:has(a:has-text('longer one')) input[type=checkbox]");
        await page.ClickAsync("#compare-selected");
        await page.WaitForSelectorAsync("#compare-config:has-text('epochs')");
        Assert.Contains(short1.Id, page.Url);

        await BrowserSession.GotoAsync(page, "/runs");
        await page.CheckAsync("tr:has(a:has-text('short one')) input[type=checkbox]");
        await page.ClickAsync("#delete-selected");
        await page.ClickAsync(".mud-dialog button:has-text('Delete')");
        await page.WaitForSelectorAsync("a.mz-run-link:has-text('short one')", new() { State = Microsoft.Playwright.WaitForSelectorState.Detached });
        Assert.Null(app.Runs().Get(short1.Id));
        Assert.NotNull(app.Runs().Get(long3.Id));
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class RunsPageE2ETests_Cluster(ClusterHosts cluster) : RunsPageE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
