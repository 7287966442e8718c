using MedZoo.Engine.Planning;
using MedZoo.Engine.Training;
using MedZoo.Tests.Engine.Planning;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Training;

public class TrainingPlansTests
{
    private static TrainerOptions Options() => new()
    {
        Model = "UNET3D_CICEK", BaseFilters = 4, Device = "cpu",
        Dataset = { SyntheticSubjects = 3, SyntheticSize = [24, 24, 24] },
    };

    [Fact]
    public void Resolve_NoPlan_ReturnsTheSameOptions()
    {
        var o = Options();
        Assert.Same(o, TrainingPlans.Resolve(o));
    }

    [Fact]
    public void Resolve_Auto_PlansTheDatasetMeasuringTheModelAndAppliesPatchBatchAndDepth()
    {
        var o = Options();
        o.PlanSource = "auto";
        var messages = new List<string>();
        var resolved = TrainingPlans.Resolve(o, messages.Add);
        Assert.NotSame(o, resolved);
        Assert.Null(o.Plan); // the caller's options are not changed
        var plan = resolved.Plan!;
        Assert.Equal([1.0, 1, 1], plan.TargetSpacing.Value);
        Assert.Equal([24, 24, 24], plan.MedianShape);
        Assert.Equal(plan.PatchSize.Value, resolved.Sampling.PatchSize);
        Assert.Equal(plan.BatchSize.Value, resolved.Sampling.BatchSize);
        Assert.Equal(plan.ModelDepth.Value, resolved.ModelDepth);
        Assert.NotNull(plan.Memory);
        Assert.True(plan.Memory!.BytesPerVoxel > 0, "the forward+backward measurement found no memory per voxel");
        Assert.Contains(messages, m => m.Contains("spacing: 1 × 1 × 1 mm", StringComparison.Ordinal));
        resolved.Validate();
    }

    [Fact]
    public void Resolve_PlanFile_ReadsItAndAppliesIt()
    {
        using var dir = TestPaths.NewTempFolder();
        var o = Options();
        var fingerprint = FingerprintBuilder.Build(o.Dataset);
        var plan = Planner.Plan(fingerprint, new PlanOptions { Model = o.Model, Overrides = { PatchSize = [16, 16, 16], BatchSize = 3, ModelDepth = 1 } }, new FakeProbe(1e6));
        var path = dir.File("plan.json");
        plan.Save(path);
        o.PlanSource = path;
        var resolved = TrainingPlans.Resolve(o);
        Assert.Equal([16, 16, 16], resolved.Sampling.PatchSize);
        Assert.Equal(3, resolved.Sampling.BatchSize);
        Assert.Equal(1, resolved.ModelDepth);
    }

    [Fact]
    public void Resolve_AutoWhenResuming_KeepsTheCheckpointsPlanWithoutReplanning()
    {
        var o = Options();
        o.PlanSource = "auto";
        var saved = Planner.Plan(FingerprintBuilder.Build(o.Dataset), new PlanOptions { Model = o.Model, Overrides = { PatchSize = [8, 8, 8], BatchSize = 5, ModelDepth = 1 } }, new FakeProbe(1e6));
        var messages = new List<string>();
        var resolved = TrainingPlans.Resolve(o, messages.Add, () => saved);
        Assert.Same(saved, resolved.Plan);
        Assert.Equal(5, resolved.Sampling.BatchSize);
        Assert.Contains("resuming with the plan saved in the checkpoint", messages);
        Assert.DoesNotContain(messages, m => m.StartsWith("planning dataset", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_DamagedPlanFile_SaysItIsNotAPlan()
    {
        using var dir = TestPaths.NewTempFolder();
        var path = dir.File("plan.json");
        File.WriteAllText(path, "{ not json");
        var o = Options();
        o.PlanSource = path;
        var e = Assert.Throws<InvalidDataException>(() => TrainingPlans.Resolve(o));
        Assert.StartsWith("not a MedZoo plan", e.Message);
    }

    [Fact]
    public void Measure_TorchProbe_LargerPatchNeedsMoreMemory()
    {
        var probe = new TorchPatchMemoryProbe("UNET3D_CICEK", 1, 2, 4, "cpu");
        var small = probe.Measure([8, 8, 8], 1);
        var large = probe.Measure([16, 16, 16], 1);
        Assert.True(large.Megabytes > small.Megabytes * 4, $"16³ needs {large.Megabytes} MB, 8³ {small.Megabytes} MB");
        Assert.True(probe.FixedMegabytes(1) > 0);
        Assert.True(probe.AvailableMegabytes() > 0);
    }
}
