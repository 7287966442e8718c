using System.Globalization;
using MedZoo.Engine.Training;
using MedZoo.Web.Cli.Training;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo train</c>: trains a model headlessly. Accepts MedicalZooPytorch's argument names as its
/// scripts spell them (<c>--batchSz</c>, <c>--dataset_name</c>, <c>--dim</c>, <c>--nEpochs</c>, ...)
/// plus MedZoo's own; defaults to the synthetic dataset. Writes checkpoints and summary.json to
/// <c>--output</c>, and records the run in the dashboard's data folder (a journal the dashboard
/// imports, live when it is running) unless <c>--record False</c>. Exit codes: 0 completed (or early-stopped), 1 failed, 2 bad arguments, 130 stopped.
/// </summary>
public sealed class TrainVerb : ICliVerb
{
    public string Name => "train";

    public string Summary => "train a segmentation model (MedicalZoo's arguments accepted as written)";

    public string Positionals => "";

    public bool NeedsTorch => true;

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("model", "model zoo name (UNET3D, VNET, ...)", CliArity.Single, "UNET3D"),
        new("dataset_name", "dataset (synthetic, iseg2017, iseg2019, mrbrains4, mrbrains8, brats2018, ...)", CliArity.Single, "synthetic"),
        new("dataset_path", "folder holding the dataset as distributed (not needed for synthetic)"),
        new("dim", "patch size: D H W, or one value for a cube", CliArity.Multi, "32 32 32"),
        new("batchSz", "patches per batch", CliArity.Single, "2"),
        new("nEpochs", "epochs", CliArity.Single, "30"),
        new("classes", "classes including background (0 = as the dataset defines)", CliArity.Single, "0"),
        new("samples_train", "training patches per epoch", CliArity.Single, "64"),
        new("samples_val", "validation patches of the data pipeline (MedZoo validates on whole held-out volumes)", CliArity.Single, "16"),
        new("inChannels", "network input channels (0 = number of modalities; must equal it otherwise)", CliArity.Single, "0"),
        new("inModalities", "use the first N modalities of the dataset (0 = all)", CliArity.Single, "0"),
        new("modalities", "modalities by name, in channel order (e.g. T1 T2)", CliArity.Multi),
        new("threshold", "foreground fraction a training crop must reach (threshold sampler)", CliArity.Single, "0.1"),
        new("sampler", "patch sampler: random, threshold, balanced, class_ratio, grid", CliArity.Single, "threshold"),
        new("augmentation", "augment patches (True/False)", CliArity.Flag, "True"),
        new("normalization", "intensity normalization: none, max_min, full_volume_mean, mean, max, brats, zscore_nonzero", CliArity.Single, "zscore_nonzero"),
        new("split", "fraction of subjects used for training", CliArity.Single, "0.8"),
        new("lr", "initial learning rate", CliArity.Single, "0.001"),
        new("opt", "optimizer: sgd, adam, adamw, rmsprop", CliArity.Single, "adam"),
        new("momentum", "momentum of sgd and rmsprop", CliArity.Single, "0.9"),
        new("weight_decay", "weight decay", CliArity.Single, "0"),
        new("scheduler", "LR schedule: none, step, cosine, poly, plateau", CliArity.Single, "none"),
        new("step_size", "step schedule: epochs between decays", CliArity.Single, "30"),
        new("gamma", "step schedule: decay factor", CliArity.Single, "0.1"),
        new("min_lr", "cosine/plateau: lowest learning rate", CliArity.Single, "0"),
        new("plateau_patience", "plateau schedule: validations without improvement before reducing", CliArity.Single, "10"),
        new("loss", "loss: dice, dice_ce, generalized_dice, focal, dice_focal, tversky, weighted_ce, bce_dice, ...", CliArity.Single, "dice_ce"),
        new("base_filters", "width of the model's first level (default: the model's)"),
        new("depth", "model depth where it has one (UNET3D_CICEK poolings, RESNETMED3D depth)"),
        new("seed", "seed of weights, data and augmentation", CliArity.Single, "1777777"),
        new("validation_interval", "validate every N epochs", CliArity.Single, "1"),
        new("overlap", "sliding-window overlap of validation", CliArity.Single, "0.25"),
        new("patience", "early stopping: validations without improvement (0 = off)", CliArity.Single, "0"),
        new("min_delta", "early stopping: smallest improvement of mean Dice that counts", CliArity.Single, "0"),
        new("synthetic_subjects", "synthetic dataset: number of subjects", CliArity.Single, "10"),
        new("synthetic_size", "synthetic dataset: subject size D H W (or one value)", CliArity.Multi, "64 64 64"),
        new("cache_dir", "folder for a disk cache of preprocessed subjects"),
        new("workers", "background threads building batches (0 = processors - 1)", CliArity.Single, "0"),
        new("cuda", "train on the GPU (same as --device cuda)", CliArity.Flag),
        new("device", "auto, cpu, cuda, cuda:N (CUDA missing: falls back to CPU with a notice)", CliArity.Single, "auto"),
        new("threads", "torch threads (0 = torch's choice)", CliArity.Single, "0"),
        new("plan", "dataset plan: 'auto' (fingerprint and plan the dataset at start: spacing, orientation, intensity, patch, batch) or a plan JSON from 'medzoo dataset plan'"),
        new("resume", "continue from a checkpoint file, or 'last' for --output's last checkpoint"),
        new("log_dir", "TensorBoard folder", CliArity.Single, "OUTPUT/runs"),
        new("output", "folder for checkpoints and summary.json", CliArity.Single, "runs/RUN_ID"),
        new("run_id", "run name", CliArity.Single, "MODEL_DATASET_DATE"),
        new("data_dir", "dashboard data folder the run is recorded in (default: the dashboard's: MedZoo:DataDirectory, $MEDZOO_DATA, ~/.local/share/medzoo)"),
        new("record", "record the run in the dashboard's data folder, where a running dashboard shows it live (True/False)", CliArity.Flag, "True"),
        new("terminal_show_freq", "when output is redirected: print a progress line every N steps", CliArity.Single, "50"),
        new("loadData", "accepted for MedicalZoo scripts; MedZoo always loads and caches the subjects", CliArity.Flag),
    ];

    public int Run(CliArguments args, CliContext context)
    {
        var options = BuildOptions(args);
        var runId = args.String("run_id") ?? $"{options.Model}_{options.Dataset.Name}_{DateTime.Now.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}";
        var output = Path.GetFullPath(args.String("output") ?? Path.Combine("runs", runId));
        options.LogDirectory = args.String("log_dir") ?? Path.Combine(output, "runs");
        if (options.Resume == "last" && !File.Exists(Path.Combine(output, "last.ckpt")))
            throw new CliUsageException($"--resume last: {Path.Combine(output, "last.ckpt")} does not exist (give --output of the run to resume)");
        if (options.Resume is { } r && r != "last" && !File.Exists(r))
            throw new CliUsageException($"--resume: checkpoint '{r}' does not exist");

        var interactive = !Console.IsErrorRedirected && ReferenceEquals(context.Error, Console.Error);
        var progress = new ConsoleProgressObserver(context.Error, interactive, args.Int("terminal_show_freq", 50), options.ValidationInterval);
        context.Out.WriteLine($"run {runId}: checkpoints and summary in {output}");
        using var journal = args.Has("record") && !args.Flag("record") ? null : OpenJournal(args, options, runId, output);
        if (journal is not null) context.Out.WriteLine($"recorded for the dashboard in {Path.GetDirectoryName(journal.Path)}");
        ITrainingObserver[] observers = journal is null ? [progress] : [progress, journal];
        var result = HeadlessTraining.Run(options, output, runId, observers, context.Cancellation);
        context.Out.WriteLine($"summary: {Path.Combine(output, HeadlessTraining.SummaryFileName)}");
        return result.Outcome switch
        {
            RunOutcome.Completed or RunOutcome.EarlyStopped => 0,
            RunOutcome.Stopped => 130,
            _ => 1,
        };
    }

    /// <summary>
    /// The journal through which the dashboard records this run (it must not open the dashboard's
    /// database itself): in the data folder the server uses, or --data_dir. A resumed run with the
    /// same --run_id continues the same dashboard run.
    /// </summary>
    private static RunJournalWriter OpenJournal(CliArguments args, TrainerOptions options, string runId, string output)
    {
        var data = DataOptions.Resolve(args.String("data_dir"));
        var header = new RunJournalHeader
        {
            RunId = runId, Name = runId, CreatedBy = Environment.UserName, CreatedAt = DateTime.UtcNow,
            ConfigJson = RunConfigJson.Serialize(options), Model = options.Model, Dataset = options.Dataset.Name, Epochs = options.Epochs,
            Device = options.Device, ProcessId = Environment.ProcessId, Host = Environment.MachineName, OutputDirectory = output,
        };
        try
        {
            return new RunJournalWriter(data.JournalDirectory, header);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"cannot record the run in {data.JournalDirectory} ({e.Message}): give --data_dir a writable folder or --record False");
        }
    }

    /// <summary>Maps the command line to <see cref="TrainerOptions"/>; bad values are usage errors naming the option.</summary>
    internal static TrainerOptions BuildOptions(CliArguments a)
    {
        var o = new TrainerOptions();
        o.Model = a.String("model", o.Model)!;
        o.Dataset.Name = a.String("dataset_name", o.Dataset.Name)!;
        o.Dataset.Path = a.String("dataset_path", o.Dataset.Path);
        o.Sampling.PatchSize = Size(a, "dim", o.Sampling.PatchSize);
        o.Sampling.BatchSize = a.Int("batchSz", o.Sampling.BatchSize);
        o.Epochs = a.Int("nEpochs", o.Epochs);
        o.Dataset.Classes = a.Int("classes", o.Dataset.Classes);
        o.Sampling.SamplesTrain = a.Int("samples_train", o.Sampling.SamplesTrain);
        o.Sampling.SamplesVal = a.Int("samples_val", o.Sampling.SamplesVal);
        o.InChannels = a.Int("inChannels", o.InChannels);
        o.InModalities = a.Int("inModalities", o.InModalities);
        if (a.Has("modalities")) o.Dataset.Modalities = a.All("modalities").ToArray();
        o.Sampling.Threshold = a.Double("threshold", o.Sampling.Threshold);
        o.Sampling.Sampler = a.String("sampler", o.Sampling.Sampler)!;
        if (a.Has("augmentation")) o.Augmentation.Enabled = a.Flag("augmentation");
        o.Dataset.Normalization = a.String("normalization", o.Dataset.Normalization)!;
        o.Dataset.Split = a.Double("split", o.Dataset.Split);
        o.LearningRate = a.Double("lr", o.LearningRate);
        o.Optimizer = a.String("opt") is { } opt ? ParseOptimizer(opt) : o.Optimizer;
        o.Momentum = a.Double("momentum", o.Momentum);
        o.WeightDecay = a.Double("weight_decay", o.WeightDecay);
        o.Scheduler.Kind = a.String("scheduler") is { } s ? ParseScheduler(s) : o.Scheduler.Kind;
        o.Scheduler.StepSize = a.Int("step_size", o.Scheduler.StepSize);
        o.Scheduler.Gamma = a.Double("gamma", o.Scheduler.Gamma);
        o.Scheduler.MinLearningRate = a.Double("min_lr", o.Scheduler.MinLearningRate);
        o.Scheduler.PlateauPatience = a.Int("plateau_patience", o.Scheduler.PlateauPatience);
        o.Loss = a.String("loss", o.Loss)!;
        if (a.Has("base_filters")) o.BaseFilters = a.Int("base_filters", 0);
        if (a.Has("depth")) o.ModelDepth = a.Int("depth", 0);
        o.Seed = a.Int("seed", (int)o.Seed);
        o.Dataset.Seed = (int)o.Seed;
        o.ValidationInterval = a.Int("validation_interval", o.ValidationInterval);
        o.ValidationOverlap = a.Double("overlap", o.ValidationOverlap);
        o.EarlyStoppingPatience = a.Int("patience", o.EarlyStoppingPatience);
        o.EarlyStoppingMinDelta = a.Double("min_delta", o.EarlyStoppingMinDelta);
        o.Dataset.SyntheticSubjects = a.Int("synthetic_subjects", o.Dataset.SyntheticSubjects);
        o.Dataset.SyntheticSize = Size(a, "synthetic_size", o.Dataset.SyntheticSize);
        o.Dataset.CacheDirectory = a.String("cache_dir", o.Dataset.CacheDirectory);
        o.Sampling.Workers = a.Int("workers", o.Sampling.Workers);
        o.Device = a.Flag("cuda") ? "cuda" : a.String("device", o.Device)!;
        o.Threads = a.Int("threads", o.Threads);
        o.Resume = a.String("resume");
        o.PlanSource = a.String("plan");
        if (o.PlanSource is { } plan && !plan.Equals("auto", StringComparison.OrdinalIgnoreCase) && !File.Exists(plan))
            throw new CliUsageException($"--plan: '{plan}' is neither 'auto' nor an existing plan file (write one with 'medzoo dataset plan')");
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(TrainerOptions.PlainMessage(e));
        }
        return o;
    }

    private static int[] Size(CliArguments a, string name, int[] fallback)
    {
        var v = a.Ints(name, fallback);
        return v.Length switch
        {
            1 => [v[0], v[0], v[0]],
            3 => v,
            _ => throw new CliUsageException($"option --{name} takes 1 or 3 values (D H W), got {v.Length}"),
        };
    }

    private static OptimizerKind ParseOptimizer(string s) => s.Trim().ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adam" => OptimizerKind.Adam,
        "adamw" => OptimizerKind.AdamW,
        "rmsprop" => OptimizerKind.RmsProp,
        _ => throw new CliUsageException($"option --opt: '{s}' is not an optimizer: use sgd, adam, adamw or rmsprop"),
    };

    private static SchedulerKind ParseScheduler(string s) => s.Trim().ToLowerInvariant() switch
    {
        "none" => SchedulerKind.None,
        "step" => SchedulerKind.Step,
        "cosine" => SchedulerKind.Cosine,
        "poly" or "polynomial" => SchedulerKind.Polynomial,
        "plateau" or "reduce_on_plateau" => SchedulerKind.ReduceOnPlateau,
        _ => throw new CliUsageException($"option --scheduler: '{s}' is not a schedule: use none, step, cosine, poly or plateau"),
    };
}
