using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;
using MedZoo.Engine.Inference;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;

namespace MedZoo.Engine.Training;

/// <summary>Optimizer choices (MedicalZoo's <c>--opt</c> plus AdamW).</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with <see cref="TrainerOptions.Momentum"/> (MedicalZoo's default).</summary>
    Sgd,
    /// <summary>Adam (Kingma 2015); <see cref="TrainerOptions.WeightDecay"/> is L2 added to the gradient.</summary>
    Adam,
    /// <summary>AdamW (Loshchilov 2019): weight decay decoupled from the gradient.</summary>
    AdamW,
    /// <summary>RMSprop with <see cref="TrainerOptions.Momentum"/>.</summary>
    RmsProp,
}

/// <summary>
/// Everything a training run needs, as plain settable properties (the CLI, the dashboard form and
/// checkpoints bind and serialize it). Every MedicalZoo training argument has a home here; the
/// mapping is listed on each property as <c>--name</c>. Data, sampling, augmentation and loss
/// settings are the options of their own components, composed rather than copied.
/// </summary>
public sealed class TrainerOptions
{
    /// <summary>Network of the model zoo, by name (<c>medzoo models</c> lists each with its input constraints and paper); default UNET3D.</summary>
    public string Model { get; set; } = "UNET3D";

    /// <summary>Width of the model's first level; null = the model's default.</summary>
    public int? BaseFilters { get; set; }

    /// <summary>Model depth where the model has one (UNET3D_CICEK poolings, RESNETMED3D depth); null = default.</summary>
    public int? ModelDepth { get; set; }

    /// <summary>Dropout of dense models; null = default.</summary>
    public double? DropRate { get; set; }

    /// <summary>Dataset, split and normalization (<c>--dataset_name</c>, <c>--dataset_path</c>, <c>--split</c>, <c>--normalization</c>, <c>--classes</c>, <c>--inModalities</c>).</summary>
    public DatasetOptions Dataset { get; set; } = new();

    /// <summary>
    /// Where the dataset plan comes from (<c>--plan</c>): null or empty (default) = no plan, the
    /// MedicalZoo settings as given; "auto" = fingerprint the dataset and plan it when the run starts
    /// (measured on <see cref="Device"/>); anything else = the path of a plan JSON file. Ignored when
    /// <see cref="Plan"/> is set.
    /// </summary>
    public string? PlanSource { get; set; }

    /// <summary>
    /// The dataset plan (<see cref="Planning.DatasetPlan"/>): subjects are reoriented, normalized and
    /// resampled by it, its patch, batch and depth replace <see cref="Sampling"/>'s and
    /// <see cref="ModelDepth"/>, and it is saved in every checkpoint so inference applies it. Null = none.
    /// Not a form field (forms set <see cref="PlanSource"/>); it travels in the options' JSON.
    /// </summary>
    [System.ComponentModel.Browsable(false)]
    public Planning.DatasetPlan? Plan { get; set; }

    /// <summary>Patch sampling (<c>--dim</c>, <c>--batchSz</c>, <c>--samples_train</c>, <c>--samples_val</c>, <c>--threshold</c>).</summary>
    public SamplingOptions Sampling { get; set; } = new();

    /// <summary>Augmentation (<c>--augmentation</c>).</summary>
    public AugmentationOptions Augmentation { get; set; } = new();

    /// <summary>
    /// Input channels (<c>--inChannels</c>); 0 = the number of modalities the dataset provides. A
    /// non-zero value must equal that number (MedicalZoo lets them disagree and then crashes).
    /// </summary>
    public int InChannels { get; set; }

    /// <summary>
    /// Use the first N modalities of the dataset (<c>--inModalities</c>); 0 (default) = all, or the
    /// ones named in <see cref="DatasetOptions.Modalities"/>. Ignored when modalities are named.
    /// </summary>
    public int InModalities { get; set; }

    /// <summary>Epochs (<c>--nEpochs</c>); default 30.</summary>
    public int Epochs { get; set; } = 30;

    /// <summary>Initial learning rate (<c>--lr</c>); default 1e-3.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Optimizer (<c>--opt</c>: sgd, adam, adamw, rmsprop); default adam.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Momentum of SGD and RMSprop; default 0.9.</summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>Weight decay (L2 for SGD/Adam/RMSprop, decoupled for AdamW); default 0.</summary>
    public double WeightDecay { get; set; }

    /// <summary>Learning-rate schedule, stepped once per epoch.</summary>
    public SchedulerOptions Scheduler { get; set; } = new();

    /// <summary>Loss function, by name (case and '_' ignored; MedicalZooPytorch's loss class names work too); default dice_ce, Dice + cross-entropy.</summary>
    /// <remarks>One of the names <see cref="LossFactory"/> builds.</remarks>
    public string Loss { get; set; } = "dice_ce";

    /// <summary>Loss flags (background, smoothing, class weights, ...).</summary>
    public LossOptions LossOptions { get; set; } = new();

