using MedZoo.Engine.Training;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Pages.Components;

namespace MedZoo.Tests.Web.Runs.Pages.Components;

public class RunPhaseTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 20, 0, 0, TimeSpan.Zero);

    private static RunView Running(DateTimeOffset sessionStart, int sessions = 1) => new(new RunRecord
    {
        Id = "r1", Name = "r1", Status = RunStatus.Running, Sessions = sessions, SessionStartedAt = sessionStart.UtcDateTime,
    });

    private long _seq;

    private void Apply(RunView view, TrainingEvent e) => view.Apply(new RunUpdate(++_seq, e));

    private static RunStarted Started(DateTimeOffset at, string device = "cpu") => new()
    {
        RunId = "r1", Time = at, Model = "M", Dataset = "D", Device = device, ClassNames = ["bg", "fg"], Modalities = ["T1"],
        Epochs = 2, StepsPerEpoch = 2, Parameters = 10,
    };

    private static StepCompleted Step(DateTimeOffset at, long global) => new()
    {
        RunId = "r1", Time = at, Epoch = 1, Step = (int)global, StepsPerEpoch = 2, GlobalStep = global, Loss = 1, LearningRate = 1e-3,
    };

    private static RunLog Log(DateTimeOffset at) => new() { RunId = "r1", Time = at, Level = RunLogLevel.Info, Message = "note" };

    [Fact]
    public void Of_NothingSinceTheSessionBegan_IsLoading()
    {
        var view = Running(T0);
        Apply(view, Log(T0.AddSeconds(1)));
        Assert.StartsWith("Loading the dataset", RunPhase.Of(view));
    }

    [Fact]
    public void Of_StartedOnCpuWithOnlyLogLinesSince_IsTheFirstStepCheckingConvolutions()
    {
        var view = Running(T0);
        Apply(view, Started(T0.AddSeconds(5)));
        Apply(view, Log(T0.AddSeconds(6)));
        Assert.Equal("Running the first step (checking convolutions on first use)…", RunPhase.Of(view));
    }

    [Fact]
    public void Of_StartedOnCuda_IsTheFirstStepWithoutTheCpuCheck()
    {
        var view = Running(T0);
        Apply(view, Started(T0.AddSeconds(5), "cuda:0"));
        Assert.Equal("Running the first step…", RunPhase.Of(view));
    }

    [Fact]
    public void Of_AStepAfterTheStart_IsNull()
    {
        var view = Running(T0);
        Apply(view, Started(T0.AddSeconds(5)));
        Apply(view, Step(T0.AddSeconds(9), 1));
        Assert.Null(RunPhase.Of(view));
    }

    [Fact]
    public void Of_ResumedSessionWithTheLastSessionsStartOnly_IsLoading()
    {
        var view = Running(T0.AddHours(1), sessions: 2);
        Apply(view, Started(T0.AddSeconds(5)));
        Apply(view, Step(T0.AddSeconds(9), 1));
        Assert.StartsWith("Loading the dataset", RunPhase.Of(view));
    }

    [Theory]
    [InlineData(RunStatus.Queued)]
    [InlineData(RunStatus.Paused)]
    [InlineData(RunStatus.Completed)]
    [InlineData(RunStatus.Failed)]
    public void Of_NotRunning_IsNull(RunStatus status)
    {
        var view = Running(T0);
        view.Run.Status = status;
        Assert.Null(RunPhase.Of(view));
    }
}
