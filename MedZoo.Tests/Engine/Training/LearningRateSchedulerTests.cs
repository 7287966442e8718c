using MedZoo.Engine;
using MedZoo.Engine.Training;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Training;

public class LearningRateSchedulerTests
{
    private static double[] Rates(SchedulerOptions o, int epochs, double baseLr = 1.0, double?[]? metrics = null)
    {
        var s = new LearningRateScheduler(o, baseLr, epochs);
        return Enumerable.Range(0, epochs).Select(e => s.Step(metrics?[e])).ToArray();
    }

    [Fact]
    public void Step_StepSchedule_DecaysEveryStepSize()
    {
        var r = Rates(new SchedulerOptions { Kind = SchedulerKind.Step, StepSize = 2, Gamma = 0.5 }, 5);
        Assert.Equal([1, 0.5, 0.5, 0.25, 0.25], r);
    }

    [Fact]
    public void Step_Polynomial_FollowsNnUNet()
    {
        var r = Rates(new SchedulerOptions { Kind = SchedulerKind.Polynomial }, 4, 0.01);
        for (var e = 1; e <= 4; e++) Assert.Equal(0.01 * Math.Pow(1 - e / 4.0, 0.9), r[e - 1], 12);
        Assert.Equal(0, r[^1]);
    }

    [Fact]
    public void Step_Cosine_ReachesMinimumAtTheEnd()
    {
        var r = Rates(new SchedulerOptions { Kind = SchedulerKind.Cosine, MinLearningRate = 0.1 }, 4);
        Assert.Equal(0.1 + 0.9 * (1 + Math.Cos(Math.PI / 4)) / 2, r[0], 12);
        Assert.Equal(0.55, r[1], 12);
        Assert.Equal(0.1, r[^1], 12);
    }

    [Fact]
    public void Step_Plateau_ReducesAfterPatienceAndIgnoresEpochsWithoutValidation()
    {
        var o = new SchedulerOptions { Kind = SchedulerKind.ReduceOnPlateau, PlateauPatience = 1, PlateauFactor = 0.5 };
        var r = Rates(o, 6, metrics: [0.5, null, 0.5, 0.5, 0.6, 0.6]);
        Assert.Equal([1, 1, 1, 0.5, 0.5, 0.5], r);
    }

    [Fact]
    public void SaveLoadState_ResumedScheduleMatchesUninterrupted()
    {
        var o = new SchedulerOptions { Kind = SchedulerKind.ReduceOnPlateau, PlateauPatience = 0, PlateauFactor = 0.5 };
        double?[] m = [0.5, 0.4, 0.6, 0.6, 0.3, 0.7];
        var full = Rates(o, 6, metrics: m);
        var first = new LearningRateScheduler(o, 1, 6);
        for (var e = 0; e < 3; e++) first.Step(m[e]);
        var second = new LearningRateScheduler(o, 1, 6);
        second.LoadState(first.SaveState());
        var rest = Enumerable.Range(3, 3).Select(e => second.Step(m[e])).ToArray();
        Assert.Equal(full[3..], rest);
    }

    [Fact]
    public void Apply_SetsOptimizerLearningRate()
    {
        using var p = nn.Parameter(zeros([2]));
        var opt = optim.SGD([p], 1.0);
        var s = new LearningRateScheduler(new SchedulerOptions { Kind = SchedulerKind.Step, StepSize = 1, Gamma = 0.1 }, 1.0, 3);
        s.Step();
        s.Apply(opt);
        Assert.Equal(0.1, opt.ParamGroups.Single().LearningRate, 12);
    }

    [Theory]
    [InlineData("Gamma")]
    [InlineData("StepSize")]
    [InlineData("PlateauFactor")]
    public void Validate_BadField_NamesIt(string field)
    {
        var o = new SchedulerOptions();
        switch (field)
        {
            case "Gamma": o.Gamma = 0; break;
            case "StepSize": o.StepSize = 0; break;
            case "PlateauFactor": o.PlateauFactor = 1; break;
        }
        Assert.Contains(field, Assert.Throws<InvalidOptionException>(o.Validate).Message);
    }
}
