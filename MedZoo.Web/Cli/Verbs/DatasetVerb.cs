using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;
using MedZoo.Engine.Planning;
using MedZoo.Web.Cli.Progress;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo dataset check|list|bench</c>: check loads every subject of a dataset and reports
/// subjects, modalities, shapes, spacing, classes and voxel counts per class, listing every
/// problem with the subject and file (exit 1 when there is any); list shows the catalog; bench
/// measures how many patches per second the loader produces.
/// </summary>
public sealed class DatasetVerb : ICliVerb
{
    // Relaxed escaping: the report is for people and tools, not for embedding in HTML, so "←" stays "←".
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Name => "dataset";

    public string Summary => "check a dataset (layout, shapes, labels), list known datasets, benchmark patch loading, or plan training (fingerprint, spacing, patch)";

    public bool NeedsTorch => false;

    /// <summary>The actions, as completed and listed in the help.</summary>
    private static readonly string[] Actions = ["check", "list", "bench", "plan"];

    // Defaults are the options classes' own.
    private static readonly DatasetOptions DatasetDefaults = new();
    private static readonly SamplingOptions SamplingDefaults = new();

    private readonly Argument<string?> _action = new("ACTION")
    {
        Description = "check: load every subject and report problems; list: the dataset catalog; bench: patches per second of the loader; plan: fingerprint the dataset and write its nnU-Net-style plan",
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = string.Join('|', Actions),
    };
    private readonly Option<string?> _name = CliOptions.Text("name", "dataset name (see 'medzoo dataset list')", DatasetDefaults.Name, null, "dataset_name", "dataset");
    private readonly Option<string?> _path = CliOptions.Text("path", "folder holding the dataset as its challenge distributes it (not needed for synthetic)", valueName: "FOLDER");
    private readonly Option<bool> _json = CliOptions.Flag("json", "machine-readable output");
    private readonly Option<string[]?> _modalities = CliOptions.Texts("modalities", "modalities to use, in channel order (default: all)");
    private readonly Option<int> _classes = CliOptions.Int("classes", "expected number of classes (0 = as the dataset defines; checked against the dataset)", DatasetDefaults.Classes);
    private readonly Option<string?> _normalization = CliOptions.Text("normalization", "bench: intensity normalization", DatasetDefaults.Normalization);
    private readonly Option<int> _subjects = CliOptions.Int("subjects", "synthetic: number of subjects", DatasetDefaults.SyntheticSubjects);
    private readonly Option<int[]?> _size = CliOptions.Size("size", "synthetic: subject size D H W", DatasetDefaults.SyntheticSize);
    private readonly Option<int> _seed = CliOptions.Int("seed", "seed of synthetic subjects and sampling", DatasetDefaults.Seed);
    private readonly Option<int[]?> _dim = CliOptions.Size("dim", "bench: patch size D H W", SamplingDefaults.PatchSize);
    private readonly Option<int> _batchSz = CliOptions.Int("batchSz", "bench: batch size", SamplingDefaults.BatchSize, "batch-size");
    private readonly Option<string> _sampler = CliOptions.Choice("sampler", "bench: patch sampler", SamplingDefaults.Sampler, SamplingOptions.SamplerNames);
    private readonly Option<double> _threshold = CliOptions.Number("threshold", "bench: foreground threshold of the threshold sampler", SamplingDefaults.Threshold);
    private readonly Option<int> _workers = CliOptions.Int("workers", "bench: loader threads (0 = automatic)", SamplingDefaults.Workers);
    private readonly Option<int> _batches = CliOptions.Int("batches", "bench: batches to time", 32);
    private readonly Option<bool> _augmentation = CliOptions.Flag("augmentation", "bench: apply the default augmentations");
    private readonly Option<string?> _out = CliOptions.Text("out", "plan: where to write the plan JSON (default: medzoo.plan.json in the dataset folder)", valueName: "FILE");
    private readonly Option<string?> _model = CliOptions.Text("model", "plan: model the patch is sized for", "UNET3D");
    private readonly Option<int?> _baseFilters = CliOptions.OptionalInt("base_filters", "plan: width of the model's first level (default: the model's)");
    private readonly Option<string?> _device = CliOptions.Text("device", "plan: device the memory is measured on: auto, cpu, cuda, cuda:N", "auto");
    private readonly Option<double> _memoryBudget = CliOptions.Number("memory_budget", "plan: memory training may use, MB (0 = measured from the device)", 0);
    private readonly Option<string?> _spacing = CliOptions.Text("spacing", "plan override: target spacing in mm along R,A,S, e.g. 1,1,1.5");
    private readonly Option<string?> _patch = CliOptions.Text("patch", "plan override: patch D,H,W");
    private readonly Option<int?> _batch = CliOptions.OptionalInt("batch", "plan override: batch size");
    private readonly Option<int?> _depth = CliOptions.OptionalInt("depth", "plan override: network depth (UNET3D_CICEK poolings)");
    private readonly Option<string?> _orientation = CliOptions.Text("orientation", "plan override: RAS (reorient, default) or native");
    private readonly Option<string?> _interpolation = CliOptions.Text("interpolation", "plan override: image interpolation, cubic or linear");
    private readonly Option<string?> _labelInterpolation = CliOptions.Text("label_interpolation", "plan override: label interpolation, nearest or linear_onehot");
    private readonly Option<string[]?> _intensity = CliOptions.Texts("intensity", "plan override: MODALITY=ct or MODALITY=mr");

