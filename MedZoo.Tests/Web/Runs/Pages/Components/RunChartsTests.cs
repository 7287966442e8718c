using Bunit;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Components;
using MedZoo.Web.Components.Shared;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Pages.Components;
using MudBlazor;

namespace MedZoo.Tests.Web.Runs.Pages.Components;

public sealed class RunChartsTests : ComponentTestContext
{
    [Fact]
    public void RunCharts_20000Steps_ChartsAtMostTheViewsBoundedSeries()
    {
        var view = new RunView(new RunRecord { Id = "r", Name = "r", Status = RunStatus.Running, StepsPerEpoch = 1000 });
        long seq = 0;
        for (var e = 1; e <= 20; e++)
        {
            for (var s = 1; s <= 1000; s++)
                view.Apply(new RunUpdate(++seq, new StepCompleted { RunId = "r", Epoch = e, Step = s, StepsPerEpoch = 1000, GlobalStep = (e - 1) * 1000 + s, Loss = 1.0 / s, LearningRate = 0.1 }));
            view.Apply(new RunUpdate(++seq, new EpochCompleted { RunId = "r", Epoch = e, Epochs = 20, TrainLoss = 1, LearningRate = 0.1, Seconds = 1, ValidationLoss = 1 }));
        }
        var charts = Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var points = int.Parse(charts.Find("#chart-loss").GetAttribute("data-points")!, System.Globalization.CultureInfo.InvariantCulture);
        // Step points of the view plus 20 train-epoch and 20 validation points, never the 20,000 steps.
        Assert.Equal(view.Steps.Count + 40, points);
        Assert.InRange(view.Steps.Count, RunView.ExactStepPoints, RunView.MaxStepPoints);
    }

    private static RunView SmallRun(out long seq)
    {
        var view = new RunView(new RunRecord { Id = "r", Name = "r", Status = RunStatus.Running, StepsPerEpoch = 4, ClassNames = ["background", "csf", "gm", "wm"] });
        seq = 0;
        for (var e = 1; e <= 3; e++)
        {
            for (var s = 1; s <= 4; s++)
                view.Apply(new RunUpdate(++seq, new StepCompleted { RunId = "r", Epoch = e, Step = s, StepsPerEpoch = 4, GlobalStep = (e - 1) * 4 + s, Loss = 1.0 / s + e, LearningRate = 0.1 }));
            view.Apply(new RunUpdate(++seq, Epoch(e, 1.0 / e)));
        }
        return view;
    }

    private static EpochCompleted Epoch(int e, double loss) => new()
    {
        RunId = "r", Epoch = e, Epochs = 5, TrainLoss = loss, LearningRate = 0.1, Seconds = 1, ValidationLoss = loss, MeanForegroundDice = 0.5,
        Validation = [new("background", 0.9, 0, 0, 0, 0, 0), new("csf", 0.5, 0, 0, 0, 0, 0), new("gm", 0.6, 0, 0, 0, 0, 0), new("wm", 0.7, 0, 0, 0, 0, 0)],
    };

    private static ChartSpec Spec(JSRuntimeInvocation call) => (ChartSpec)call.Arguments[1]!;

    [Fact]
    public void SmoothingChanged_SendsTheStepLineWholeSmoothedAgain()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var view = SmallRun(out _);
        var charts = Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var sent = module.Invocations["draw"].Count;
        charts.InvokeAsync(() => charts.FindComponent<MudSlider<double>>().Instance.ValueChanged.InvokeAsync(0.0));

        var loss = Spec(Assert.Single(module.Invocations["draw"].Skip(sent)));
        Assert.NotNull(loss.Base);
        Assert.True(loss.Series[0].Replace);
        Assert.Equal(view.Steps.Select(s => (double?)s.Loss), loss.Series[0].Y); // smoothing 0: the losses themselves
        Assert.All(loss.Series.Skip(1), l => Assert.Empty(l.X));
    }

    [Fact]
    public void ClassHidden_SendsTheClassChartWholeWithoutIt()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var view = SmallRun(out _);
        var charts = Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var sent = module.Invocations["draw"].Count;
        charts.InvokeAsync(() => charts.FindComponents<MudCheckBox<bool>>()[1].Instance.ValueChanged.InvokeAsync(false)); // hide gm

        var classes = Spec(Assert.Single(module.Invocations["draw"].Skip(sent)));
        Assert.Null(classes.Base);
        Assert.Equal(["csf", "wm"], classes.Series.Select(l => l.Name));
        Assert.Equal([0.5, 0.5, 0.5], classes.Series[0].Y);
    }

    [Fact]
    public void EpochRepeated_SendsTheEpochLinesWholeAndAppendsNewEpochs()
    {
        var module = Context.JSInterop.SetupModule("./js/charts.js");
        var view = SmallRun(out var seq);
        var charts = Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));

        var sent = module.Invocations["draw"].Count;
        view.Apply(new RunUpdate(++seq, Epoch(4, 0.25)));
        charts.Render(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var appended = module.Invocations["draw"].Skip(sent).Select(Spec).ToList();
        Assert.Equal(3, appended.Count); // loss, mean Dice, classes
        Assert.All(appended, s => Assert.NotNull(s.Base));
        Assert.Equal([4.0], appended[0].Series[1].X); // train (epoch)
        Assert.All(appended.SelectMany(s => s.Series), l => Assert.False(l.Replace));

        sent = module.Invocations["draw"].Count;
        view.Apply(new RunUpdate(++seq, Epoch(3, 0.2))); // a resumed session repeats epoch 3
        charts.Render(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        var loss = Spec(module.Invocations["draw"].Skip(sent).First());
        Assert.True(loss.Series[1].Replace);
        Assert.Equal([1.0, 0.5, 0.2, 0.25], loss.Series[1].Y);
        Assert.Empty(loss.Series[0].X); // the steps did not change
    }
}
