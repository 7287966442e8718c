using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>Roles in a real browser: anonymous users see only the sign-in page; viewers watch but cannot start or stop.</summary>
public class AccessE2ETests : E2ETest
{
    [SkippableFact]
    public async Task Anonymous_AnyPage_ShowsOnlyTheSignInForm()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        foreach (var path in new[] { "/", "/runs", "/runs/new", "/admin/users" })
        {
            await page.GotoAsync(path);
            await page.WaitForSelectorAsync("#signin-form");
            Assert.Contains("/account/signin", page.Url);
            Assert.Equal(0, await page.Locator("#current-user").CountAsync());
        }
        // A wrong password keeps the visitor out.
        await page.FillAsync("#username", MedZooAppFactory.AdminName);
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("#signin-submit");
        await page.WaitForSelectorAsync("#signin-error");
    }

    [SkippableFact]
    public async Task Viewer_WatchesARunButHasNoControlsAndServerRefusesNewRun()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);
        var run = app.Service().Start(Admin, "watched", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 100));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, "watcher", "watcher-password", $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("[data-status=Running]");
        Assert.Equal(0, await page.Locator("#stop-run").CountAsync());
        Assert.Equal(0, await page.Locator("#pause-run").CountAsync());
        Assert.Equal(0, await page.Locator("#nav-new-run").CountAsync());
        gate.Release(2);
        await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-loss')?.dataset.points) >= 2");

        // The server refuses the page itself (not only the hidden link).
        await page.GotoAsync("/runs/new");
        await page.WaitForSelectorAsync("#denied:has-text('This page needs the operator role.')");
        Assert.Equal(0, await page.Locator("#start-run").CountAsync());
        await page.GotoAsync("/admin/users");
        await page.WaitForSelectorAsync("#denied:has-text('This page needs the admin role.')");
        await BrowserSession.GotoAsync(page, "/runs");
        await page.WaitForSelectorAsync("#runs-grid");
        Assert.Equal(0, await page.Locator("#delete-selected").CountAsync());
        gate.Release(1000);
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class AccessE2ETests_Cluster(ClusterHosts cluster) : AccessE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