    public DatasetVerb() => _action.CompletionSources.Add(Actions);

    public IEnumerable<Symbol> Symbols =>
    [
        _action, _name, _path, _json, _modalities, _classes, _normalization, _subjects, _size, _seed, _dim, _batchSz, _sampler, _threshold,
        _workers, _batches, _augmentation, _out, _model, _baseFilters, _device, _memoryBudget, _spacing, _patch, _batch, _depth, _orientation,
        _interpolation, _labelInterpolation, _intensity,
    ];

    public int Run(ParseResult args, CliContext context)
    {
        var action = args.GetValue(_action) ?? throw new CliUsageException("say what to do: check, list, bench or plan");
        return action switch
        {
            "check" => Check(args, context),
            "list" => List(args, context),
            "bench" => Bench(args, context),
            "plan" => Plan(args, context),
            _ => throw new CliUsageException($"unknown action '{action}': use check, list, bench or plan"),
        };
    }

    private DatasetOptions DatasetOptionsFrom(ParseResult args)
    {
        var options = new DatasetOptions
        {
            Name = args.GetValue(_name) ?? DatasetDefaults.Name,
            Path = args.GetValue(_path),
            Modalities = args.Given(_modalities) ? args.GetValue(_modalities) : null,
            Classes = args.GetValue(_classes),
            Normalization = args.GetValue(_normalization) ?? DatasetDefaults.Normalization,
            SyntheticSubjects = args.GetValue(_subjects),
            SyntheticSize = args.GetValue(_size) ?? DatasetDefaults.SyntheticSize,
            Seed = args.GetValue(_seed),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(e.Message); }
        return options;
    }

