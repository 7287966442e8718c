using System.Text.RegularExpressions;
using MedZoo.Engine.Training;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Datasets;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.E2E;

/// <summary>
/// Issue 15 in a real browser: an operator plans the synthetic dataset on the Datasets page, reads
/// every choice with its reason, overrides the patch (a bad value refused on its field first) and
/// sees the plan change; a run auto-configured from its dataset starts and trains with the plan.
/// </summary>
public class DatasetPlanE2ETests : E2ETest
{
    private const string PatchRow = "#plan-choices tr[data-field='patch']";

    [SkippableFact]
    public async Task Plan_SyntheticDataset_ShowsReasonsAndAPatchOverrideChangesThePlan()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/datasets");
        await page.ClickAsync("#datasets-table tr:has(td:text-is('synthetic')) >> .plan-dataset");
        await page.WaitForSelectorAsync("#dataset-plan");
        // A small phantom set and network, so that planning (every subject read, the model measured) takes seconds.
        foreach (var (field, value) in new[] { ("#plan-subjects", "3"), ("#plan-size", "16"), ("#plan-base-filters", "4") })
        {
            await page.FillAsync(field, value);
            await page.PressAsync(field, "Tab");
        }
        await page.ClickAsync("#plan-start");
        // Reading the subjects and measuring the model takes a moment: the page says it is planning, unless the plan
        // is there before the browser looks (seen in the whole suite), so either one will do here.
        await page.WaitForSelectorAsync("#plan-state:has-text('Planning…'), #plan-choices tr[data-field='spacing'] .plan-reason:has-text('median of 3 subjects')");
        await page.WaitForSelectorAsync("#plan-choices tr[data-field='spacing'] .plan-reason:has-text('median of 3 subjects')");
        // Every choice has its reason; the fingerprint lists each subject and each modality's statistics.
        foreach (var field in new[] { "orientation", "spacing", "image interpolation", "intensity T1", "intensity T2", "patch", "batch", "depth" })
            Assert.False(string.IsNullOrWhiteSpace(await page.InnerTextAsync($"#plan-choices tr[data-field='{field}'] .plan-reason")), $"{field} has no reason");
        Assert.Equal(3, await page.Locator("#plan-subjects tbody tr").CountAsync());
        Assert.Contains("16 × 16 × 16", await page.InnerTextAsync("#plan-subjects tbody tr:first-child"));
        Assert.Equal(2, await page.Locator("#plan-intensity tbody tr").CountAsync());
        var planned = (await page.InnerTextAsync($"{PatchRow} .plan-value")).Trim();
        Assert.NotEqual("8 × 8 × 8", planned); // so that the override below is a change

        // A patch the planner cannot use is refused on the Patch field, in words.
        await page.FillAsync("#plan-patch", "8,8");
        await page.PressAsync("#plan-patch", "Tab");
        await page.ClickAsync("#plan-start");
        var error = page.Locator(".mud-input-control:has(#plan-patch) .mud-input-helper-text.mud-input-error");
        await error.WaitForAsync();
        Assert.Contains("must be 3 positive sizes D,H,W", await error.InnerTextAsync());

        // The override re-plans: the patch is the one set, marked as such, with the planner's own choice in its reason.
        await page.FillAsync("#plan-patch", "8");
        await page.PressAsync("#plan-patch", "Tab");
        await page.ClickAsync("#plan-start");
        await page.WaitForSelectorAsync($"{PatchRow} .plan-value:text-is('8 × 8 × 8')");
        // (The planner measures memory again, so its own choice is not compared with the first plan's.)
        Assert.Contains("set by you (the planner chose ", await page.InnerTextAsync($"{PatchRow} .plan-reason"));
        Assert.Contains("overridden", await page.InnerTextAsync(PatchRow));
        Assert.Equal([8, 8, 8], app.Services.GetRequiredService<DatasetService>().StoredPlan("synthetic")!.Plan.PatchSize.Value);
    }

    [SkippableFact]
    public async Task NewRun_AutoConfigurePreset_SaysThePlanDecidesAndTheRunTrainsWithIt()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs/new");
        await page.WaitForSelectorAsync("#opt-Sampling-PatchSize");
        Assert.Equal(0, await page.Locator("#plan-notice").CountAsync());
        await page.ClickAsync("div.mud-select:has(#run-preset)"); // the select's input is hidden: click its box
        await page.ClickAsync($".mud-popover-open .mud-list-item:has-text('{TrainerRunExecutor.AutoPreset}')");
        var notice = await page.WaitForSelectorAsync("#plan-notice");
        Assert.Contains("plan decides the patch size, batch size and depth", await notice!.InnerTextAsync());

        await BrowserSession.ClickAndWaitForUrlAsync(page, "#start-run", new Regex("/runs/(?!new)[^/]+$"));
        var runId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        // The run plans its dataset as it starts and says so in its log, then trains to the end.
        await page.WaitForSelectorAsync("#run-log:has-text('plan for')", new() { Timeout = BrowserSession.TimeoutMs });
        var run = await app.WaitForStatusAsync(runId, RunStatus.Completed);
        Assert.Equal(TrainingPlans.Auto, RunConfigJson.Deserialize<TrainerOptions>(run.ConfigJson).PlanSource);
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class DatasetPlanE2ETests_Cluster(ClusterHosts cluster) : DatasetPlanE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
