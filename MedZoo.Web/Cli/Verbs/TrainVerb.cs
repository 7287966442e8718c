using System.CommandLine;
using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Web.Cli.Options;
using MedZoo.Web.Cli.Progress;
using MedZoo.Web.Cli.Training;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo train</c>: trains a model headlessly. Its options are generated from
/// <see cref="TrainerOptions"/> and the options classes it composes (see <see cref="OptionsCommandLine{T}"/>):
/// every public settable property is an option whose default is the class's and whose help is the
/// property's XML doc. <see cref="Spellings"/> keeps MedicalZooPytorch's argument names as its scripts
/// spell them (<c>--batchSz</c>, <c>--dataset_name</c>, <c>--dim</c>, <c>--nEpochs</c>, ...); the
/// others are the property path in snake case (<c>--augmentation_flip_probability</c>). Defaults to
/// the synthetic dataset. Writes checkpoints and summary.json to <c>--output</c>, and records the run
/// in the dashboard's data folder (a journal the dashboard imports, live when it is running) unless
/// <c>--record False</c>. Exit codes: 0 completed (or early-stopped), 1 failed, 2 bad arguments, 130 stopped.
/// </summary>
public sealed class TrainVerb : ICliVerb
{
    /// <summary>
    /// MedicalZooPytorch's names (and MedZoo's earlier ones) for properties, by path. A property not
    /// listed here is still an option, named after its path.
    /// </summary>
    public static IReadOnlyDictionary<string, OptionSpelling> Spellings { get; } = new Dictionary<string, OptionSpelling>(StringComparer.Ordinal)
    {
        ["Model"] = new("model") { KnownValues = ModelZoo.Names },
        ["BaseFilters"] = new("base_filters"),
        ["ModelDepth"] = new("depth"),
        ["Dataset.Name"] = new("dataset_name") { KnownValues = DatasetCatalog.Names },
        ["Dataset.Path"] = new("dataset_path"),
        ["Dataset.Classes"] = new("classes"),
        ["Dataset.Modalities"] = new("modalities"),
        ["Dataset.Normalization"] = new("normalization"),
        ["Dataset.Split"] = new("split"),
        ["Dataset.SyntheticSubjects"] = new("synthetic_subjects"),
        ["Dataset.SyntheticSize"] = new("synthetic_size"),
        ["Dataset.CacheDirectory"] = new("cache_dir"),
        ["Sampling.PatchSize"] = new("dim"),
        ["Sampling.BatchSize"] = new("batchSz"),
        ["Sampling.SamplesTrain"] = new("samples_train"),
        ["Sampling.SamplesVal"] = new("samples_val"),
        ["Sampling.Threshold"] = new("threshold"),
        ["Sampling.Sampler"] = new("sampler"),
        ["Sampling.Workers"] = new("workers"),
        ["Augmentation.Enabled"] = new("augmentation"),
        ["InChannels"] = new("inChannels"),
        ["InModalities"] = new("inModalities"),
        ["Epochs"] = new("nEpochs"),
        ["LearningRate"] = new("lr"),
        ["Optimizer"] = new("opt") { ValueNames = ["sgd", "adam", "adamw", "rmsprop"] },
        ["Momentum"] = new("momentum"),
        ["WeightDecay"] = new("weight_decay"),
        ["Scheduler.Kind"] = new("scheduler")
        {
            ValueNames = ["none", "step", "cosine", "poly", "plateau"],
            Synonyms = new Dictionary<string, string> { ["poly"] = nameof(SchedulerKind.Polynomial), ["plateau"] = nameof(SchedulerKind.ReduceOnPlateau) },
        },
        ["Scheduler.StepSize"] = new("step_size"),
        ["Scheduler.Gamma"] = new("gamma"),
        ["Scheduler.MinLearningRate"] = new("min_lr"),
        ["Scheduler.PlateauPatience"] = new("plateau_patience"),
        ["Loss"] = new("loss") { KnownValues = LossFactory.Names },
        ["LossOptions.VaeSegmentationLoss"] = new("loss_vae_segmentation_loss") { KnownValues = [.. LossFactory.Names.Where(n => n != "vae")] },
        ["Seed"] = new("seed"),
        ["ValidationInterval"] = new("validation_interval"),
        ["ValidationOverlap"] = new("overlap"),
        ["EarlyStoppingPatience"] = new("patience"),
        ["EarlyStoppingMinDelta"] = new("min_delta"),
        ["Device"] = new("device"),
        ["Threads"] = new("threads"),
        ["Resume"] = new("resume"),
        ["PlanSource"] = new("plan"),
    };

    /// <summary>
    /// Properties this verb declares by hand, because their command-line meaning differs from the
    /// property's: the TensorBoard folder defaults to OUTPUT/runs here (the class's null means none).
    /// </summary>
    public static IReadOnlyList<string> DeclaredByVerb { get; } = [nameof(TrainerOptions.LogDirectory)];

