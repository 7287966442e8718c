using MedZoo.Engine;
using MedZoo.Engine.Data;
using MedZoo.Engine.Planning;
using MedZoo.Engine.Training;
using MedZoo.Tests.Engine.Data;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Runs;
using Microsoft.Extensions.Options;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Datasets;

/// <summary>Planning a dataset from the Datasets page: the form's fields, the stored plan and fingerprint, the plan file, the presets.</summary>
public sealed class DatasetPlanningTests
{
    private static DatasetService Service(StoreFixture f) =>
        new(f.Datasets, f.DataOptions, TimeProvider.System, Options.Create(new DataAccessOptions()));

    private static DatasetEntry Synthetic(DatasetService s) => s.Find("synthetic")!;

    private static PlanRequestInput Small() => new() { Model = "UNET3D_CICEK", BaseFilters = "4", SyntheticSubjects = "3", SyntheticSize = "16" };

    [Theory]
    [InlineData(nameof(PlanRequestInput.Patch), "32,32", "patch '32,32' must be 3 positive sizes")]
    [InlineData(nameof(PlanRequestInput.Patch), "2000", "patch: (2000, 2000, 2000) must be 3 sizes")]
    [InlineData(nameof(PlanRequestInput.Spacing), "1,0,1", "spacing '1,0,1' must be 3 positive numbers in mm")]
    [InlineData(nameof(PlanRequestInput.Batch), "two", "the batch size must be a positive whole number, e.g. 2; got 'two'")]
    [InlineData(nameof(PlanRequestInput.Depth), "0", "the depth must be a positive whole number")]
    [InlineData(nameof(PlanRequestInput.Orientation), "LPS", "orientation 'LPS' must be RAS")]
    [InlineData(nameof(PlanRequestInput.Interpolation), "sinc", "image interpolation 'sinc' must be cubic or linear")]
    [InlineData(nameof(PlanRequestInput.Intensity), "T1=pet", "intensity 'T1=pet' must be MODALITY=ct or MODALITY=mr")]
    [InlineData(nameof(PlanRequestInput.Intensity), "CT=ct", "'CT' is not a modality of this dataset")]
    [InlineData(nameof(PlanRequestInput.SyntheticSize), "8", "must be 3 sizes (D, H, W), each 16..512")]
    [InlineData(nameof(PlanRequestInput.BaseFilters), "-1", "the base filters must be a positive whole number")]
    [InlineData(nameof(PlanRequestInput.Model), "NOPE", "'NOPE' is not a model")]
    public async Task ToOptions_BadField_IsRefusedOnThatFieldInWords(string field, string value, string expected)
    {
        await using var f = new StoreFixture();
        var input = Small();
        typeof(PlanRequestInput).GetProperty(field)!.SetValue(input, value);
        var e = Assert.Throws<InvalidOptionException>(() => input.ToOptions(Synthetic(Service(f))));
        Assert.Equal(field, e.Error.Path);
        Assert.Contains(expected, e.Error.Problem);
        Assert.DoesNotContain("(Parameter", e.Error.Problem);
    }

    [Fact]
    public async Task ToOptions_Overrides_ReachThePlannerFieldByField()
    {
        await using var f = new StoreFixture();
        var input = Small();
        (input.Spacing, input.Patch, input.Batch, input.Depth, input.Orientation, input.Interpolation, input.Intensity) =
            ("1 1 1.5", "16,16,8", "3", "2", "native", "linear", "t1=ct");
        var (dataset, plan) = input.ToOptions(Synthetic(Service(f)));
        Assert.Equal(3, dataset.SyntheticSubjects);
        Assert.Equal(new[] { 16, 16, 16 }, dataset.SyntheticSize);
        var o = plan.Overrides;
        Assert.Equal(new[] { 1, 1, 1.5 }, o.TargetSpacing);
        Assert.Equal(new[] { 16, 16, 8 }, o.PatchSize);
        Assert.Equal((3, 2, DatasetPlan.Native, ImageInterpolation.Linear), (o.BatchSize, o.ModelDepth, o.Orientation, o.ImageInterpolation));
        Assert.Equal(ModalityIntensityPlan.Ct, o.Intensity!["T1"]);
        Assert.Equal((4, "auto"), (plan.BaseFilters, plan.Device));
        // Empty fields leave the choice to the planner.
        var (_, free) = Small().ToOptions(Synthetic(Service(f)));
        Assert.True(free.Overrides is { TargetSpacing: null, PatchSize: null, BatchSize: null, ModelDepth: null, Orientation: null, ImageInterpolation: null, Intensity: null });
    }

