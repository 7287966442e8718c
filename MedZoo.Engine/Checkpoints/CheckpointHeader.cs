using System.Text.Json;

namespace MedZoo.Engine.Checkpoints;

/// <summary>
/// The metadata of a <see cref="Checkpoint"/> (its checkpoint.json). Everything inference needs is
/// here without the trainer options: model and hyper-parameters, classes, modalities, normalization
/// and patch size.
/// </summary>
public sealed class CheckpointHeader
{
    /// <summary>Layout version (set by <see cref="Checkpoint.Write"/>).</summary>
    public int FormatVersion { get; set; }

    /// <summary>The run it belongs to.</summary>
    public string RunId { get; set; } = "";

    /// <summary>"last", "best", or "export".</summary>
    public string Kind { get; set; } = "last";

    /// <summary>When it was written (UTC).</summary>
    public DateTimeOffset Created { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>How to rebuild the network.</summary>
    public CheckpointModel Model { get; set; } = new();

    /// <summary>Class names, background first (index = label value of the prediction).</summary>
    public List<string> ClassNames { get; set; } = [];

    /// <summary>Label value written to the output file for each class index (default: the index itself).</summary>
    public List<int>? LabelValues { get; set; }

    /// <summary>Modality names in input-channel order (e.g. "T1", "T2").</summary>
    public List<string> Modalities { get; set; } = [];

    /// <summary>Intensity normalization applied to each modality before the network.</summary>
    public CheckpointNormalization Normalization { get; set; } = new();

    /// <summary>
    /// The dataset plan the model was trained with (orientation, spacing, intensity schemes); null for
    /// runs without one and for checkpoints written before plans existed. Inference applies it on the
    /// way in and undoes it on the way out; <see cref="Normalization"/> is then not used.
    /// </summary>
    public Planning.DatasetPlan? Plan { get; set; }

    /// <summary>Training patch size (D, H, W): the default sliding window for inference.</summary>
    public int[] PatchSize { get; set; } = [];

    /// <summary>Dataset the model was trained on (name, for display).</summary>
    public string Dataset { get; set; } = "";

    /// <summary>Last completed epoch (1-based); training resumes at Epoch + 1.</summary>
    public int Epoch { get; set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long GlobalStep { get; set; }

    /// <summary>Best validation mean foreground Dice so far, or null if never validated.</summary>
    public double? BestMetric { get; set; }

    /// <summary>Epoch of <see cref="BestMetric"/>.</summary>
    public int? BestEpoch { get; set; }

    /// <summary>Seed of the run (data and torch generators are derived from it per epoch).</summary>
    public long Seed { get; set; }

    /// <summary>Optimizer name ("sgd", "adam", ...) so a resume can check it matches.</summary>
    public string Optimizer { get; set; } = "";

    /// <summary>Learning-rate scheduler state (JSON of the scheduler's own state).</summary>
    public JsonElement? Scheduler { get; set; }

    /// <summary>Early-stopping counters.</summary>
    public EarlyStoppingState? EarlyStopping { get; set; }

    /// <summary>
    /// Every completed epoch's summary, so metric series continue after a resume: the trainer's
    /// epoch events as JSON, read and written by <c>MedZoo.Engine.Training.CheckpointHistory</c>.
    /// Kept as JSON so that the checkpoint format (and inference, which reads it) does not depend on
    /// the trainer's types, like <see cref="Scheduler"/>.
    /// </summary>
    public List<JsonElement> History { get; set; } = [];

    /// <summary>The full trainer options as JSON (informational for inference; used by resume).</summary>
    public JsonElement? TrainerOptions { get; set; }
}

/// <summary>Network identity and hyper-parameters stored in a checkpoint.</summary>
public sealed class CheckpointModel
{
    /// <summary>Model zoo name (e.g. "UNET3D").</summary>
    public string Name { get; set; } = "";

    /// <summary>Input channels (modalities).</summary>
    public int InChannels { get; set; }

    /// <summary>Output classes, background included.</summary>
    public int Classes { get; set; }

    /// <summary>Width of the first level; null = the model's default.</summary>
    public int? BaseFilters { get; set; }

    /// <summary>Depth where the model has one (UNET3D_CICEK poolings, RESNETMED3D depth); null = the model's default.</summary>
    public int? Depth { get; set; }

    /// <summary>Dropout of dense models; null = the model's default.</summary>
    public double? DropRate { get; set; }

    /// <summary>Trainable parameter count (to check the rebuilt network is the same).</summary>
    public long ParameterCount { get; set; }
}

/// <summary>Normalization name and the parameters that define it.</summary>
public sealed class CheckpointNormalization
{
    /// <summary>MedicalZoo's name ("full_volume_mean", "max_min", "brats", "max", "mean") or "none".</summary>
    public string Name { get; set; } = "none";

    /// <summary>Named numeric parameters (e.g. clip percentiles).</summary>
    public Dictionary<string, double> Parameters { get; set; } = [];
}

/// <summary>Early-stopping counters, saved so that a resumed run stops when an uninterrupted one would.</summary>
/// <param name="Best">Best monitored value so far (NaN if none).</param>
/// <param name="EpochsWithoutImprovement">Validations since the last improvement.</param>
public sealed record EarlyStoppingState(double Best, int EpochsWithoutImprovement);
