using Bunit;
using MedZoo.Web.Components.Shared;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Pages.Components;
using Microsoft.JSInterop;

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
    private static ChartSpec Spec(JSRuntimeInvocation call) => Assert.IsType<ChartSpec>(call.Arguments[1]);

    [Fact]
    public void Render_SeriesWithNaN_CountsFinitePointsAndDrawsThroughTheModule()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var a = new ChartLine("a", "red", [1, 2, 3], [0.5, double.NaN, 0.7]);
        var chart = Context.Render<LineChart>(p => p
            .Add(c => c.Id, "c1")
            .Add(c => c.Series, [a, new ChartLine("b", "blue", [1], [1])])
            .Add(c => c.Version, 1));
        Assert.Equal("3", chart.Find("#c1").GetAttribute("data-points"));
        Assert.Equal(2, chart.FindAll(".mz-legend-item").Count);
        var first = Spec(Assert.Single(module.Invocations["draw"]));
        Assert.Null(first.Base);
        Assert.Equal([0.5, null, 0.7], first.Series[0].Y);

        chart.Render(p => p.Add(c => c.Version, 1)); // same version: no redraw
        chart.Render(p => p.Add(c => c.Version, 2)); // nothing new: nothing to send
        Assert.Single(module.Invocations["draw"]);
        a.Add(4, 0.8);
        chart.Render(p => p.Add(c => c.Version, 3));
        Assert.Equal(2, module.Invocations["draw"].Count);
        Assert.Equal("4", chart.Find("#c1").GetAttribute("data-points"));
    }

    [Fact]
    public void Render_PointsAddedAfterTheFirstDraw_SendsOnlyTheNewPoints()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var a = new ChartLine("a", "red", [1, 2, 3], [0.5, 0.6, 0.7]);
        var b = new ChartLine("b", "blue", [1], [1], dashed: true);
        IReadOnlyList<ChartLine> series = [a, b];
        var chart = Context.Render<LineChart>(p => p.Add(c => c.Series, series).Add(c => c.Version, 1).Add(c => c.YMin, 0));
        a.Add(4, 0.8);
        a.Add(5, double.NaN);
        chart.Render(p => p.Add(c => c.Series, series).Add(c => c.Version, 2).Add(c => c.YMin, 0));

        var calls = module.Invocations["draw"];
        Assert.Equal(2, calls.Count);
        var (whole, delta) = (Spec(calls[0]), Spec(calls[1]));
        Assert.Equal(whole.Seq, delta.Base);
        Assert.Equal([4.0, 5], delta.Series[0].X);
        Assert.Equal([0.8, null], delta.Series[0].Y);
        Assert.Empty(delta.Series[1].X);
        Assert.Null(delta.Series[0].Name); // style goes with whole lines only
        Assert.Equal(0, whole.YMin);
    }

    [Fact]
    public void Render_BrowserDoesNotHoldWhatTheDeltaBuildsOn_SendsEverythingAgain()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        // The browser answers true to a delta: it lost the lines (a reloaded module, a new canvas).
        module.Setup<bool>("draw", call => Spec(call).Base is not null).SetResult(true);
        var a = new ChartLine("a", "red", [1, 2], [0.5, 0.6]);
        var chart = Context.Render<LineChart>(p => p.Add(c => c.Series, [a]).Add(c => c.Version, 1));
        a.Add(3, 0.7);
        chart.Render(p => p.Add(c => c.Series, [a]).Add(c => c.Version, 2));

        var calls = module.Invocations["draw"];
        Assert.Equal(3, calls.Count);
        Assert.NotNull(Spec(calls[1]).Base);
        var again = Spec(calls[2]);
        Assert.Null(again.Base);
        Assert.Equal([1.0, 2, 3], again.Series[0].X);
    }

    [Fact]
    public void Render_DrawFailedWhileDisconnected_NextDrawSendsEverything()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var failing = module.Setup<bool>("draw", call => Spec(call).Seq == 2);
        failing.SetException(new JSDisconnectedException("the circuit is gone"));
        var a = new ChartLine("a", "red", [1], [0.5]);
        var chart = Context.Render<LineChart>(p => p.Add(c => c.Series, [a]).Add(c => c.Version, 1));
        a.Add(2, 0.6);
        chart.Render(p => p.Add(c => c.Series, [a]).Add(c => c.Version, 2)); // spec 2 fails
        a.Add(3, 0.7);
        chart.Render(p => p.Add(c => c.Series, [a]).Add(c => c.Version, 3));

        var last = Spec(module.Invocations["draw"][^1]);
        Assert.Null(last.Base);
        Assert.Equal([1.0, 2, 3], last.Series[0].X);
    }
}
