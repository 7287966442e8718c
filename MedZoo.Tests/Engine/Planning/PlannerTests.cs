using System.Text.Json.Nodes;
using MedZoo.Engine.Data;
using MedZoo.Engine.Planning;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Planning;

/// <summary>A probe with a fixed cost model: fixedMb MB plus bytesPerVoxel bytes per voxel of one sample (plus a 5 MB offset).</summary>
internal sealed class FakeProbe(double budget, double fixedMb = 10, double bytesPerVoxel = 1000) : IPatchMemoryProbe
{
    public List<int[]> Measured { get; } = [];

    public string Device => "cpu";

    public double AvailableMegabytes() => budget;

    public double FixedMegabytes(int? depth) => fixedMb;

    public MeasuredStep Measure(int[] patch, int? depth)
    {
        Measured.Add(patch);
        return new MeasuredStep(5 + bytesPerVoxel * patch[0] * patch[1] * patch[2] / 1e6, 0.1);
    }
}

public class PlannerTests
{
    private static SubjectFingerprint Subject(string id, double[] spacing, int[] size, string orientation = "RAS") =>
        new(id, size, spacing, orientation, size, spacing, [new IntensityStatistics("T1", 100, 50, 10, 20, 80)], [1000, 200]);

    private static DatasetFingerprint Fingerprint(params SubjectFingerprint[] subjects) =>
        new("test", ["T1"], ["background", "tissue"], subjects, [new IntensityStatistics("T1", 1000, 50, 10, 20, 80)], "labels");

    [Fact]
    public void TargetSpacing_IsotropicData_IsTheMedianWithItsReason()
    {
        var (spacing, reason) = Planner.TargetSpacing([[1, 1, 1.5], [1, 1, 1], [0.8, 1.2, 2], [1, 1, 1.5]]);
        Assert.Equal([1, 1, 1.5], spacing);
        Assert.StartsWith("spacing 1×1×1.5 mm: median of 4 subjects", reason);
    }

    [Fact]
    public void TargetSpacing_ThickSlices_TakeTheTenthPercentile()
    {
        // Median 5 mm > 3 × 0.8 mm: the slice axis takes numpy's 10th percentile of (3, 4, 5, 5.5, 6) = 3.4.
        var (spacing, reason) = Planner.TargetSpacing([[0.8, 0.8, 5], [0.9, 0.9, 4], [0.7, 0.7, 6], [0.8, 0.8, 3], [0.75, 0.75, 5.5]]);
        Assert.Equal(0.8, spacing[0], 12);
        Assert.Equal(0.8, spacing[1], 12);
        Assert.Equal(3.4, spacing[2], 12);
        Assert.Contains("10th percentile", reason);
    }

    [Fact]
    public void TargetSpacing_TenthPercentileFinerThanOtherAxes_IsRaisedToThem()
    {
        var (spacing, _) = Planner.TargetSpacing([[1, 1, 4], [1, 1, 4], [1, 1, 4], [1, 1, 0.5], [1, 1, 0.5]]);
        Assert.Equal([1, 1, 1], spacing);
    }

