using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.Extensions.Logging.Abstractions;

namespace MedZoo.Tests.Web.Runs;

public sealed class RunEventRecorderTests
{
    internal static void RunScripted(StoreFixture f, string runId, string json, ScriptedRunExecutor? executor = null, bool resume = false)
    {
        using var control = new TrainingControl();
        (executor ?? new ScriptedRunExecutor()).Execute(new RunExecution(runId, json, resume, new NotifierObserver(f.Notifier), control, f.Checkpoints));
    }

    [Fact]
    public async Task Publish_WholeRun_StoresOneDocumentPerPointAndTheSummary()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        RunScripted(f, "r1", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 4));
        await f.Recorder.FlushAsync();

        Assert.Equal(12, f.Runs.Metrics("r1", MetricKind.Step).Count);
        var epochs = f.Runs.Metrics("r1", MetricKind.Epoch);
        Assert.Equal([1, 2, 3], epochs.Select(e => e.Epoch));
        Assert.Equal(4, epochs[0].Validation!.Count);
        Assert.True(double.IsNaN(epochs[0].Validation![0].Hd95)); // NaN survives the round trip
        Assert.Equal(3, f.Runs.Previews("r1").Count);
        var run = f.Runs.Get("r1")!;
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal(3, run.EpochsCompleted);
        Assert.Equal(0.9, run.BestMeanDice!.Value, 6);
        Assert.Equal(3, run.BestEpoch);
        Assert.Equal(["background", "csf", "gm", "wm"], run.ClassNames);
        Assert.Equal(12, run.GlobalStep);
        Assert.True(run.LastSeq >= 12 + 3);
        Assert.Contains(f.Runs.Events("r1"), e => e.Kind == "finished" && e.Message.StartsWith("Completed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Publish_Failure_RecordsFailedWithReason()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        f.Notifier.Publish(new RunFinished { RunId = "r1", Outcome = RunOutcome.Failed, Reason = "loss became NaN at epoch 2" });
        await f.Recorder.FlushAsync();
        var run = f.Runs.Get("r1")!;
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("loss became NaN at epoch 2", run.Reason);
        Assert.Equal(EventLevel.Error, f.Runs.Events("r1").Single().Level);
    }

    [Fact]
    public async Task Reopen_AfterRecording_KeepsEverything()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using (var f = new StoreFixture(folder))
        {
            f.AddRun("r1");
            RunScripted(f, "r1", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 2));
        }
        await using var again = new StoreFixture(folder);
        Assert.Equal(4, again.Runs.Metrics("r1", MetricKind.Step).Count);
        Assert.Equal(RunStatus.Completed, again.Runs.Get("r1")!.Status);
    }

    [Fact]
    public async Task Stop_RightAfterStart_WritesWhatWasQueued()
    {
        // Repeated because the failure was a race: stopping before ExecuteAsync began lost the queue.
        for (var i = 0; i < 20; i++)
        {
            await using var f = new StoreFixture();
            f.AddRun("r1");
            f.Notifier.Publish(new RunFinished { RunId = "r1", Outcome = RunOutcome.Failed, Reason = "stopped at once" });
            await f.Recorder.StopAsync(CancellationToken.None);
            Assert.Equal(RunStatus.Failed, f.Runs.Get("r1")!.Status);
        }
    }
    private static StepCompleted Step(string runId, int epoch, int step, double loss) => new()
    {
        RunId = runId, Epoch = epoch, Step = step, StepsPerEpoch = 4, GlobalStep = (epoch - 1) * 4 + step, Loss = loss, LearningRate = 1e-3,
    };

    private static EpochCompleted Epoch(string runId, int epoch, double loss) => new()
    {
        RunId = runId, Epoch = epoch, Epochs = 3, TrainLoss = loss, LearningRate = 1e-3, Seconds = 1,
    };

    [Fact]
    public async Task Publish_StepsReplayedAfterAResume_StoresEachStepAndEpochOnce()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        // Killed at epoch 2 step 3, after epoch 1's checkpoint; the resume trains epoch 2 again.
        for (var step = 1; step <= 4; step++) f.Notifier.Publish(Step("r1", 1, step, 1.0));
        f.Notifier.Publish(Epoch("r1", 1, 1.0));
        for (var step = 1; step <= 3; step++) f.Notifier.Publish(Step("r1", 2, step, 1.0));
        await f.Recorder.FlushAsync();
        f.Notifier.Publish(Epoch("r1", 1, 1.0)); // a replay of the checkpoint's epoch, as an import may deliver it again
        for (var step = 1; step <= 4; step++) f.Notifier.Publish(Step("r1", 2, step, 0.5));
        f.Notifier.Publish(Epoch("r1", 2, 0.5));
        await f.Recorder.FlushAsync();

        var steps = f.Runs.Metrics("r1", MetricKind.Step);
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], steps.Select(m => m.GlobalStep));
        Assert.All(steps.Where(m => m.Epoch == 2), m => Assert.Equal(0.5, m.Loss)); // the replay's values win
        Assert.Equal([1, 2], f.Runs.Metrics("r1", MetricKind.Epoch).Select(m => m.Epoch));
    }

    [Fact]
    public async Task Drain_OneBadUpdateInABatch_StoresTheOthersAndCountsTheFailure()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        f.AddRun("r2");
        // A recorder not yet started, so that everything below lands in one batch.
        var recorder = new RunEventRecorder(f.Runs, f.Runs, f.Runs, f.Runs, NullLogger<RunEventRecorder>.Instance);
        recorder.Enqueue(new RunUpdate(1, Step("r1", 1, 1, 1.0)));
        recorder.Enqueue(new RunUpdate(1, new RunStarted
        {
            RunId = "r2", Model = "FAKE", Dataset = "synthetic", Device = "cpu", ClassNames = null!, Modalities = ["T1"], Epochs = 1,
            StepsPerEpoch = 1, Parameters = 1, StartEpoch = 1, TrainSubjects = 1, ValidationSubjects = 1,
        })); // what a hostile journal line deserializes to
        recorder.Enqueue(new RunUpdate(2, Step("r1", 1, 2, 1.0)));
        await recorder.StartAsync(CancellationToken.None);
        await recorder.FlushAsync();
        await recorder.StopAsync(CancellationToken.None);
        recorder.Dispose();

        Assert.Equal([1L, 2], f.Runs.Metrics("r1").Select(m => m.GlobalStep));
        Assert.Equal(2, f.Runs.Get("r1")!.LastSeq);
        Assert.Equal(0, recorder.FailedUpdates("r1"));
        Assert.Equal(1, recorder.FailedUpdates("r2"));
    }
    [Fact]
    public async Task Publish_ResumeFromACheckpointWhoseEpochWasNeverRecorded_StoresThatEpochFromItsHistory()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        f.Notifier.Publish(TestCheckpoints.Epoch("r1", 1, 1.0));
        // Killed after epoch 2's checkpoint was stored but before its epoch event was: the checkpoint knows the epoch.
        var bytes = TestCheckpoints.Bytes("r1", "last", 2, [TestCheckpoints.Epoch("r1", 1, 0.9), TestCheckpoints.Epoch("r1", 2, 0.7)]);
        f.Checkpoints.Save("r1", "last", 2, s => s.Write(bytes));
        await f.Recorder.FlushAsync();
        Assert.Equal([1], f.Runs.Metrics("r1", MetricKind.Epoch).Select(m => m.Epoch));

        f.Notifier.Publish(new RunStarted
        {
            RunId = "r1", Model = "FAKE", Dataset = "synthetic", Device = "cpu", ClassNames = ["background", "a"], Modalities = ["T1"],
            Epochs = 3, StepsPerEpoch = 4, Parameters = 1, StartEpoch = 3, TrainSubjects = 1, ValidationSubjects = 1,
        });
        await f.Recorder.FlushAsync();

        var epochs = f.Runs.Metrics("r1", MetricKind.Epoch);
        Assert.Equal([1, 2], epochs.Select(m => m.Epoch));
        Assert.Equal([1.0, 0.7], epochs.Select(m => m.Loss)); // the recorded epoch is kept, the missing one restored
    }
}
