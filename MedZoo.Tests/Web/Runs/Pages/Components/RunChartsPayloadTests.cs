using System.Text.Json;
using Bunit;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Components;
using MedZoo.Web.Components.Shared;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Pages.Components;
using Xunit.Abstractions;

namespace MedZoo.Tests.Web.Runs.Pages.Components;

/// <summary>
/// What the run page's charts send the browser on each live tick: bytes of the JS interop payload
/// (the chart specs, serialized as Blazor does) for a 15-epoch × 200-step run, one tick per step;
/// and that the lines the browser builds from those deltas are the lines a fresh page draws.
/// </summary>
public sealed class RunChartsPayloadTests(ITestOutputHelper output) : ComponentTestContext
{
    private const int Epochs = 15, StepsPerEpoch = 200;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static StepCompleted Step(int e, int s) => new()
    {
        RunId = "r", Epoch = e, Step = s, StepsPerEpoch = StepsPerEpoch, GlobalStep = (e - 1) * StepsPerEpoch + s,
        Loss = 1.0 / s + 0.01 * e, LearningRate = 0.1,
    };

    private static EpochCompleted Epoch(int e) => new()
    {
        RunId = "r", Epoch = e, Epochs = Epochs, TrainLoss = 1.0 / e, LearningRate = 0.1, Seconds = 1, TrainDice = [0.9, 0.5, 0.6, 0.7],
        ValidationLoss = e % 3 == 0 ? 0.5 / e : null, MeanForegroundDice = e % 3 == 0 ? 0.6 : null,
        Validation = e % 3 == 0 ? [new("background", 0.99, 0.9, 0.9, 0.9, 1, 1), new("csf", 0.5, 0.4, 0.5, 0.5, 1, 1), new("gm", 0.6, 0.5, 0.6, 0.6, 1, 1), new("wm", 0.7, 0.6, 0.7, 0.7, 1, 1)] : null,
    };

    [Fact]
    public void RunCharts_LiveTicks_SendOnlyTheNewPoints()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var view = new RunView(new RunRecord
        {
            Id = "r", Name = "r", Status = RunStatus.Running, StepsPerEpoch = StepsPerEpoch, Epochs = Epochs,
            ClassNames = ["background", "csf", "gm", "wm"],
        });
        long seq = 0;
        view.Apply(new RunUpdate(++seq, Step(1, 1)));
        var charts = Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var sent = module.Invocations["draw"].Count;

        var browser = new BrowserCharts();
        browser.Apply(module.Invocations["draw"]);
        List<JSRuntimeInvocation> lastStepCalls = [], tickCalls = [];
        long stepTicks = 0, stepBytes = 0, epochTicks = 0, epochBytes = 0, lastStepTick = 0;
        for (var e = 1; e <= Epochs; e++)
        {
            for (var s = e == 1 ? 2 : 1; s <= StepsPerEpoch; s++)
            {
                view.Apply(new RunUpdate(++seq, Step(e, s)));
                lastStepTick = Tick();
                lastStepCalls = tickCalls;
                stepBytes += lastStepTick;
                stepTicks++;
            }
            view.Apply(new RunUpdate(++seq, Epoch(e)));
            epochBytes += Tick();
            epochTicks++;
        }
        output.WriteLine($"{Epochs} epochs × {StepsPerEpoch} steps, one tick per step: {stepBytes / stepTicks} bytes per step tick on average " +
                         $"({lastStepTick} at the last step), {epochBytes / epochTicks} per epoch-end tick, {(stepBytes + epochBytes) / 1024} KiB in all");
        // A step tick carries one new loss point per chart that changed (and nothing for the others).
        Assert.True(stepBytes / stepTicks < 400, $"a step tick sent {stepBytes / stepTicks} bytes on average; one new point is under 400");
        Assert.True(epochBytes / epochTicks < 1500, $"an epoch-end tick sent {epochBytes / epochTicks} bytes on average");

        // The last step tick drew one chart (the loss) with one new point, appended.
        var lastSpec = (ChartSpec)Assert.Single(lastStepCalls).Arguments[1]!;
        Assert.NotNull(lastSpec.Base);
        Assert.Single(lastSpec.Series[0].X);
        Assert.All(lastSpec.Series.Skip(1), l => Assert.Empty(l.X));

        // What the browser holds after 3,000 deltas (and the whole resends of reduced steps) is what a new page draws.
        Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var wholes = module.Invocations["draw"].Skip(sent).Select(c => ((ChartSpec)c.Arguments[1]!).Series).ToList();
        Assert.Equal(3, wholes.Count);
        Assert.Equal(wholes.Select(Lines), browser.Charts.Values.Select(c => c.Select(l => (l.X.ToArray(), l.Y.ToArray())).ToList()));

        // Bytes of the specs sent to the browser by the render of one tick (all three charts).
        long Tick()
        {
            charts.Render(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
            var calls = module.Invocations["draw"];
            var bytes = calls.Skip(sent).Sum(c => (long)JsonSerializer.SerializeToUtf8Bytes(c.Arguments[1], Json).Length);
            tickCalls = calls.Skip(sent).ToList();
            browser.Apply(tickCalls);
            sent = calls.Count;
            return bytes;
        }
    }

    private static List<(double[] X, double?[] Y)> Lines(IReadOnlyList<ChartSeriesSpec> series) => series.Select(l => (l.X, l.Y)).ToList();

    /// <summary>What js/charts.js holds per canvas: whole specs replace, deltas append (or replace a line).</summary>
    private sealed class BrowserCharts
    {
        public Dictionary<string, List<(List<double> X, List<double?> Y)>> Charts { get; } = [];
        private readonly Dictionary<string, long> _seq = [];

        public void Apply(IEnumerable<JSRuntimeInvocation> calls)
        {
            foreach (var call in calls)
            {
                var canvas = ((Microsoft.AspNetCore.Components.ElementReference)call.Arguments[0]!).Id;
                var spec = (ChartSpec)call.Arguments[1]!;
                if (spec.Base is null)
                    Charts[canvas] = spec.Series.Select(l => (l.X.ToList(), l.Y.ToList())).ToList();
                else
                {
                    Assert.Equal(_seq[canvas], spec.Base);
                    for (var i = 0; i < spec.Series.Count; i++)
                    {
                        var (x, y) = Charts[canvas][i];
                        if (spec.Series[i].Replace) { x.Clear(); y.Clear(); }
                        x.AddRange(spec.Series[i].X);
                        y.AddRange(spec.Series[i].Y);
                    }
                }
                _seq[canvas] = spec.Seq;
            }
        }
    }
}