    [Fact]
    public async Task Plan_Synthetic_StoresPlanAndFingerprintAndAnOverrideChangesOnlyItsField()
    {
        await using var f = new StoreFixture();
        var service = Service(f);
        Assert.Null(service.StoredPlan("synthetic"));
        var first = service.Plan(Admin, Synthetic(service), Small(), CancellationToken.None);
        Assert.False(first.InDatasetFolder);
        Assert.Equal(3, first.Fingerprint.Subjects.Count);
        Assert.All(first.Fingerprint.Subjects, s => Assert.Equal(new[] { 16, 16, 16 }, s.Size));
        Assert.Equal(["T1", "T2"], first.Fingerprint.Foreground.Select(i => i.Modality));
        Assert.All(first.Plan.Choices(), c => Assert.False(string.IsNullOrWhiteSpace(c.Reason), $"{c.Field} has no reason"));
        Assert.Contains("median of 3 subjects", first.Plan.TargetSpacing.Reason);

        // Read back as stored: the same plan and fingerprint.
        var stored = service.StoredPlan("synthetic")!;
        Assert.Equal(first.Plan.ToJson(), stored.Plan.ToJson());
        Assert.Equal(first.Fingerprint.Subjects.Select(s => s.ClassVolumes.Sum()), stored.Fingerprint.Subjects.Select(s => s.ClassVolumes.Sum()));
        Assert.Equal(MedZooAppFactory.AdminName, stored.PlannedBy);

        var input = Small();
        input.Patch = "8";
        var second = service.Plan(Admin, Synthetic(service), input, CancellationToken.None);
        Assert.Equal(new[] { 8, 8, 8 }, second.Plan.PatchSize.Value);
        Assert.True(second.Plan.PatchSize.Overridden);
        Assert.StartsWith("set by you (the planner chose", second.Plan.PatchSize.Reason);
        Assert.Equal(first.Plan.TargetSpacing.Value, second.Plan.TargetSpacing.Value);
        Assert.Equal(new[] { 8, 8, 8 }, service.StoredPlan("synthetic")!.Plan.PatchSize.Value);
    }

    [Fact]
    public async Task Plan_RegisteredFolder_WritesThePlanFileWhereTheCommandLineDoesAndTheAutoPresetReadsIt()
    {
        await using var f = new StoreFixture();
        var folder = Directory.CreateDirectory(Path.Combine(f.Folder.Path, "datasets", "task")).FullName;
        DatasetMemoryTests.WriteDecathlon(folder);
        var service = Service(f);
        service.Register(Admin, "task", service.Check(Admin, "decathlon", folder, CancellationToken.None));
        var before = new TrainerRunExecutor(service).Form.Presets.Single(p => p.Name == "task" + TrainerRunExecutor.AutoSuffix);
        Assert.Equal(TrainingPlans.Auto, ((TrainerOptions)before.Create()).PlanSource);

        var input = new PlanRequestInput { Model = "UNET3D_CICEK", BaseFilters = "4", Batch = "2" };
        var planned = service.Plan(Admin, service.Find("task")!, input, CancellationToken.None);
        Assert.True(planned.InDatasetFolder);
        var file = Path.Combine(folder, PlanningRequest.DefaultFileName);
        Assert.Equal(planned.Plan.ToJson(), DatasetPlan.Load(file).ToJson());
        Assert.Equal(["M0", "M1"], planned.Fingerprint.Modalities);

        // Auto-configured runs of this dataset now train with the stored plan (its override included).
        var after = (TrainerOptions)new TrainerRunExecutor(service).Form.Presets.Single(p => p.Name == "task" + TrainerRunExecutor.AutoSuffix).Create();
        Assert.Equal(file, after.PlanSource);
        Assert.Equal(2, TrainingPlans.Resolve(after).Sampling.BatchSize);

        // A removed registration takes its stored plan along: a new dataset of that name starts unplanned.
        service.Remove(Admin, "task");
        Assert.Null(service.StoredPlan("task"));
    }

    [Fact]
    public async Task Plan_UnreadableDatasetOrViewer_IsRefusedAndNothingIsStored()
    {
        await using var f = new StoreFixture();
        var folder = Directory.CreateDirectory(Path.Combine(f.Folder.Path, "datasets", "gone")).FullName;
        DatasetMemoryTests.WriteDecathlon(folder);
        var service = Service(f);
        service.Register(Admin, "gone", service.Check(Admin, "decathlon", folder, CancellationToken.None));
        Assert.Throws<UnauthorizedAccessException>(() => service.Plan(Principal("v", Roles.Viewer), service.Find("gone")!, new PlanRequestInput(), CancellationToken.None));
        foreach (var label in Directory.GetFiles(Path.Combine(folder, "labelsTr"))) File.WriteAllText(label, "not a volume");
        Assert.Throws<DatasetException>(() => service.Plan(Admin, service.Find("gone")!, new PlanRequestInput { BaseFilters = "4" }, CancellationToken.None));
        Assert.Null(service.StoredPlan("gone"));
    }

    [Fact]
    public async Task AutoPreset_IsTheSmokeRunWithThePlanFromTheDataset()
    {
        await using var f = new StoreFixture();
        var preset = new TrainerRunExecutor(Service(f)).Form.Presets.Single(p => p.Name == TrainerRunExecutor.AutoPreset);
        var o = (TrainerOptions)preset.Create();
        Assert.Equal(TrainingPlans.Auto, o.PlanSource);
        Assert.Contains("decides patch, batch and depth", preset.Description);
    }
}
