using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence;

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
}
