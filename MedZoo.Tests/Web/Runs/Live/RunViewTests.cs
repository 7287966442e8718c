using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Tests.Web.Runs.Live;

public sealed class RunViewTests
{
    private const int Steps = 20_000;

    private static double Loss(long step) => step == 4_321 ? 50 : 2.0 / Math.Sqrt(step);

    [Fact]
    public void Apply_20000LiveSteps_HoldsAtMostMaxStepPointsWithTheNewestExact()
    {
        var view = new RunView(new RunRecord { Id = "r", Name = "r", Status = RunStatus.Running, StepsPerEpoch = 100 });
        var most = 0;
        for (var i = 1; i <= Steps; i++)
        {
            view.Apply(new RunUpdate(i, new StepCompleted
            {
                RunId = "r", Epoch = (i - 1) / 100 + 1, Step = (i - 1) % 100 + 1, StepsPerEpoch = 100, GlobalStep = i, Loss = Loss(i), LearningRate = 0.1,
            }));
            most = Math.Max(most, view.Steps.Count);
        }
        Assert.Equal(RunView.MaxStepPoints, most);
        AssertBoundedSeries(view);
    }

    [Fact]
    public async Task Load_20000StoredSteps_HoldsAtMostMaxStepPointsAndEveryEpoch()
    {
        await using var f = new StoreFixture();
        var run = f.AddRun("r");
        f.Runs.Update("r", r => r.StepsPerEpoch = 100);
        long seq = 0;
        var docs = new List<MetricPointRecord>();
        for (var i = 1; i <= Steps; i++)
        {
            docs.Add(new MetricPointRecord { RunId = "r", Seq = ++seq, Kind = MetricKind.Step, Epoch = (i - 1) / 100 + 1, Step = (i - 1) % 100 + 1, GlobalStep = i, Loss = Loss(i) });
            if (i % 100 == 0) docs.Add(new MetricPointRecord { RunId = "r", Seq = ++seq, Kind = MetricKind.Epoch, Epoch = i / 100, Loss = 1 });
        }
        f.Database.Metrics.InsertBulk(docs);

        var view = RunView.Load(f.Runs, f.Runs.Get("r")!);
        AssertBoundedSeries(view);
        Assert.Equal(Enumerable.Range(1, Steps / 100), view.Epochs.Select(e => e.Epoch));
        Assert.Equal(seq, view.LastSeq);
    }

    [Fact]
    public void EpochsRevision_EpochsInOrder_StaysTheSameAndARepeatedEpochChangesIt()
    {
        var view = new RunView(new RunRecord { Id = "r", Name = "r", Status = RunStatus.Running, StepsPerEpoch = 1 });
        var revision = view.EpochsRevision;
        EpochCompleted Epoch(int e, double loss) => new() { RunId = "r", Epoch = e, Epochs = 5, TrainLoss = loss, LearningRate = 0.1, Seconds = 1 };
        view.Apply(new RunUpdate(1, Epoch(1, 1)));
        view.Apply(new RunUpdate(2, Epoch(2, 0.5)));
        Assert.Equal(revision, view.EpochsRevision);
        view.Apply(new RunUpdate(3, Epoch(2, 0.4))); // a resumed session repeats epoch 2
        Assert.NotEqual(revision, view.EpochsRevision);
        Assert.Equal([1, 0.4], view.Epochs.Select(e => e.TrainLoss));
    }

    private static void AssertBoundedSeries(RunView view)
    {
        Assert.InRange(view.Steps.Count, RunView.ExactStepPoints, RunView.MaxStepPoints);
        Assert.Equal(Enumerable.Range(Steps - RunView.ExactStepPoints + 1, RunView.ExactStepPoints).Select(i => (long)i),
            view.Steps.TakeLast(RunView.ExactStepPoints).Select(s => s.GlobalStep));
        Assert.Contains(view.Steps, s => s.GlobalStep == 4_321 && s.Loss == 50);
        Assert.Equal(1, view.Steps[0].GlobalStep);
    }
}
