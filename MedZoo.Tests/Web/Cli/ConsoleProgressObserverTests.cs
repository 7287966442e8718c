using MedZoo.Engine.Training;
using MedZoo.Web.Cli.Training;

namespace MedZoo.Tests.Web.Cli;

public class ConsoleProgressObserverTests
{
    private static void Feed(ConsoleProgressObserver o)
    {
        o.OnEvent(new RunStarted
        {
            RunId = "r", Model = "UNET3D", Dataset = "synthetic", Device = "cpu", ClassNames = ["background", "CSF"], Modalities = ["T1"],
            Epochs = 2, StepsPerEpoch = 4, Parameters = 1,
        });
        for (var step = 1; step <= 4; step++)
            o.OnEvent(new StepCompleted { RunId = "r", Epoch = 1, Step = step, StepsPerEpoch = 4, GlobalStep = step, Loss = 1.0 / step, LearningRate = 0.01, Seconds = 2 });
        o.OnEvent(new EpochCompleted
        {
            RunId = "r", Epoch = 1, Epochs = 2, TrainLoss = 0.5, LearningRate = 0.01, Seconds = 8, MeanForegroundDice = 0.75, ValidationLoss = 0.4,
            Validation = [new ClassMetrics("background", 0.99, 0.9, 0.9, 0.9, double.NaN, double.NaN), new ClassMetrics("CSF", 0.75, 0.6, 0.7, 0.8, 2, 1)],
            IsBest = true,
        });
        o.OnEvent(new RunFinished { RunId = "r", Outcome = RunOutcome.Stopped, Reason = "stopped on request", EpochsCompleted = 1 });
    }

    [Fact]
    public void Redirected_PrintsPlainLinesWithLossDiceAndEta()
    {
        var w = new StringWriter();
        Feed(new ConsoleProgressObserver(w, interactive: false, lineEvery: 2));
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.DoesNotContain('\r', w.ToString());
        Assert.Contains("epoch 1/2 step 2/4 loss 0.5000 lr 0.01 ETA 0:12", lines);
        Assert.Contains(lines, l => l.StartsWith("epoch 1/2 train loss 0.5000, val loss 0.4000, val Dice 0.7500 (CSF 0.750)", StringComparison.Ordinal) && l.EndsWith("*best*", StringComparison.Ordinal));
        Assert.Equal("stopped after epoch 1: stopped on request", lines[^1]);
    }

    [Fact]
    public void Interactive_RedrawsOneBar()
    {
        var w = new StringWriter();
        Feed(new ConsoleProgressObserver(w, interactive: true));
        var text = w.ToString();
        Assert.Contains("\repoch 1/2 [############............] 2/4 loss 0.5000", text);
        Assert.Contains("\repoch 1/2 [########################] 4/4 loss 0.2500", text);
    }
}
