using System.Text.Json;
using System.Text.Json.Nodes;
using MedZoo.Engine.Planning;
using MedZoo.Engine.Checkpoints;
using MedZoo.Tests.Engine.Planning;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Training;

/// <summary>The dataset plan inside checkpoints, and checkpoints written before plans existed.</summary>
public class CheckpointPlanTests
{
    private static CheckpointHeader Header(DatasetPlan? plan) => new()
    {
        RunId = "r1", Kind = "last", Epoch = 1, Model = new CheckpointModel { Name = "TEST", InChannels = 1, Classes = 2 },
        ClassNames = ["background", "tissue"], Modalities = ["T1"], PatchSize = [8, 8, 8], Plan = plan,
    };

    private static DatasetPlan Plan() => Planner.Plan(
        new DatasetFingerprint("test", ["T1"], ["background", "tissue"],
            [new SubjectFingerprint("a", [40, 40, 20], [1, 1, 2], "LSA", [40, 20, 40], [1, 2, 1], [new IntensityStatistics("T1", 10, 5, 1, 3, 7)], [1, 2])],
            [new IntensityStatistics("T1", 10, 5, 1, 3, 7)], "labels"),
        new PlanOptions(), new FakeProbe(budget: 1e6));

    [Fact]
    public void WriteRead_WithPlan_ThePlanTravelsInTheCheckpoint()
    {
        using var scope = NewDisposeScope();
        var plan = Plan();
        using var buffer = new MemoryStream();
        Checkpoint.Write(buffer, Header(plan), nn.Conv3d(1, 2, 1), optimizer: null);
        buffer.Position = 0;
        var read = Checkpoint.Read(buffer).Header.Plan;
        Assert.NotNull(read);
        Assert.Equal(plan.ToJson(), read!.ToJson());
    }

    [Fact]
    public void Deserialize_HeaderWrittenBeforePlans_LoadsWithoutAPlan()
    {
        // A header as MedZoo wrote it before plans existed: no "plan" property at all.
        var node = JsonSerializer.SerializeToNode(Header(null), Checkpoint.JsonOptions)!.AsObject();
        Assert.True(node.Remove("plan"));
        var header = JsonSerializer.Deserialize<CheckpointHeader>(node.ToJsonString(), Checkpoint.JsonOptions)!;
        Assert.Null(header.Plan);
        Assert.Equal("r1", header.RunId);
        Assert.Equal([8, 8, 8], header.PatchSize);
    }
}