    /// <summary>Seed of the weights, the data pipeline and augmentation (<c>--seed</c>); default 1777777 (MedicalZoo's).</summary>
    public long Seed { get; set; } = 1777777;

    /// <summary>Validate every this many epochs (the last epoch is always validated); default 1.</summary>
    public int ValidationInterval { get; set; } = 1;

    /// <summary>Sliding-window overlap of validation inference, 0 ≤ o &lt; 1; default 0.25 (fast; inference defaults to 0.5).</summary>
    public double ValidationOverlap { get; set; } = 0.25;

    /// <summary>Windows per forward pass during validation; default 2.</summary>
    public int ValidationWindowsPerBatch { get; set; } = 2;

    /// <summary>Compute HD95 and ASSD during validation (costs a distance transform per class); default true.</summary>
    public bool SurfaceDistances { get; set; } = true;

    /// <summary>Stop after this many validations without improvement of mean foreground Dice; 0 (default) disables early stopping.</summary>
    public int EarlyStoppingPatience { get; set; }

    /// <summary>Improvement of mean foreground Dice below this does not count as one; default 0.</summary>
    public double EarlyStoppingMinDelta { get; set; }

    /// <summary>Write the "last" checkpoint every this many epochs (and always at the end); default 1.</summary>
    public int CheckpointInterval { get; set; } = 1;

    /// <summary>
    /// Resume (<c>--resume</c>): null or empty = a new run; "last" = this run's last checkpoint in the
    /// store (an error when there is none); "auto" = the last checkpoint when there is one, else a new
    /// run; anything else = the path of a checkpoint file.
    /// </summary>
    public string? Resume { get; set; }

    /// <summary>TensorBoard folder (<c>--log_dir</c>); each run writes its events to a sub-folder named after the run. Null = no TensorBoard files.</summary>
    public string? LogDirectory { get; set; }

    /// <summary>Device: "auto" (default), "cpu", "cuda", "cuda:N" (<c>--cuda</c> = "cuda"). CUDA requested but absent falls back to CPU with a notice.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>torch intra-op threads; 0 (default) = torch's choice. Process-wide.</summary>
    public int Threads { get; set; }

    /// <summary>Publish slice previews every this many validations; 0 disables them; default 1.</summary>
    public int PreviewInterval { get; set; } = 1;

    /// <summary>Index of the validation subject shown in previews; default 0.</summary>
    public int PreviewSubject { get; set; }

    /// <summary>Relative slice position 0..1 for the three preview planes; default 0.5 (centre).</summary>
    public double PreviewPosition { get; set; } = 0.5;

