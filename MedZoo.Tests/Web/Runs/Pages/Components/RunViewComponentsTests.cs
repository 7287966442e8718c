using Bunit;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Components;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Pages.Components;
using SlicePreviews = MedZoo.Web.Runs.Pages.Components.SlicePreviews;

namespace MedZoo.Tests.Web.Runs.Pages.Components;

public sealed class RunViewComponentsTests : ComponentTestContext
{
    private static RunView View(int epochs, params (SlicePlane Plane, int Slice)[] previews)
    {
        var view = new RunView(new RunRecord { Id = "r", Name = "r", Status = RunStatus.Running, StepsPerEpoch = 2 });
        long seq = 0;
        view.Apply(new RunUpdate(++seq, new RunStarted
        {
            RunId = "r", Model = "M", Dataset = "D", Device = "cpu", ClassNames = ["background", "csf", "gm", "wm"], Modalities = ["T1"],
            Epochs = epochs, StepsPerEpoch = 2, Parameters = 1,
        }));
        for (var e = 1; e <= epochs; e++)
        {
            for (var s = 1; s <= 2; s++)
                view.Apply(new RunUpdate(++seq, new StepCompleted { RunId = "r", Epoch = e, Step = s, StepsPerEpoch = 2, GlobalStep = (e - 1) * 2 + s, Loss = 1, LearningRate = 1 }));
            view.Apply(new RunUpdate(++seq, new EpochCompleted
            {
                RunId = "r", Epoch = e, Epochs = epochs, TrainLoss = 1, LearningRate = 1, Seconds = 1, ValidationLoss = 1, MeanForegroundDice = 0.5,
                Validation = new[] { "background", "csf", "gm", "wm" }.Select(n => new ClassMetrics(n, 0.5, 0.4, 0.5, 0.5, 1, 1)).ToList(),
            }));
        }
        foreach (var (plane, slice) in previews)
            view.Apply(new RunUpdate(++seq, new SlicePreview
            {
                RunId = "r", Epoch = epochs, SubjectId = "s1", Plane = plane, SliceIndex = slice, SliceCount = 32, Width = 4, Height = 4,
                Image = new byte[16], Prediction = new byte[16], GroundTruth = new byte[16],
            }));
        return view;
    }

    [Fact]
    public void RunCharts_ClassToggledOff_DropsItsCurve()
    {
        var view = View(3);
        var charts = Context.Render<RunCharts>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        Assert.Equal("3", charts.Find("#chart-class-dice").GetAttribute("data-series"));
        Assert.Equal("3", charts.Find("#chart-mean-dice").GetAttribute("data-points"));
        Assert.Equal("12", charts.Find("#chart-loss").GetAttribute("data-points")); // 6 steps + 3 train epochs + 3 validation

        var gm = charts.FindAll("#class-toggles input[type=checkbox]")[1];
        gm.Change(false);
        Assert.Equal("2", charts.Find("#chart-class-dice").GetAttribute("data-series"));
        Assert.DoesNotContain(charts.FindAll("#chart-class-dice .mz-legend-item"), i => i.TextContent == "gm");
    }

    [Fact]
    public void SlicePreviews_ThreePlanes_ShowInputPredictionAndTruthEach()
    {
        var view = View(1, (SlicePlane.Axial, 10), (SlicePlane.Axial, 20), (SlicePlane.Coronal, 16), (SlicePlane.Sagittal, 16));
        var previews = Context.Render<SlicePreviews>(p => p.Add(c => c.View, view).Add(c => c.Version, view.Version));
        Assert.Equal(9, previews.FindAll("canvas.mz-slice").Count);
        Assert.Equal(3, previews.FindAll(".mz-preview-plane").Count);
        Assert.Single(previews.FindAll("#slider-axial"));     // two axial slices to choose from
        Assert.Empty(previews.FindAll("#slider-coronal"));
        Assert.Contains("slice 21 of 32", previews.Find("[data-plane=axial]").TextContent); // middle of the available slices
    }

    [Fact]
    public void SlicePreviews_NoneYet_SaysWhenTheyCome()
    {
        var view = View(1);
        var previews = Context.Render<SlicePreviews>(p => p.Add(c => c.View, view));
        Assert.Contains("after the first validation", previews.Find("#previews-empty").TextContent);
    }
}