    public string Name => "train";

    public string Summary => "train a segmentation model (MedicalZoo's arguments accepted as written)";

    public bool NeedsTorch => true;

    /// <summary>The options generated from <see cref="TrainerOptions"/>.</summary>
    internal OptionsCommandLine<TrainerOptions> Generated { get; } = new(Spellings, DeclaredByVerb);

    // The verb's own options: where the run goes and how it is shown, and MedicalZoo's switches.
    private readonly Option<string?> _output = CliOptions.Text("output", "folder for checkpoints and summary.json (default: runs/RUN_ID)", valueName: "FOLDER");
    private readonly Option<string?> _runId = CliOptions.Text("run_id", "run name (default: MODEL_DATASET_DATE)");
    private readonly Option<string?> _logDir = CliOptions.Text("log_dir", "TensorBoard folder; each run writes to a sub-folder named after it (default: OUTPUT/runs)", valueName: "FOLDER");
    private readonly Option<string?> _dataDir = CliOptions.Text("data_dir", "dashboard data folder the run is recorded in (default: the dashboard's: MedZoo:DataDirectory, $MEDZOO_DATA, ~/.local/share/medzoo)", valueName: "FOLDER");
    private readonly Option<bool> _record = CliOptions.Flag("record", "record the run in the dashboard's data folder, where a running dashboard shows it live (True/False)", true);
    private readonly Option<int> _terminalShowFreq = CliOptions.Int("terminal_show_freq", "when output is redirected: print a progress line every N steps", 50);
    private readonly Option<bool> _cuda = CliOptions.Flag("cuda", "train on the GPU (same as --device cuda)");
    private readonly Option<bool> _loadData = CliOptions.Flag("loadData", "accepted for MedicalZoo scripts; MedZoo always loads and caches the subjects");

    public IEnumerable<Symbol> Symbols => [.. Generated.Options.Select(o => o.Option), _output, _runId, _logDir, _dataDir, _record, _terminalShowFreq, _cuda, _loadData];

    public int Run(ParseResult args, CliContext context)
    {
        var options = BuildOptions(args);
        var runId = args.GetValue(_runId) ?? $"{options.Model}_{options.Dataset.Name}_{DateTime.Now.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}";
        var output = Path.GetFullPath(args.GetValue(_output) ?? Path.Combine("runs", runId));
        options.LogDirectory = args.GetValue(_logDir) ?? Path.Combine(output, "runs");
        if (options.Resume == "last" && !File.Exists(Path.Combine(output, "last.ckpt")))
            throw new CliUsageException($"--resume last: {Path.Combine(output, "last.ckpt")} does not exist (give --output of the run to resume)");
        if (options.Resume is { } r && r is not ("last" or "auto") && !File.Exists(r))
            throw new CliUsageException($"--resume: checkpoint '{r}' does not exist");

        context.Out.WriteLine($"run {runId}: checkpoints and summary in {output}");
        using var journal = args.GetValue(_record) ? OpenJournal(args.GetValue(_dataDir), options, runId, output) : null;
        if (journal is not null) context.Out.WriteLine($"recorded for the dashboard in {Path.GetDirectoryName(journal.Path)}");
        var result = CliProgress.Run(context, "training", display =>
        {
            var progress = new ConsoleProgressObserver(display, args.GetValue(_terminalShowFreq), options.ValidationInterval);
            ITrainingObserver[] observers = journal is null ? [progress] : [progress, journal];
            return HeadlessTraining.Run(options, output, runId, observers, context.Cancellation);
        });
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
    private static RunJournalWriter OpenJournal(string? dataDirectory, TrainerOptions options, string runId, string output)
    {
        var data = DataOptions.Resolve(dataDirectory);
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
    internal TrainerOptions BuildOptions(ParseResult args)
    {
        var o = Generated.Bind(args);
        // MedicalZoo has one seed: --seed also seeds the split and the synthetic phantoms unless --dataset_seed is given.
        if (Generated.Find($"{nameof(TrainerOptions.Dataset)}.{nameof(Engine.Data.DatasetOptions.Seed)}") is { } datasetSeed && !OptionsCommandLine<TrainerOptions>.WasGiven(args, datasetSeed))
            o.Dataset.Seed = (int)o.Seed;
        if (args.GetValue(_cuda)) o.Device = "cuda";
        if (o.PlanSource is { } plan && !plan.Equals("auto", StringComparison.OrdinalIgnoreCase) && !File.Exists(plan))
            throw new CliUsageException($"--plan: '{plan}' is neither 'auto' nor an existing plan file (write one with 'medzoo dataset plan')");
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(Generated.OptionNameFor(e.ParamName) is { } option
                ? $"option {option}: {TrainerOptions.PlainMessage(e)}"
                : TrainerOptions.PlainMessage(e));
        }
        return o;
    }
}
