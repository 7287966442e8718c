using Bunit;
using MedZoo.Web.Components.Shared;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Pages.Components;

namespace MedZoo.Tests.Web.Components;

public sealed class RunStatusChipTests : ComponentTestContext
{
    [Theory]
    [InlineData(RunStatus.Failed)]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.Interrupted)]
    public void Render_Status_ShowsItAsTextAndAttribute(RunStatus status)
    {
        var chip = Context.Render<RunStatusChip>(p => p.Add(c => c.Status, status));
        var el = chip.Find(".mz-status");
        Assert.Equal(status.ToString(), el.GetAttribute("data-status"));
        Assert.Contains(status.ToString(), el.TextContent);
    }
}

public sealed class LineChartTests : ComponentTestContext
{
    [Fact]
    public void Render_SeriesWithNaN_CountsFinitePointsAndDrawsThroughTheModule()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var chart = Context.Render<LineChart>(p => p
            .Add(c => c.Id, "c1")
            .Add(c => c.Series, [new ChartLine("a", "red", [1, 2, 3], [0.5, double.NaN, 0.7]), new ChartLine("b", "blue", [1], [1])])
            .Add(c => c.Version, 1));
        Assert.Equal("3", chart.Find("#c1").GetAttribute("data-points"));
        Assert.Equal(2, chart.FindAll(".mz-legend-item").Count);
        Assert.Single(module.Invocations["draw"]);

        chart.Render(p => p.Add(c => c.Version, 1)); // same version: no redraw
        Assert.Single(module.Invocations["draw"]);
        chart.Render(p => p.Add(c => c.Version, 2));
        Assert.Equal(2, module.Invocations["draw"].Count);
    }
}