    private int Plan(ParseResult args, CliContext context)
    {
        if (MedZoo.Engine.Devices.TorchRuntime.TryLoad() is { } why)
        {
            context.Error.WriteLine(why);
            return 3;
        }
        PlanOptions options;
        try
        {
            options = new PlanOptions
            {
                Model = args.GetValue(_model) ?? "UNET3D",
                BaseFilters = args.GetValue(_baseFilters),
                Device = args.GetValue(_device) ?? "auto",
                MemoryBudgetMegabytes = args.GetValue(_memoryBudget),
                Overrides = new PlanOverrides
                {
                    Orientation = args.GetValue(_orientation),
                    TargetSpacing = args.GetValue(_spacing) is { } sp ? PlanningRequest.ParseSpacing(sp) : null,
                    PatchSize = args.GetValue(_patch) is { } pa ? PlanningRequest.ParsePatch(pa) : null,
                    BatchSize = args.GetValue(_batch),
                    ModelDepth = args.GetValue(_depth),
                    ImageInterpolation = args.GetValue(_interpolation) is { } ii ? PlanningRequest.ParseImageInterpolation(ii) : null,
                    LabelInterpolation = args.GetValue(_labelInterpolation) is { } li ? PlanningRequest.ParseLabelInterpolation(li) : null,
                    Intensity = args.Given(_intensity) ? PlanningRequest.ParseIntensity(args.GetValue(_intensity) ?? []) : null,
                },
            };
            options.Validate();
        }
        catch (ArgumentException e) { throw new CliUsageException(MedZoo.Engine.Training.TrainerOptions.PlainMessage(e)); }
        var report = PlanningRequest.Run(DatasetOptionsFrom(args), options, args.GetValue(_out), cancellation: context.Cancellation);
        if (args.GetValue(_json))
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new { fingerprint = report.Fingerprint, plan = report.Plan, savedTo = report.SavedTo }, DatasetPlan.JsonOptions));
            return 0;
        }
        context.Out.WriteLine(report.Fingerprint.Describe());
        context.Out.WriteLine(report.Plan.Describe());
        context.Out.WriteLine(report.SavedTo is null ? "plan not saved (a generated dataset has no folder: give --out FILE)" : $"plan written to {report.SavedTo}");
        return 0;
    }

    private int Check(ParseResult args, CliContext context)
    {
        var options = DatasetOptionsFrom(args);
        var report = CliProgress.Run(context, "checking subjects", display =>
        {
            // Subjects are checked in parallel: one report at a time.
            var gate = new Lock();
            return DatasetCheck.Run(options, cancellation: context.Cancellation, progress: (done, total) =>
            {
                lock (gate) display.Update(done, total, "checking subjects", $"{done}/{total}");
            });
        });
        var json = args.GetValue(_json);
        if (json) context.Out.WriteLine(JsonSerializer.Serialize(ToJson(report), Json));
        else WriteText(report, context.Out);
        if (!report.Ok && !json)
            context.Error.WriteLine($"medzoo dataset check: {report.Errors.Count} problem(s) found");
        return report.Ok ? 0 : 1;
    }

    private static object ToJson(DatasetCheckReport r) => new
    {
        dataset = r.Dataset,
        root = r.Root,
        subjects = r.SubjectCount,
        loaded = r.Subjects.Count,
        modalities = r.Modalities,
        classes = r.Classes,
        mapping = r.Mapping,
        labelCounts = r.LabelCounts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
        subjectDetails = r.Subjects.Select(s => new
        {
            id = s.Id,
            group = s.Group,
            shape = s.Shape,
            spacing = s.Spacing,
            orientation = s.Orientation,
            files = s.Files,
            labelCounts = s.LabelCounts?.Select((n, c) => (n, c)).ToDictionary(t => t.c.ToString(CultureInfo.InvariantCulture), t => t.n),
        }),
        errors = r.Errors,
        warnings = r.Warnings,
    };

    private static void WriteText(DatasetCheckReport r, TextWriter w)
    {
        w.WriteLine($"dataset {r.Dataset}{(r.Root is null ? "" : $" at {r.Root}")}: {r.SubjectCount} subject(s), {r.Subjects.Count} loaded");
        if (r.Modalities.Count > 0) w.WriteLine($"modalities: {string.Join(", ", r.Modalities)}");
        if (r.Classes.Count > 0) w.WriteLine($"classes:    {r.Mapping}");
        if (r.Subjects.Count > 0)
        {
            var idWidth = Math.Max(8, r.Subjects.Max(s => s.Id.Length + (s.Group is null ? 0 : s.Group.Length + 1)));
            w.WriteLine($"{"subject".PadRight(idWidth)}  {"shape x×y×z",-15} {"spacing mm",-18} {"orient",-6}  voxels per class");
            foreach (var s in r.Subjects)
            {
                var id = s.Group is null ? s.Id : $"{s.Group}/{s.Id}";
                var spacing = string.Join("×", s.Spacing.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)));
                var counts = s.LabelCounts is null ? "(unlabeled)" : string.Join("  ", s.LabelCounts.Select((n, c) => $"{c}:{n}"));
                w.WriteLine($"{id.PadRight(idWidth)}  {string.Join("×", s.Shape),-15} {spacing,-18} {s.Orientation,-6}  {counts}");
            }
            w.WriteLine("voxels per class over all subjects:");
            foreach (var (c, n) in r.LabelCounts) w.WriteLine($"  {c} {r.Classes[c]}: {n}");
        }
        foreach (var warning in r.Warnings) w.WriteLine($"warning: {warning}");
        if (r.Errors.Count == 0) w.WriteLine("no problems found");
        else
        {
            w.WriteLine($"{r.Errors.Count} problem(s):");
            foreach (var e in r.Errors) w.WriteLine($"  - {e}");
        }
    }

    private int List(ParseResult args, CliContext context)
    {
        if (args.GetValue(_json))
        {
            context.Out.WriteLine(JsonSerializer.Serialize(DatasetCatalog.All.Select(d => new { name = d.Name, aliases = d.Aliases, needsPath = d.RequiresPath, description = d.Description }), Json));
            return 0;
        }
        var width = DatasetCatalog.All.Max(d => d.Name.Length) + 2;
        foreach (var d in DatasetCatalog.All)
        {
            var aliases = d.Aliases.Count == 0 ? "" : $" (also: {string.Join(", ", d.Aliases)})";
            context.Out.WriteLine($"{d.Name.PadRight(width)}{d.Description}{aliases}");
        }
        return 0;
    }

    private int Bench(ParseResult args, CliContext context)
    {
        var sampling = new SamplingOptions
        {
            PatchSize = args.GetValue(_dim) ?? SamplingDefaults.PatchSize,
            BatchSize = args.GetValue(_batchSz),
            Sampler = args.GetValue(_sampler) ?? SamplingDefaults.Sampler,
            Threshold = args.GetValue(_threshold),
            Workers = args.GetValue(_workers),
        };
        try { sampling.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(e.Message); }
        var batches = args.GetValue(_batches);
        if (batches < 1) throw new CliUsageException("option --batches must be at least 1");
        var dataset = SegmentationDataset.Load(DatasetOptionsFrom(args), cancellation: context.Cancellation);
        var augmentation = args.GetValue(_augmentation) ? new AugmentationOptions() : AugmentationOptions.None;
        var result = PatchLoader.Benchmark(dataset.Subjects, sampling, augmentation, batches, args.GetValue(_seed), context.Cancellation);
        if (args.GetValue(_json))
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                dataset = dataset.Name,
                patches = result.Patches,
                seconds = result.Elapsed.TotalSeconds,
                patchesPerSecond = result.PatchesPerSecond,
                patchSize = result.PatchSize.ToArray(),
                channels = result.Channels,
                batchSize = sampling.BatchSize,
                workers = result.Workers,
                augmented = result.Augmented,
                loadSeconds = dataset.LoadTime.TotalSeconds,
            }, Json));
            return 0;
        }
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{dataset.Name}: {dataset.Subjects.Count} subject(s) loaded in {dataset.LoadTime.TotalSeconds:F2} s"));
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.PatchesPerSecond:F1} patches/s ({result.Patches} patches of {result.PatchSize} × {result.Channels} modalities in {result.Elapsed.TotalSeconds:F2} s; " +
            $"{sampling.Sampler} sampler, batch {sampling.BatchSize}, {result.Workers} worker(s), augmentation {(result.Augmented ? "on" : "off")})"));
        return 0;
    }
}