    /// <summary>
    /// Throws <see cref="InvalidOptionException"/> for the first invalid field. Its
    /// <see cref="InvalidOptionException.Error"/> holds the field's option path (nested fields as
    /// <c>Dataset.Split</c>, <c>Sampling.PatchSize</c>, ...) and the problem apart, for a form that
    /// shows the problem on the field; its message is "path: problem".
    /// </summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model)) Fail(nameof(Model), "a model name is required");
        if (!ModelZoo.TryGet(Model, out var model)) Fail(nameof(Model), $"'{Model}' is not a model: use one of {string.Join(", ", ModelZoo.Names)}");
        if (BaseFilters is <= 0) Fail(nameof(BaseFilters), $"must be positive, got {BaseFilters}");
        if (ModelDepth is <= 0) Fail(nameof(ModelDepth), $"must be positive, got {ModelDepth}");
        if (DropRate is { } dr && !(dr >= 0 && dr < 1)) Fail(nameof(DropRate), $"must be in [0, 1), got {Format(dr)}");
        // Options the model does not use are errors, so a typo does not silently train another network.
        if (BaseFilters is not null && !model!.SupportedOptions.HasFlag(ModelOptionKinds.BaseFilters)) Fail(nameof(BaseFilters), $"{model.Name} has no base-filters option");
        if (ModelDepth is not null && !model!.SupportedOptions.HasFlag(ModelOptionKinds.Depth)) Fail(nameof(ModelDepth), $"{model.Name} has no depth option");
        if (DropRate is not null && !model!.SupportedOptions.HasFlag(ModelOptionKinds.DropRate)) Fail(nameof(DropRate), $"{model.Name} has no drop-rate option");
        Nested(nameof(Dataset), Dataset, o => o.Validate());
        if (Plan is not null) Nested(nameof(Plan), Plan, o => o.Validate());
        Nested(nameof(Sampling), Sampling, o => o.Validate());
        // The patch must suit the network (e.g. UNET3D needs sizes divisible by 16 and at least 32).
        try
        {
            model!.ConstraintsFor(new ModelOptions { Depth = ModelDepth })
                .ValidateSpatial(model.Name, Sampling.PatchSize.Select(v => (long)v).ToArray(), nameof(SamplingOptions.PatchSize));
        }
        catch (ArgumentException e)
        {
            Fail($"{nameof(Sampling)}.{nameof(SamplingOptions.PatchSize)}", PlainMessage(e));
        }
        Nested(nameof(Augmentation), Augmentation, o => o.Validate());
        if (InChannels < 0) Fail(nameof(InChannels), $"must be 0 (from the dataset) or positive, got {InChannels}");
        if (InModalities < 0) Fail(nameof(InModalities), $"must be 0 (all) or positive, got {InModalities}");
        if (Epochs < 1) Fail(nameof(Epochs), $"must be at least 1, got {Epochs}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) Fail(nameof(LearningRate), $"must be a positive number, got {Format(LearningRate)}");
        if (!Enum.IsDefined(Optimizer)) Fail(nameof(Optimizer), $"{(int)Optimizer} is not an optimizer");
        if (!(Momentum >= 0 && Momentum < 1)) Fail(nameof(Momentum), $"must be in [0, 1), got {Format(Momentum)}");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) Fail(nameof(WeightDecay), $"must be ≥ 0, got {Format(WeightDecay)}");
        Nested(nameof(Scheduler), Scheduler, o => o.Validate());
        if (!LossFactory.IsKnown(Loss)) Fail(nameof(Loss), $"'{Loss}' is not a loss: use one of {string.Join(", ", LossFactory.Names)}");
        Nested(nameof(LossOptions), LossOptions, o => o.Validate());
        if (ValidationInterval < 1) Fail(nameof(ValidationInterval), $"must be at least 1, got {ValidationInterval}");
        if (!(ValidationOverlap >= 0 && ValidationOverlap < 1)) Fail(nameof(ValidationOverlap), $"must be in [0, 1), got {Format(ValidationOverlap)}");
        if (ValidationWindowsPerBatch < 1) Fail(nameof(ValidationWindowsPerBatch), $"must be at least 1, got {ValidationWindowsPerBatch}");
        if (EarlyStoppingPatience < 0) Fail(nameof(EarlyStoppingPatience), $"must be ≥ 0, got {EarlyStoppingPatience}");
        if (!(EarlyStoppingMinDelta >= 0)) Fail(nameof(EarlyStoppingMinDelta), $"must be ≥ 0, got {Format(EarlyStoppingMinDelta)}");
        if (CheckpointInterval < 1) Fail(nameof(CheckpointInterval), $"must be at least 1, got {CheckpointInterval}");
        if (string.IsNullOrWhiteSpace(Device)) Fail(nameof(Device), "use auto, cpu, cuda or cuda:N");
        var device = Device.Trim().ToLowerInvariant();
        if (device is not ("auto" or "cpu" or "cuda") && !(device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device[5..], out var n) && n >= 0))
            Fail(nameof(Device), $"'{Device}' is not a device: use auto, cpu, cuda or cuda:N");
        if (Threads < 0) Fail(nameof(Threads), $"must be 0 (torch's choice) or positive, got {Threads}");
        if (PreviewInterval < 0) Fail(nameof(PreviewInterval), $"must be ≥ 0, got {PreviewInterval}");
        if (PreviewSubject < 0) Fail(nameof(PreviewSubject), $"must be ≥ 0, got {PreviewSubject}");
        if (!(PreviewPosition >= 0 && PreviewPosition <= 1)) Fail(nameof(PreviewPosition), $"must be in [0, 1], got {Format(PreviewPosition)}");
    }

    /// <summary>A deep copy: nested options and their arrays are copied, so changing the copy leaves these options as they were.</summary>
    public TrainerOptions Clone()
    {
        var c = (TrainerOptions)MemberwiseClone();
        c.Dataset = Dataset?.Clone()!;
        c.Sampling = Sampling?.Clone()!;
        c.Augmentation = Augmentation?.Clone()!;
        c.Scheduler = Scheduler?.Clone()!;
        c.LossOptions = LossOptions?.Clone()!;
        return c;
    }

    /// <summary>Sliding-window options of validation (window = the training patch size).</summary>
    public SlidingWindowOptions ValidationInference() => new()
    {
        WindowSize = Sampling.PatchSize.ToArray(),
        Overlap = ValidationOverlap,
        Blend = BlendMode.Gaussian,
        WindowsPerBatch = ValidationWindowsPerBatch,
        Output = InferenceOutput.Logits,
    };

    /// <summary>An <see cref="ArgumentException"/>'s message without the " (Parameter 'x')" suffix .NET appends.</summary>
    public static string PlainMessage(ArgumentException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var suffix = e.ParamName is null ? null : $" (Parameter '{e.ParamName}')";
        return suffix is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    private static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);

    private static void Fail(string field, string problem) => throw new InvalidOptionException(field, problem);

    private static void Nested<T>(string name, T? value, Action<T> validate) where T : class
    {
        if (value is null) Fail(name, "must be set");
        try { validate(value!); }
        catch (InvalidOptionException e)
        {
            // The component names its own field; from here its path is this property's name and the field's.
            throw e.Under(name);
        }
    }
}
