using Bunit;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Components;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Pages.Components;

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
}
