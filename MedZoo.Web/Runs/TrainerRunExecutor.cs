using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Web.Datasets;

namespace MedZoo.Web.Runs;

/// <summary>
/// Runs the engine's <see cref="Trainer"/> for the dashboard. A run's stored configuration is a
/// <see cref="TrainerOptions"/> as JSON (what the New run form edits, field by field); a resume
/// continues from the run's "last" checkpoint in the dashboard's store. The trainer reports every
/// outcome, failures included, as a <see cref="RunFinished"/> event, so a failed run throws nothing.
/// Folders and the dataset's memory are checked by <see cref="DatasetService.CheckRun"/> when a run
/// is queued and again when it starts; a run refused at start fails with that message.
/// </summary>
public sealed class TrainerRunExecutor(DatasetService datasets) : IRunExecutor
{
    /// <summary>Name of the default preset: the synthetic demo that learns visibly within minutes on a CPU.</summary>
    public const string DemoPreset = "synthetic: demo (under a minute on 2 CPU cores)";

    /// <summary>Name of the smallest preset: a few seconds of training that exercises everything (previews, checkpoints, validation).</summary>
    public const string SmokePreset = "synthetic: smoke test (seconds)";

    /// <summary>Name of the preset that trains the smoke-test phantoms with a plan made from them when the run starts.</summary>
    public const string AutoPreset = "synthetic: auto-configure from dataset (seconds)";

    /// <summary>The suffix of a registered dataset's auto-configured preset ("mine: auto-configure from dataset").</summary>
    public const string AutoSuffix = ": auto-configure from dataset";

    /// <inheritdoc />
    public RunPlan Describe(object configuration)
    {
        var o = configuration as TrainerOptions
            ?? throw new ArgumentException($"the run configuration must be {nameof(TrainerOptions)}, got {configuration?.GetType().Name ?? "nothing"}", nameof(configuration));
        o.Validate();
        // Folders under the data roots and a dataset that fits the memory budget, before the run is queued.
        // The check rewrites folders to their resolved form, on a copy: the run keeps the text the user gave.
        datasets.CheckRun(o.Clone());
        // Runs share a device's slots by the device they will really use ("auto" is "cpu" here).
        return new RunPlan(o.Model, o.Dataset.Name, o.Epochs, DeviceSelector.Resolve(o.Device).Info.Device);
    }

    /// <inheritdoc />
    public void Execute(RunExecution x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var options = RunConfigJson.Deserialize<TrainerOptions>(x.ConfigJson);
        options.Resume = x.Resume ? "last" : null;
        // Again at start (roots, files and the budget may have changed while it was queued), and
        // the trainer gets the resolved folders that were checked, not the text that was typed.
        datasets.CheckRun(options);
        new Trainer().Run(options, x.Observer, x.Control, x.Checkpoints, x.RunId);
    }

    /// <inheritdoc />
    public RunForm Form => new(typeof(TrainerOptions), Presets(), Choices);

    private static IReadOnlyList<string>? Choices(string path) => path switch
    {
        nameof(TrainerOptions.Model) => ModelZoo.Names,
        "Dataset.Name" => DatasetCatalog.Names,
        "Dataset.Normalization" => Normalization.ValidNames,
        "Sampling.Sampler" => SamplingOptions.SamplerNames,
        "Sampling.ThresholdOf" => ["crop", "volume"],
        nameof(TrainerOptions.Loss) => LossFactory.Names,
        nameof(TrainerOptions.Device) => ["auto", "cpu", "cuda"],
        _ => null,
    };

    private IReadOnlyList<RunPreset> Presets()
    {
        var presets = new List<RunPreset>
        {
            new(DemoPreset, "tissue phantoms, a small 3D U-Net (Çiçek): mean foreground Dice above 0.9 on held-out phantoms", () => Demo("synthetic")),
            new("synthetic_tumour: demo", "BraTS-like tumour phantoms, the same small U-Net", () => Demo("synthetic_tumour")),
            new(SmokePreset, "tiny phantoms and network, two short epochs: checks that training, validation and previews work", Smoke),
            new(AutoPreset, "the smoke test's phantoms and network; the dataset's plan (fingerprint, spacing, intensity, memory measured on the server's device) decides patch, batch and depth", AutoConfigured),
            new("MedicalZoo defaults", "the trainer's defaults (MedicalZooPytorch's UNET3D settings) on the synthetic phantoms", () => new TrainerOptions()),
        };
        foreach (var d in datasets.List().Where(d => !d.BuiltIn))
        {
            presets.Add(new RunPreset(d.Name, $"{d.Kind} at {d.Path}, the trainer's defaults", () =>
            {
                var o = new TrainerOptions();
                o.Dataset.Name = d.Kind;
                o.Dataset.Path = d.Path;
                return o;
            }));
            // The plan made on the Datasets page (overrides included) when there is one, else a plan made at start.
            var stored = datasets.Store.FindPlan(d.Name)?.SavedTo;
            presets.Add(new RunPreset(d.Name + AutoSuffix,
                stored is null ? $"{d.Kind} at {d.Path}: planned when the run starts; the plan decides patch, batch and depth"
                    : $"{d.Kind} at {d.Path}: the plan made on the Datasets page decides patch, batch and depth", () =>
            {
                var o = new TrainerOptions { PlanSource = stored ?? TrainingPlans.Auto };
                o.Dataset.Name = d.Kind;
                o.Dataset.Path = d.Path;
                return o;
            }));
        }
        return presets;
    }

    /// <summary>
    /// The demo configuration of the README (<c>medzoo train --model UNET3D_CICEK --base_filters 8
    /// --depth 3 --dim 32 --batchSz 2 --nEpochs 12 --samples_train 32 --lr 0.003
    /// --validation_interval 3 --seed 1</c>): 32 s on 2 CPU cores (measured: README, Training).
    /// </summary>
    public static TrainerOptions Demo(string dataset)
    {
        var o = new TrainerOptions
        {
            Model = "UNET3D_CICEK", BaseFilters = 8, ModelDepth = 3, Epochs = 12, LearningRate = 0.003, ValidationInterval = 3, Seed = 1,
        };
        o.Dataset.Name = dataset;
        o.Dataset.Seed = 1;
        o.Sampling.PatchSize = [32, 32, 32];
        o.Sampling.BatchSize = 2;
        o.Sampling.SamplesTrain = 32;
        return o;
    }

    /// <summary>The <see cref="Smoke"/> run with <see cref="TrainerOptions.PlanSource"/> "auto": the plan decides patch, batch and depth.</summary>
    public static TrainerOptions AutoConfigured()
    {
        var o = Smoke();
        o.PlanSource = TrainingPlans.Auto;
        return o;
    }

    /// <summary>
    /// Seconds of training on 5 phantoms of 24³ (4 train, 1 validation) with 16³ patches and a
    /// 8-filter, 2-level U-Net: 2 steps per epoch, 2 epochs, validation and previews every epoch.
    /// </summary>
    public static TrainerOptions Smoke()
    {
        var o = new TrainerOptions
        {
            Model = "UNET3D_CICEK", BaseFilters = 8, ModelDepth = 2, Epochs = 2, LearningRate = 0.01, Seed = 1,
        };
        o.Dataset.SyntheticSubjects = 5;
        o.Dataset.SyntheticSize = [24, 24, 24];
        o.Dataset.Seed = 1;
        o.Sampling.PatchSize = [16, 16, 16];
        o.Sampling.BatchSize = 2;
        o.Sampling.SamplesTrain = 4;
        o.Sampling.SamplesVal = 2;
        o.Augmentation.Enabled = false;
        return o;
    }
}
