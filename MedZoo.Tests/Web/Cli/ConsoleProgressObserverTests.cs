using MedZoo.Engine.Training;
using MedZoo.Web.Cli;
using MedZoo.Web.Cli.Progress;
using MedZoo.Web.Cli.Training;
using Spectre.Console.Testing;

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
        Feed(new ConsoleProgressObserver(new CliProgress.PlainProgress(w), lineEvery: 2));
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.DoesNotContain('\r', w.ToString());
        Assert.DoesNotContain('\u001b', w.ToString());
        Assert.Contains("epoch 1/2 step 2/4 loss 0.5000 lr 0.01 ETA 0:12", lines);
        Assert.Contains(lines, l => l.StartsWith("epoch 1/2 train loss 0.5000, val loss 0.4000, val Dice 0.7500 (CSF 0.750)", StringComparison.Ordinal) && l.EndsWith("*best*", StringComparison.Ordinal));
        Assert.Equal("stopped after epoch 1: stopped on request", lines[^1]);
    }

    [Fact]
    public void Terminal_DrawsABarOverTheRunWithTheEpochLinesAboveIt()
    {
        using var console = new TestConsole().Interactive().SupportsAnsi(true).Width(160);
        var context = new CliContext(new StringWriter(), new StringWriter(), default, console);

        CliProgress.Run(context, "training", display =>
        {
            Assert.True(display.IsTerminal);
            Feed(new ConsoleProgressObserver(display, lineEvery: 2));
            return 0;
        });

        var text = console.Output;
        // The bar ends where the run stopped: 4 of 8 steps, with the last step's loss and ETA beside it.
        Assert.Contains("epoch 1/2 step 4/4 loss 0.2500", text);
        Assert.Contains("50%", text);
        Assert.Contains("epoch 1/2 train loss 0.5000, val loss 0.4000, val Dice 0.7500 (CSF 0.750)", text);
        Assert.Contains("stopped after epoch 1: stopped on request", text);
        // Step lines are for logs only: on a terminal the bar shows them.
        Assert.DoesNotContain("epoch 1/2 step 2/4 loss 0.5000 lr", text);
        Assert.Equal("", context.Error.ToString());
    }
}
