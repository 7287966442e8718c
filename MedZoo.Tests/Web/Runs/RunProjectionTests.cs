using System.Text.Json;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Tests.Web.Runs;

public sealed class RunProjectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static RunRecord NewRun(RunStatus status = RunStatus.Running) =>
        new() { Id = "r", Name = "r", Status = status, CreatedAt = T0.UtcDateTime, CreatedBy = "tester" };

    private static RunStarted Started(int startEpoch = 1, double atSeconds = 0) => new()
    {
        RunId = "r", Model = "UNET3D", Dataset = "synthetic", Device = "cpu", ClassNames = ["background", "csf"], Modalities = ["t1"],
        Epochs = 4, StepsPerEpoch = 10, Parameters = 1234, StartEpoch = startEpoch, Time = T0.AddSeconds(atSeconds),
    };

    private static StepCompleted Step(long globalStep, double loss = 1, double atSeconds = 0) => new()
    {
        RunId = "r", Epoch = (int)((globalStep - 1) / 10) + 1, Step = (int)((globalStep - 1) % 10) + 1, StepsPerEpoch = 10,
        GlobalStep = globalStep, Loss = loss, LearningRate = 0.01, Dice = [0.1, 0.2], Time = T0.AddSeconds(atSeconds),
    };

    private static EpochCompleted Epoch(int epoch, double? dice, double atSeconds = 0) => new()
    {
        RunId = "r", Epoch = epoch, Epochs = 4, TrainLoss = 1.0 / epoch, TrainDice = [0.5, 0.6], ValidationLoss = 2.0 / epoch,
        Validation = [new ClassMetrics("csf", dice ?? 0, 0.4, 0.5, 0.6, 3.5, 1.5)], MeanForegroundDice = dice, LearningRate = 0.01,
        Seconds = 2, IsBest = true, Time = T0.AddSeconds(atSeconds),
    };

    private static RunFinished Finished(RunOutcome outcome, int epochs, double atSeconds, double? best = null, int? bestEpoch = null) => new()
    {
        RunId = "r", Outcome = outcome, EpochsCompleted = epochs, BestMeanForegroundDice = best, BestEpoch = bestEpoch,
        Reason = outcome == RunOutcome.Completed ? null : "why", Time = T0.AddSeconds(atSeconds),
    };

    [Fact]
    public void Apply_RunStarted_TakesTheTrainersDescriptionAndRuns()
    {
        var r = NewRun(RunStatus.Queued);
        RunProjection.Apply(r, new RunUpdate(1, Started()));
        Assert.Equal(("UNET3D", "synthetic", "cpu", 4, 10, 1234L), (r.Model, r.Dataset, r.DeviceUsed, r.Epochs, r.StepsPerEpoch, r.Parameters));
        Assert.Equal(["background", "csf"], r.ClassNames);
        Assert.Equal(["t1"], r.Modalities);
        Assert.Equal(RunStatus.Running, r.Status);
        Assert.Equal(T0.UtcDateTime, r.StartedAt);
        Assert.Equal(T0.UtcDateTime, r.SessionStartedAt);
        Assert.Equal(1, r.LastSeq);
    }

    [Theory]
    [InlineData(RunStatus.Completed)]
    [InlineData(RunStatus.Stopped)]
    [InlineData(RunStatus.Interrupted)]
    public void Apply_RunStartedReplayedAfterTheRunFinished_KeepsItFinished(RunStatus finished)
    {
        var r = NewRun(finished);
        RunProjection.Apply(r, new RunUpdate(7, Started()));
        Assert.Equal(finished, r.Status);
    }

    [Fact]
    public void Apply_Steps_TrackTheHighestStepAndTheLatestLoss()
    {
        var r = NewRun();
        RunProjection.Apply(r, new RunUpdate(1, Started()));
        RunProjection.Apply(r, new RunUpdate(2, Step(12, loss: 0.7)));
        Assert.Equal((12L, 2, 0.7), (r.GlobalStep, r.CurrentEpoch, r.LastTrainLoss));

        // An older step arriving late (a replay after a resume) never moves the count back.
        RunProjection.Apply(r, new RunUpdate(3, Step(5, loss: 0.9)));
        Assert.Equal(12, r.GlobalStep);
        Assert.Equal(3, r.LastSeq);
    }

    [Fact]
    public void Apply_Epochs_KeepTheBestAndIgnoreNaNDice()
    {
        var r = NewRun();
        RunProjection.Apply(r, new RunUpdate(1, Started()));
        RunProjection.Apply(r, new RunUpdate(2, Epoch(1, 0.4)));
        RunProjection.Apply(r, new RunUpdate(3, Epoch(2, 0.7)));
        RunProjection.Apply(r, new RunUpdate(4, Epoch(3, 0.6)));
        RunProjection.Apply(r, new RunUpdate(5, Epoch(4, double.NaN)));
        Assert.Equal(0.7, r.BestMeanDice);
        Assert.Equal(2, r.BestEpoch);
        Assert.Equal(0.6, r.LastMeanDice); // the NaN epoch is no Dice at all
        Assert.Equal(4, r.EpochsCompleted);
        Assert.Equal(40, r.GlobalStep); // an epoch completes its steps even when step points were dropped
        Assert.Equal(0.5, r.LastValidationLoss);
        Assert.Equal(0.25, r.LastTrainLoss);
    }

    [Fact]
    public void Apply_AnEpochTwiceOrOutOfOrder_NeitherCountsBackNorLowersTheBest()
    {
        var r = NewRun();
        RunProjection.Apply(r, new RunUpdate(1, Started()));
        RunProjection.Apply(r, new RunUpdate(2, Epoch(3, 0.8)));
        RunProjection.Apply(r, new RunUpdate(3, Epoch(3, 0.8)));
        RunProjection.Apply(r, new RunUpdate(4, Epoch(2, 0.5)));
        Assert.Equal(3, r.EpochsCompleted);
        Assert.Equal(0.8, r.BestMeanDice);
        Assert.Equal(3, r.BestEpoch);
        Assert.Equal(30, r.GlobalStep);
    }

    [Fact]
    public void Apply_PauseAndResume_ChangeOnlyAnActiveRun()
    {
        var r = NewRun();
        RunProjection.Apply(r, new RunUpdate(1, new RunStateChanged { RunId = "r", Paused = true }));
        Assert.Equal(RunStatus.Paused, r.Status);
        RunProjection.Apply(r, new RunUpdate(2, new RunStateChanged { RunId = "r", Paused = false }));
        Assert.Equal(RunStatus.Running, r.Status);

        var stopped = NewRun(RunStatus.Stopped);
        RunProjection.Apply(stopped, new RunUpdate(1, new RunStateChanged { RunId = "r", Paused = false }));
        Assert.Equal(RunStatus.Stopped, stopped.Status);
    }

    [Theory]
    [InlineData(RunOutcome.Completed, RunStatus.Completed)]
    [InlineData(RunOutcome.EarlyStopped, RunStatus.EarlyStopped)]
    [InlineData(RunOutcome.Stopped, RunStatus.Stopped)]
    [InlineData(RunOutcome.Failed, RunStatus.Failed)]
    public void Apply_RunFinished_SetsTheOutcomeAndClosesTheSession(RunOutcome outcome, RunStatus status)
    {
        var r = NewRun();
        RunProjection.Apply(r, new RunUpdate(1, Started()));
        RunProjection.Apply(r, new RunUpdate(2, Finished(outcome, 3, atSeconds: 90, best: 0.75, bestEpoch: 2)));
        Assert.Equal(status, r.Status);
        Assert.Equal(outcome == RunOutcome.Completed ? null : "why", r.Reason);
        Assert.Equal((3, 0.75, 2), (r.EpochsCompleted, r.BestMeanDice, r.BestEpoch));
        Assert.Null(r.SessionStartedAt);
        Assert.Equal(90, r.ActiveSeconds);
        Assert.Equal(T0.AddSeconds(90).UtcDateTime, r.FinishedAt);
        Assert.Equal(TimeSpan.FromSeconds(90), r.Duration(T0.AddHours(5).UtcDateTime));
    }

    [Fact]
    public void Apply_LogAndCheckpointEvents_OnlyNumberTheRun()
    {
        var r = NewRun();
        RunProjection.Apply(r, new RunUpdate(4, new RunLog { RunId = "r", Level = RunLogLevel.Warning, Message = "slow disk", Time = T0.AddSeconds(5) }));
        RunProjection.Apply(r, new RunUpdate(5, new CheckpointSaved { RunId = "r", Epoch = 1, Kind = "last", Location = "/x", Time = T0.AddSeconds(6) }));
        Assert.Equal(5, r.LastSeq);
        Assert.Equal(T0.AddSeconds(6).UtcDateTime, r.LastActivityAt);
        Assert.Equal(RunStatus.Running, r.Status);
        Assert.Equal(0, r.EpochsCompleted);
    }

    [Fact]
    public void Apply_StatusNotice_ChangesTheStatusButNotTheHistoryNumbers()
    {
        var r = NewRun();
        r.LastSeq = 9;
        RunProjection.Apply(r, new RunUpdate(0, new RunStatusChanged { RunId = "r", Status = RunStatus.Interrupted, Reason = "server stopped" }));
        Assert.Equal((RunStatus.Interrupted, "server stopped", 9L), (r.Status, r.Reason, r.LastSeq));
        Assert.Null(r.LastActivityAt);

        RunProjection.Apply(r, new RunUpdate(0, new RunStatusChanged { RunId = "r", Status = null }));
        Assert.Equal(RunStatus.Interrupted, r.Status); // a deletion notice leaves the summary alone
    }

    [Fact]
    public void Fold_ResumedRunReplayingStepsAfterItsCheckpoint_AddsTheSessionsAndNeverCountsBack()
    {
        // Session 1: epochs 1 and 2 done, checkpoint after epoch 2, interrupted half-way through epoch 3.
        var first = new List<TrainingEvent> { Started() };
        for (var s = 1; s <= 25; s++)
        {
            first.Add(Step(s, atSeconds: s));
            if (s % 10 == 0) first.Add(Epoch(s / 10, 0.3 * s / 10, atSeconds: s));
        }
        long seq = 0;
        var r = NewRun(RunStatus.Queued);
        RunProjection.BeginSession(r, T0.UtcDateTime); // as the worker starts it
        RunProjection.Fold(r, first.Select(e => new RunUpdate(++seq, e)));
        Assert.True(RunProjection.Interrupt(r, "server stopped", T0.AddSeconds(25).UtcDateTime));
        Assert.Equal((RunStatus.Interrupted, 25.0, 25L, 2), (r.Status, r.ActiveSeconds, r.GlobalStep, r.EpochsCompleted));

        // Session 2 resumes from epoch 3 and replays steps 21..40 (numbered after session 1's events).
        RunProjection.BeginSession(r, T0.AddSeconds(100).UtcDateTime);
        var second = new List<TrainingEvent> { Started(startEpoch: 3, atSeconds: 100) };
        for (var s = 21; s <= 40; s++)
        {
            second.Add(Step(s, atSeconds: 100 + s));
            if (s % 10 == 0) second.Add(Epoch(s / 10, 0.3 * s / 10, atSeconds: 100 + s));
        }
        second.Add(Finished(RunOutcome.Completed, 4, atSeconds: 150, best: 1.2, bestEpoch: 4));
        RunProjection.Fold(r, second.Select(e => new RunUpdate(++seq, e)));

        Assert.Equal(RunStatus.Completed, r.Status);
        Assert.Null(r.Reason);
        Assert.Equal(2, r.Sessions);
        Assert.Equal(T0.UtcDateTime, r.StartedAt); // the first session's start stays the run's start
        Assert.Equal(25 + 50, r.ActiveSeconds);
        Assert.Equal((40L, 4, 4, 1.2), (r.GlobalStep, r.EpochsCompleted, r.BestEpoch, r.BestMeanDice));
        Assert.Equal(seq, r.LastSeq);
    }

    [Fact]
    public void Interrupt_FinishedRun_LeavesItAsItIs()
    {
        var r = NewRun(RunStatus.Completed);
        r.Reason = null;
        Assert.False(RunProjection.Interrupt(r, "gone", T0.UtcDateTime));
        Assert.Equal(RunStatus.Completed, r.Status);
        Assert.Null(r.FinishedAt);
    }

    [Fact]
    public void History_EveryEventKind_GivesTheRecordsItsHistoryKeeps()
    {
        var step = RunProjection.History(new RunUpdate(3, Step(12, loss: 0.5)));
        Assert.Equal(("r/step/12", MetricKind.Step, 3L, 12L, 2, 2, 0.5), (step.Metric!.Key, step.Metric.Kind, step.Metric.Seq, step.Metric.GlobalStep,
            step.Metric.Epoch, step.Metric.Step, step.Metric.Loss));
        Assert.Equal([0.1, 0.2], step.Metric.Dice!);
        Assert.Null(step.Line);

        var epoch = RunProjection.History(new RunUpdate(4, Epoch(2, 0.7)));
        Assert.Equal(("r/epoch/2", MetricKind.Epoch, 0.5, 1.0, 0.7), (epoch.Metric!.Key, epoch.Metric.Kind, epoch.Metric.Loss, epoch.Metric.ValidationLoss,
            epoch.Metric.MeanDice));
        var csf = Assert.Single(epoch.Metric.Validation!);
        Assert.Equal(("csf", 0.7, 0.4, 0.5, 0.6, 3.5, 1.5), (csf.Name, csf.Dice, csf.Iou, csf.Precision, csf.Recall, csf.Hd95, csf.Assd));
        Assert.Equal("epoch", epoch.Line!.Kind);
        Assert.Equal("r/4", epoch.Line.Key);

        var preview = RunProjection.History(new RunUpdate(5, new SlicePreview
        {
            RunId = "r", Epoch = 2, SubjectId = "s1", Plane = SlicePlane.Coronal, SliceIndex = 7, SliceCount = 20, Width = 2, Height = 1,
            Image = [1, 2], Prediction = [0, 1], PixelWidthMm = 0.5,
        }));
        Assert.Equal(("r/Coronal/7", 5L, "s1", 0.5), (preview.Preview!.Id, preview.Preview.Seq, preview.Preview.SubjectId, preview.Preview.PixelWidthMm));
        Assert.Null(preview.Metric);
        Assert.Null(preview.Line);

        Assert.Equal("started", RunProjection.History(new RunUpdate(1, Started())).Line!.Kind);
        Assert.Equal("state", RunProjection.History(new RunUpdate(6, new RunStateChanged { RunId = "r", Paused = true })).Line!.Kind);
        Assert.Equal("checkpoint", RunProjection.History(new RunUpdate(7, new CheckpointSaved { RunId = "r", Epoch = 2, Kind = "best", Location = "/x" })).Line!.Kind);
        var log = RunProjection.History(new RunUpdate(8, new RunLog { RunId = "r", Level = RunLogLevel.Error, Message = "disk full" })).Line!;
        Assert.Equal(("log", EventLevel.Error, "disk full"), (log.Kind, log.Level, log.Message));
        Assert.Equal(EventLevel.Error, RunProjection.History(new RunUpdate(9, Finished(RunOutcome.Failed, 2, 10))).Line!.Level);

        var notice = RunProjection.History(new RunUpdate(0, new RunStatusChanged { RunId = "r", Status = RunStatus.Queued }));
        Assert.Equal(new RunHistoryEntry(null, null, null), notice);
    }

    [Fact]
    public async Task RecorderAndLiveView_SameEvents_FoldToTheSameRun()
    {
        await using var f = new StoreFixture();
        var stored = f.AddRun("r1");
        var view = new RunView(f.Runs.Get("r1")!);
        var finished = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = f.Notifier.Subscribe("r1", u =>
        {
            view.Apply(u);
            if (u.Event is RunFinished) finished.TrySetResult(true);
            return ValueTask.CompletedTask;
        }, capacity: 10_000);
        RunEventRecorderTests.RunScripted(f, "r1", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 4));
        await f.Recorder.FlushAsync();
        await Waits.For(finished.Task, "the live view to see the run finish");

        var recorded = f.Runs.Get("r1")!;
        Assert.Equal(RunStatus.Completed, recorded.Status);
        Assert.Equal(3, recorded.EpochsCompleted);
        foreach (var property in typeof(RunRecord).GetProperties().Where(p => p.GetIndexParameters().Length == 0))
        {
            object? a = property.GetValue(recorded), b = property.GetValue(view.Run);
            switch (a, b)
            {
                // The database keeps times to the millisecond; the live view has the events' own ticks.
                case (DateTime x, DateTime y):
                    Assert.True(Math.Abs((x - y).TotalMilliseconds) < 1, $"{property.Name}: stored {x:O}, live {y:O}");
                    break;
                case (double x, double y):
                    Assert.True(Math.Abs(x - y) < 1e-2, $"{property.Name}: stored {x}, live {y}");
                    break;
                default:
                    Assert.True(JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b),
                        $"{property.Name}: stored {JsonSerializer.Serialize(a)}, live {JsonSerializer.Serialize(b)}");
                    break;
            }
        }
        Assert.Equal(f.Runs.Events("r1").Select(e => (e.Seq, e.Message)), view.Events.Select(e => (e.Seq, e.Message)));
        Assert.Equal(f.Runs.Metrics("r1", MetricKind.Epoch).Select(m => (m.Epoch, m.MeanDice)), view.Epochs.Select(e => (e.Epoch, e.MeanDice)));
    }
}
