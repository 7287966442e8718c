using System.Diagnostics;
using System.Globalization;
using MedZoo.Engine.Training;
using MedZoo.Web.Cli.Progress;

namespace MedZoo.Web.Cli.Training;

/// <summary>
/// Shows a run's progress: on a terminal, one bar over the whole run redrawn in place with epoch,
/// loss, last validation Dice and ETA, and a summary line per epoch above it; when redirected (a log
/// file, CI), a plain line every <c>lineEvery</c> steps and a summary per epoch, so logs stay
/// readable. Runs on the training thread and only formats a line, so it never holds training up
/// noticeably.
/// </summary>
/// <param name="display">Where progress goes (stderr for the CLI): a terminal bar or plain lines.</param>
/// <param name="lineEvery">Steps between lines when not on a terminal.</param>
/// <param name="validationInterval">Epochs between validations, for the ETA.</param>
public sealed class ConsoleProgressObserver(IProgressDisplay display, int lineEvery = 50, int validationInterval = 1) : ITrainingObserver
{
    private readonly Stopwatch _sinceLastStep = new();
    private int _epochs;
    private int _stepsPerEpoch;
    private int _validationInterval = 1;
    private long _stepsDone;
    private double _stepSeconds;
    private int _validations;
    private double _validationSeconds;
    private double? _lastDice;
    private int _startEpoch = 1;

    /// <inheritdoc />
    public void OnEvent(TrainingEvent e)
    {
        switch (e)
        {
            case RunStarted s:
                _epochs = s.Epochs;
                _stepsPerEpoch = s.StepsPerEpoch;
                _validationInterval = Math.Max(1, validationInterval);
                _startEpoch = Math.Max(1, s.StartEpoch);
                Line($"training {s.Model} on {s.Dataset} ({s.TrainSubjects} train / {s.ValidationSubjects} validation subjects, " +
                     $"{string.Join("+", s.Modalities)} → {string.Join(", ", s.ClassNames)}) on {s.Device}" +
                     (s.StartEpoch > 1 ? $", resuming at epoch {s.StartEpoch}" : ""));
                break;
            case StepCompleted s:
                _stepsDone++;
                _stepSeconds += s.Seconds;
                _sinceLastStep.Restart();
                if (display.IsTerminal) Bar(s);
                else if (s.Step % Math.Max(1, lineEvery) == 0) Line(Invariant($"epoch {s.Epoch}/{_epochs} step {s.Step}/{s.StepsPerEpoch} loss {s.Loss:0.0000} lr {s.LearningRate:0.#####} ETA {Eta(s)}"));
                break;
            case EpochCompleted ep:
                if (ep.Validation is not null && _sinceLastStep.IsRunning)
                {
                    _validations++;
                    _validationSeconds += _sinceLastStep.Elapsed.TotalSeconds;
                }
                _lastDice = ep.MeanForegroundDice ?? _lastDice;
                var text = Invariant($"epoch {ep.Epoch}/{ep.Epochs} train loss {ep.TrainLoss:0.0000}");
                if (ep.ValidationLoss is { } vl) text += Invariant($", val loss {vl:0.0000}");
                if (ep.MeanForegroundDice is { } md)
                    text += Invariant($", val Dice {md:0.0000} (") + string.Join(", ", ep.Validation!.Skip(1).Select(c => Invariant($"{c.Name} {c.Dice:0.000}"))) + ")";
                text += Invariant($", {ep.Seconds:0.0} s") + (ep.IsBest ? " *best*" : "");
                Line(text);
                break;
            case CheckpointSaved c when c.Kind == "best":
                break;
            case RunLog log when log.Level != RunLogLevel.Info || !display.IsTerminal:
                Line($"{log.Level.ToString().ToLowerInvariant()}: {log.Message}");
                break;
            case RunFinished f:
                Line(f.Outcome switch
                {
                    RunOutcome.Completed => Invariant($"done: best mean foreground Dice {f.BestMeanForegroundDice:0.0000} at epoch {f.BestEpoch}"),
                    RunOutcome.EarlyStopped => $"stopped early: {f.Reason}",
                    RunOutcome.Stopped => $"stopped after epoch {f.EpochsCompleted}: {f.Reason}",
                    _ => $"failed: {f.Reason}",
                });
                break;
        }
    }

    // The bar covers the steps of this session (a resumed run starts at its resume epoch).
    private void Bar(StepCompleted s)
    {
        var total = (double)(_epochs - _startEpoch + 1) * Math.Max(1, s.StepsPerEpoch);
        var done = (double)(s.Epoch - _startEpoch) * s.StepsPerEpoch + s.Step;
        var dice = _lastDice is { } d ? Invariant($" dice {d:0.000}") : "";
        display.Update(done, total, Invariant($"epoch {s.Epoch}/{_epochs}"), Invariant($"step {s.Step}/{s.StepsPerEpoch} loss {s.Loss:0.0000}{dice} ETA {Eta(s)}"));
    }

    /// <summary>Remaining steps at the mean step time plus remaining validations at the mean validation time.</summary>
    private string Eta(StepCompleted s)
    {
        if (_stepsDone == 0) return "?";
        var remainingSteps = (long)(_epochs - s.Epoch) * _stepsPerEpoch + (s.StepsPerEpoch - s.Step);
        var remainingValidations = Enumerable.Range(s.Epoch, _epochs - s.Epoch + 1).Count(e => e % _validationInterval == 0 || e == _epochs);
        var perValidation = _validations > 0 ? _validationSeconds / _validations : 0;
        var seconds = remainingSteps * _stepSeconds / _stepsDone + remainingValidations * perValidation;
        var remaining = TimeSpan.FromSeconds(seconds);
        return remaining.TotalHours >= 1 ? remaining.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : remaining.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }

    private void Line(string text) => display.Line(text);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
