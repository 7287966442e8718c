using MedZoo.Engine.Training;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Tests.Web.Runs.Live;

public sealed class LiveRunRowsTests
{
    private static RunRecord Row(string id, long lastSeq = 5) =>
        new() { Id = id, Name = id, Status = RunStatus.Running, Epochs = 3, StepsPerEpoch = 10, LastSeq = lastSeq, GlobalStep = 4 };

    private static StepCompleted Step(string run, long globalStep, double loss) => new()
    {
        RunId = run, Epoch = 1, Step = (int)globalStep, StepsPerEpoch = 10, GlobalStep = globalStep, Loss = loss, LearningRate = 0.1,
    };

    [Fact]
    public void Apply_TrainerEventsOfListedRuns_FoldIntoTheRowsWithoutAReload()
    {
        var rows = new[] { Row("a"), Row("b") };
        var live = new LiveRunRows();
        live.Post(new RunUpdate(6, Step("a", 7, 0.25)));
        live.Post(new RunUpdate(7, new EpochCompleted { RunId = "a", Epoch = 1, Epochs = 3, TrainLoss = 0.2, MeanForegroundDice = 0.6, LearningRate = 0.1, Seconds = 1 }));
        live.Post(new RunUpdate(6, new RunStateChanged { RunId = "b", Paused = true }));

        Assert.Same(rows, live.Apply(rows, NoRead));
        Assert.Equal((10L, 1, 0.6, 7L), (rows[0].GlobalStep, rows[0].EpochsCompleted, rows[0].BestMeanDice!.Value, rows[0].LastSeq));
        Assert.Equal(RunStatus.Paused, rows[1].Status);
    }

    [Fact]
    public void Apply_EventTheListAlreadyHas_LeavesTheRowAsRead()
    {
        var rows = new[] { Row("a", lastSeq: 9) };
        var live = new LiveRunRows();
        live.Post(new RunUpdate(9, Step("a", 8, 0.5)));
        Assert.Same(rows, live.Apply(rows, NoRead));
        Assert.Equal(4, rows[0].GlobalStep);
        Assert.Null(rows[0].LastTrainLoss);
    }

    [Fact]
    public void Apply_StatusNotice_ReadsTheListAndStillFoldsNewerEvents()
    {
        var rows = new[] { Row("a") };
        var stored = new[] { Row("a", lastSeq: 6), Row("b") }; // the store has step 6 of a, and a new run b
        var live = new LiveRunRows();
        live.Post(new RunUpdate(0, new RunStatusChanged { RunId = "b", Status = RunStatus.Queued }));
        live.Post(new RunUpdate(6, Step("a", 7, 0.25)));
        live.Post(new RunUpdate(7, Step("a", 8, 0.125))); // not stored yet when the list was read
        Assert.Same(stored, live.Apply(rows, () => stored));
        Assert.Equal((8L, 0.125, 7L), (stored[0].GlobalStep, stored[0].LastTrainLoss!.Value, stored[0].LastSeq));
        Assert.Equal(4, rows[0].GlobalStep); // the old rows are left behind
    }

    [Fact]
    public void Apply_EventOfARunNotListed_ReadsTheList()
    {
        var rows = new[] { Row("a") };
        var live = new LiveRunRows();
        live.Post(new RunUpdate(1, Step("cli", 1, 0.9)));
        var reads = 0;
        live.Apply(rows, () => { reads++; return rows; });
        live.Apply(rows, () => { reads++; return rows; });
        Assert.Equal(1, reads);
    }

    [Fact]
    public void RequestReload_NextApply_ReadsOnce()
    {
        var live = new LiveRunRows();
        var reads = 0;
        live.RequestReload();
        live.Apply([], () => { reads++; return []; });
        live.Apply([], () => { reads++; return []; });
        Assert.Equal(1, reads);
    }

    private static IReadOnlyList<RunRecord> NoRead() => throw new InvalidOperationException("the list was read although no update needed it");
}
