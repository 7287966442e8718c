using MedZoo.Engine;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Datasets;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Forms;

namespace MedZoo.Tests.Web.Runs;

/// <summary>The production executor: the engine's trainer behind the dashboard's run worker and New run form.</summary>
public sealed class TrainerRunExecutorTests
{
    private sealed class Events : ITrainingObserver
    {
        private readonly List<TrainingEvent> _all = [];

        public IReadOnlyList<TrainingEvent> All
        {
            get { lock (_all) return _all.ToList(); }
        }

        public void OnEvent(TrainingEvent trainingEvent)
        {
            lock (_all) _all.Add(trainingEvent);
        }
    }

    private static TrainerRunExecutor Executor(StoreFixture store) => new(new DatasetService(store.Datasets, store.DataOptions, TimeProvider.System));

    [Fact]
    public async Task Form_EveryPreset_IsAValidRunOnTheCpu()
    {
        await using var store = new StoreFixture();
        var form = Executor(store).Form;
        Assert.Equal(typeof(TrainerOptions), form.ConfigurationType);
        Assert.Equal(TrainerRunExecutor.DemoPreset, form.Presets[0].Name);
        foreach (var preset in form.Presets)
        {
            var plan = Executor(store).Describe(preset.Create());
            Assert.Equal("cpu", plan.Device);
            Assert.True(plan.Epochs >= 1, preset.Name);
        }
        var demo = Executor(store).Describe(form.Presets[0].Create());
        Assert.Equal(new RunPlan("UNET3D_CICEK", "synthetic", 12, "cpu"), demo);
    }

    [Fact]
    public async Task Form_TrainerOptions_EveryOptionIsAFieldWithKnownValueLists()
    {
        await using var store = new StoreFixture();
        var form = Executor(store).Form;
        var fields = OptionFields.Describe(form.ConfigurationType, form.Choices).ToDictionary(f => f.Path);
        Assert.Equal(ModelZoo.Names, fields["Model"].Choices);
        Assert.Contains("synthetic_tumour", fields["Dataset.Name"].Choices!);
        Assert.Equal(OptionKind.List, fields["Sampling.PatchSize"].Kind);
        Assert.Equal(OptionKind.Choice, fields["Optimizer"].Kind);
        foreach (var path in new[] { "Epochs", "LearningRate", "Seed", "ValidationInterval", "Scheduler.Kind", "Augmentation.Enabled", "Loss", "Device", "Dataset.Split" })
            Assert.True(fields.ContainsKey(path), path);
        // Every value list holds the option's default, so a fresh form is valid as shown.
        var defaults = new TrainerOptions();
        foreach (var f in fields.Values.Where(f => f.Choices is not null && f.Type == typeof(string)))
            Assert.Contains((string)f.Get(defaults)!, f.Choices!, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Describe_InvalidOption_ThrowsNamingTheField()
    {
        await using var store = new StoreFixture();
        var options = TrainerRunExecutor.Smoke();
        options.Sampling.PatchSize = [18, 18, 18];
        var e = Assert.Throws<InvalidOptionException>(() => Executor(store).Describe(options));
        Assert.Equal("Sampling.PatchSize", e.Error.Path);
        Assert.StartsWith("Sampling.PatchSize: ", e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }

    [Fact]
    public async Task Execute_SmokePresetThenResume_TrainsIntoTheStoreAndContinues()
    {
        await using var store = new StoreFixture();
        var executor = Executor(store);
        var events = new Events();
        using var control = new TrainingControl();
        var config = RunConfigJson.Serialize(TrainerRunExecutor.Smoke());
        executor.Execute(new RunExecution("smoke", config, Resume: false, events, control, store.Checkpoints));

        var finished = Assert.IsType<RunFinished>(events.All[^1]);
        Assert.True(finished.Outcome == RunOutcome.Completed, finished.Reason);
        Assert.Equal(2, finished.EpochsCompleted);
        var steps = events.All.OfType<StepCompleted>().ToList();
        Assert.Equal(4, steps.Count); // 4 patches per epoch, 2 per batch
        Assert.All(events.All.OfType<EpochCompleted>(), e => Assert.InRange(e.MeanForegroundDice!.Value, 0, 1));
        Assert.Equal(6, events.All.OfType<SlicePreview>().Count()); // three planes per validation
        Assert.NotNull(store.Checkpoints.Find("smoke", "last"));
        Assert.NotNull(store.Checkpoints.Find("smoke", "best"));

        // Resume continues the same run from the store's "last" checkpoint (a longer run now).
        var longer = TrainerRunExecutor.Smoke();
        longer.Epochs = 3;
        var resumed = new Events();
        executor.Execute(new RunExecution("smoke", RunConfigJson.Serialize(longer), Resume: true, resumed, control, store.Checkpoints));
        Assert.Equal(3, resumed.All.OfType<RunStarted>().Single().StartEpoch);
        Assert.Equal([5L, 6L], resumed.All.OfType<StepCompleted>().Select(s => s.GlobalStep));
        Assert.Equal(RunOutcome.Completed, resumed.All.OfType<RunFinished>().Single().Outcome);
    }

    [Fact]
    public async Task Describe_LogDirectoryOutsideTheDataFolder_IsRefusedOnThatField()
    {
        await using var store = new StoreFixture();
        var options = TrainerRunExecutor.Smoke();
        options.LogDirectory = "/tmp";
        var e = Assert.Throws<InvalidOptionException>(() => Executor(store).Describe(options));
        Assert.Equal("LogDirectory", e.Error.Path);
        Assert.StartsWith("LogDirectory: ", e.Message);
        Assert.DoesNotContain("/tmp", e.Message);
        Assert.Equal("/tmp", options.LogDirectory); // the check worked on a copy: the run keeps what the user typed
    }

    [Fact]
    public async Task Execute_DatasetFolderOutsideTheRootsAtStart_ThrowsBeforeTraining()
    {
        // A run queued before its root was removed (or written to the store by other means) is refused when it starts.
        await using var store = new StoreFixture();
        var options = new TrainerOptions();
        options.Dataset.Name = "decathlon";
        options.Dataset.Path = "/etc";
        var events = new Events();
        using var control = new TrainingControl();
        var e = Assert.Throws<InvalidOptionException>(() =>
            Executor(store).Execute(new RunExecution("outside", RunConfigJson.Serialize(options), Resume: false, events, control, store.Checkpoints)));
        Assert.StartsWith("Dataset.Path: ", e.Message);
        Assert.Empty(events.All);
    }
}
