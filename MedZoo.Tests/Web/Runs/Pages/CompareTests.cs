using Bunit;
using MedZoo.Tests.Web.Components;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Runs.Pages;

public sealed class CompareTests : ComponentTestContext
{
    [Fact]
    public async Task Render_TwoRuns_ShowsDifferingSettingsAndBestResults()
    {
        await using var f = new StoreFixture();
        f.AddRun("a");
        f.Runs.Update("a", r => r.ConfigJson = ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2));
        RunEventRecorderTests.RunScripted(f, "a", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2));
        f.AddRun("b");
        f.Runs.Update("b", r => r.ConfigJson = ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 2));
        RunEventRecorderTests.RunScripted(f, "b", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 2));
        await f.Recorder.FlushAsync();
        f.AddStores(Context.Services);
        Context.Services.AddSingleton(TimeProvider.System);
        Context.Services.GetRequiredService<NavigationManager>().NavigateTo("/compare?runs=a,b");

        var page = Context.Render<Compare>();

        var config = page.Find("#compare-config");
        Assert.Contains("epochs", config.TextContent);
        Assert.DoesNotContain("stepsPerEpoch", config.TextContent); // equal in both: not a difference
        var results = page.Find("#compare-results").TextContent;
        Assert.Contains("0.5000", results); // run a: best mean Dice after 1 epoch
        Assert.Contains("0.9000", results); // run b: after 3 epochs
        Assert.Contains("gm", results);     // per-class rows
        Assert.Equal("2", page.Find("#compare-dice").GetAttribute("data-series"));
        Assert.Equal("4", page.Find("#compare-dice").GetAttribute("data-points"));
    }
}