    [Fact]
    public void Plan_MemoryBudget_ShrinksThePatchUntilABatchOfTwoFits()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [160, 160, 160]), Subject("b", [1, 1, 1], [170, 150, 160]), Subject("c", [1, 1, 1], [150, 170, 160]));
        // 10 MB fixed + 5 MB offset; 1000 bytes per voxel: 2 × 64³ voxels = 524 MB.
        var probe = new FakeProbe(budget: 600);
        var plan = Planner.Plan(fp, new PlanOptions { Model = "UNET3D" }, probe);
        Assert.Equal([160, 160, 160], plan.MedianShape);
        var p = plan.PatchSize.Value;
        var step = 15 + 2 * 1000.0 * p[0] * p[1] * p[2] / 1e6;
        Assert.True(step <= 600, $"patch {string.Join("×", p)} needs {step} MB");
        Assert.All(p, v => Assert.Equal(0, v % 16));
        Assert.Equal(2, probe.Measured.Count);
        Assert.Contains("measured forward+backward", plan.PatchSize.Reason);
        Assert.InRange(plan.BatchSize.Value, 2, 16);
        Assert.NotNull(plan.Memory);
        Assert.Equal(1000, plan.Memory!.BytesPerVoxel, 6);
    }

    [Fact]
    public void Plan_LargeBudget_PatchIsTheMedianShapeRoundedAndBatchCoversAtMostFivePercent()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [40, 40, 40]), Subject("b", [1, 1, 1], [40, 40, 40]));
        var plan = Planner.Plan(fp, new PlanOptions { Model = "UNET3D" }, new FakeProbe(budget: 1e6));
        Assert.Equal([48, 48, 48], plan.PatchSize.Value);
        // 5 % of 2 × 40³ voxels is less than one 48³ patch: nnU-Net's floor of 2 applies.
        Assert.Equal(2, plan.BatchSize.Value);
    }

    [Fact]
    public void Plan_BudgetTooSmallForTheSmallestPatch_SaysWhatToChange()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [64, 64, 64]));
        var e = Assert.Throws<ArgumentException>(() => Planner.Plan(fp, new PlanOptions { Model = "UNET3D" }, new FakeProbe(budget: 20)));
        Assert.Contains("give a larger budget", e.Message);
    }

    [Fact]
    public void Plan_Cicek_DepthFollowsThePatch()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [64, 64, 30]));
        var plan = Planner.Plan(fp, new PlanOptions { Model = "UNET3D_CICEK" }, new FakeProbe(budget: 1e6));
        var p = plan.PatchSize.Value;
        var depth = plan.ModelDepth.Value!.Value;
        Assert.True(p.Min() >> depth >= 4, $"patch {string.Join("×", p)} with {depth} poolings");
        Assert.All(p, v => Assert.Equal(0, v % (1 << depth)));
        Assert.Contains("poolings", plan.ModelDepth.Reason);
    }

    [Fact]
    public void Plan_Overrides_AreKeptWithThePlannersChoiceInTheReason()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 2], [64, 64, 32], "LSA"), Subject("b", [1, 1, 2], [64, 64, 32]));
        var probe = new FakeProbe(budget: 1e6);
        var plan = Planner.Plan(fp, new PlanOptions
        {
            Model = "UNET3D",
            Overrides = new PlanOverrides
            {
                TargetSpacing = [2, 2, 2], PatchSize = [32, 32, 32], BatchSize = 3, ImageInterpolation = ImageInterpolation.Linear,
                LabelInterpolation = LabelInterpolation.LinearOneHot, Intensity = new() { ["t1"] = "ct" }, Orientation = "native",
            },
        }, probe);
        Assert.Equal([2.0, 2, 2], plan.TargetSpacing.Value);
        Assert.True(plan.TargetSpacing.Overridden);
        Assert.Contains("the planner chose 1×1×2 mm", plan.TargetSpacing.Reason);
        Assert.Equal([32, 32, 32], plan.PatchSize.Value);
        Assert.Equal(3, plan.BatchSize.Value);
        Assert.Equal(ImageInterpolation.Linear, plan.ImageInterpolation.Value);
        Assert.Equal(LabelInterpolation.LinearOneHot, plan.LabelInterpolation.Value);
        Assert.Equal("ct", plan.Intensity[0].Scheme.Value);
        Assert.True(plan.Intensity[0].Scheme.Overridden);
        Assert.Equal(DatasetPlan.Native, plan.Orientation.Value);
        Assert.Empty(probe.Measured); // patch and batch given: nothing to measure
        Assert.All(plan.Choices().Where(c => c.Field is "spacing" or "patch" or "batch"), c => Assert.True(c.Overridden));
    }

    [Fact]
    public void Plan_OrientationReason_CountsSubjectsStoredOtherwise()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [32, 32, 32], "LSA"), Subject("b", [1, 1, 1], [32, 32, 32], "LPS"), Subject("c", [1, 1, 1], [32, 32, 32]));
        var plan = Planner.Plan(fp, new PlanOptions(), new FakeProbe(budget: 1e6));
        Assert.Contains("2 of 3 subjects are stored otherwise (1 LSA, 1 LPS)", plan.Orientation.Reason);
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryChoice()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1.5], [40, 50, 30]));
        var plan = Planner.Plan(fp, new PlanOptions { Model = "UNET3D" }, new FakeProbe(budget: 1e6));
        var back = DatasetPlan.FromJson(plan.ToJson());
        Assert.Equal(plan.ToJson(), back.ToJson());
        Assert.Equal(plan.PreprocessingKey(), back.PreprocessingKey());
        Assert.Contains("\"reason\"", plan.ToJson());
    }

    [Theory]
    [InlineData("targetSpacing", "[1, 0, 1]", "spacing")]
    [InlineData("batchSize", "0", "batch")]
    [InlineData("patchSize", "[64, 64]", "patch")]
    public void FromJson_HandEditedInvalidField_NamesIt(string property, string value, string field)
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [32, 32, 32]));
        var node = JsonNode.Parse(Planner.Plan(fp, new PlanOptions(), new FakeProbe(budget: 1e6)).ToJson())!;
        node[property]!["value"] = JsonNode.Parse(value);
        var e = Assert.Throws<InvalidDataException>(() => DatasetPlan.FromJson(node.ToJsonString()));
        Assert.StartsWith($"the plan is not valid: {field}", e.Message);
    }

    [Fact]
    public void PreprocessingKey_ChangesWithSpacingButNotWithBatch()
    {
        var fp = Fingerprint(Subject("a", [1, 1, 1], [32, 32, 32]));
        var plan = Planner.Plan(fp, new PlanOptions(), new FakeProbe(budget: 1e6));
        var key = plan.PreprocessingKey();
        plan.BatchSize.Value = 7;
        Assert.Equal(key, plan.PreprocessingKey());
        plan.TargetSpacing.Value = [1, 1, 2];
        Assert.NotEqual(key, plan.PreprocessingKey());
    }
}
