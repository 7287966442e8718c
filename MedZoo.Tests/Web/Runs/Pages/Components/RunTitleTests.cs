using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Pages.Components;

namespace MedZoo.Tests.Web.Runs.Pages.Components;

public sealed class RunTitleTests
{
    [Theory]
    [InlineData(RunStatus.Queued, "⏳ queued · demo · MedZoo")]
    [InlineData(RunStatus.Running, "▶ epoch 3/10 · demo · MedZoo")]
    [InlineData(RunStatus.Paused, "⏸ paused, epoch 3/10 · demo · MedZoo")]
    [InlineData(RunStatus.Completed, "✓ completed · demo · MedZoo")]
    [InlineData(RunStatus.EarlyStopped, "✓ stopped early · demo · MedZoo")]
    [InlineData(RunStatus.Stopped, "■ stopped · demo · MedZoo")]
    [InlineData(RunStatus.Failed, "✗ failed · demo · MedZoo")]
    [InlineData(RunStatus.Interrupted, "⚠ interrupted · demo · MedZoo")]
    public void For_EachStatus_StartsWithTheState(RunStatus status, string expected) =>
        Assert.Equal(expected, RunTitle.For(new RunRecord { Name = "demo", Status = status, CurrentEpoch = 3, Epochs = 10 }));

    [Fact]
    public void For_EveryStatus_HasItsOwnState() =>
        Assert.Equal(Enum.GetValues<RunStatus>().Length,
            Enum.GetValues<RunStatus>().Select(s => RunTitle.State(new RunRecord { Status = s })).Distinct().Count());
}
