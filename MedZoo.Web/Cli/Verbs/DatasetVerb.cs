using System.Globalization;
using System.Text.Json;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;
using MedZoo.Engine.Planning;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo dataset check|list|bench|plan</c>: plan fingerprints the dataset and writes its
/// nnU-Net-style plan with the reason for every choice (<see cref="PlanningRequest"/>); check loads every subject of a dataset and reports
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

    public string Positionals => "check|list|bench|plan";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("name", "dataset name (see 'medzoo dataset list')", CliArity.Single, "synthetic", "dataset_name", "dataset"),
        new("path", "folder holding the dataset as its challenge distributes it (not needed for synthetic)"),
        new("json", "machine-readable output", CliArity.Flag),
        new("modalities", "modalities to use, in channel order (default: all)", CliArity.Multi),
        new("classes", "expected number of classes (checked against the dataset)"),
        new("normalization", "bench: intensity normalization", CliArity.Single, "zscore_nonzero"),
        new("subjects", "synthetic: number of subjects", CliArity.Single, "10"),
        new("size", "synthetic: subject size D H W", CliArity.Multi, "64 64 64"),
        new("seed", "seed of synthetic subjects and sampling", CliArity.Single, "1777777"),
        new("dim", "bench: patch size D H W", CliArity.Multi, "32 32 32"),
        new("batchSz", "bench: batch size", CliArity.Single, "2", "batch-size"),
        new("sampler", "bench: random, threshold, balanced, class_ratio or grid", CliArity.Single, "threshold"),
        new("threshold", "bench: foreground threshold of the threshold sampler", CliArity.Single, "0.1"),
        new("workers", "bench: loader threads (0 = automatic)", CliArity.Single, "0"),
        new("batches", "bench: batches to time", CliArity.Single, "32"),
        new("augmentation", "bench: apply the default augmentations", CliArity.Flag),
        new("out", "plan: where to write the plan JSON (default: medzoo.plan.json in the dataset folder)"),
        new("model", "plan: model the patch is sized for", CliArity.Single, "UNET3D"),
        new("base_filters", "plan: width of the model's first level (default: the model's)"),
        new("device", "plan: device the memory is measured on: auto, cpu, cuda, cuda:N", CliArity.Single, "auto"),
        new("memory_budget", "plan: memory training may use, MB (default: measured from the device)"),
        new("spacing", "plan override: target spacing in mm along R,A,S, e.g. 1,1,1.5"),
        new("patch", "plan override: patch D,H,W"),
        new("batch", "plan override: batch size"),
        new("depth", "plan override: network depth (UNET3D_CICEK poolings)"),
        new("orientation", "plan override: RAS (reorient, default) or native"),
        new("interpolation", "plan override: image interpolation, cubic or linear"),
        new("label_interpolation", "plan override: label interpolation, nearest or linear_onehot"),
        new("intensity", "plan override: MODALITY=ct or MODALITY=mr", CliArity.Multi),
    ];

    public bool NeedsTorch => false;

    public int Run(CliArguments args, CliContext context)
    {
        var action = args.Positionals.Count switch
        {
            0 => throw new CliUsageException("say what to do: check, list, bench or plan"),
            1 => args.Positionals[0],
            _ => throw new CliUsageException($"one action expected, got '{string.Join(" ", args.Positionals)}'"),
        };
        return action switch
        {
            "check" => Check(args, context),
            "list" => List(args, context),
            "bench" => Bench(args, context),
            "plan" => Plan(args, context),
            _ => throw new CliUsageException($"unknown action '{action}': use check, list, bench or plan"),
        };
    }

    private static DatasetOptions DatasetOptionsFrom(CliArguments args)
    {
        var options = new DatasetOptions
        {
            Name = args.String("name", "synthetic")!,
            Path = args.String("path"),
            Modalities = args.Has("modalities") ? args.All("modalities").ToArray() : null,
            Classes = args.Int("classes", 0),
            Normalization = args.String("normalization", "zscore_nonzero")!,
            SyntheticSubjects = args.Int("subjects", 10),
            SyntheticSize = args.Ints("size", [64, 64, 64]),
            Seed = args.Int("seed", 1777777),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(e.Message); }
        return options;
    }

    private static int Plan(CliArguments args, CliContext context)
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
                Model = args.String("model", "UNET3D")!,
                BaseFilters = args.Has("base_filters") ? args.Int("base_filters", 0) : null,
                Device = args.String("device", "auto")!,
                MemoryBudgetMegabytes = args.Double("memory_budget", 0),
                Overrides = new PlanOverrides
                {
                    Orientation = args.String("orientation"),
                    TargetSpacing = args.String("spacing") is { } sp ? PlanningRequest.ParseSpacing(sp) : null,
                    PatchSize = args.String("patch") is { } pa ? PlanningRequest.ParsePatch(pa) : null,
                    BatchSize = args.Has("batch") ? args.Int("batch", 0) : null,
                    ModelDepth = args.Has("depth") ? args.Int("depth", 0) : null,
                    ImageInterpolation = args.String("interpolation") is { } ii ? PlanningRequest.ParseImageInterpolation(ii) : null,
                    LabelInterpolation = args.String("label_interpolation") is { } li ? PlanningRequest.ParseLabelInterpolation(li) : null,
                    Intensity = args.Has("intensity") ? PlanningRequest.ParseIntensity(args.All("intensity")) : null,
                },
            };
            options.Validate();
        }
        catch (ArgumentException e) { throw new CliUsageException(MedZoo.Engine.Training.TrainerOptions.PlainMessage(e)); }
        var report = PlanningRequest.Run(DatasetOptionsFrom(args), options, args.String("out"), cancellation: context.Cancellation);
        if (args.Flag("json"))
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new { fingerprint = report.Fingerprint, plan = report.Plan, savedTo = report.SavedTo }, DatasetPlan.JsonOptions));
            return 0;
        }
        context.Out.WriteLine(report.Fingerprint.Describe());
        context.Out.WriteLine(report.Plan.Describe());
        context.Out.WriteLine(report.SavedTo is null ? "plan not saved (a generated dataset has no folder: give --out FILE)" : $"plan written to {report.SavedTo}");
        return 0;
    }

    private static int Check(CliArguments args, CliContext context)
    {
        var report = DatasetCheck.Run(DatasetOptionsFrom(args), cancellation: context.Cancellation);
        if (args.Flag("json")) context.Out.WriteLine(JsonSerializer.Serialize(ToJson(report), Json));
        else WriteText(report, context.Out);
        if (!report.Ok && !args.Flag("json"))
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

    private static int List(CliArguments args, CliContext context)
    {
        if (args.Flag("json"))
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

    private static int Bench(CliArguments args, CliContext context)
    {
        var sampling = new SamplingOptions
        {
            PatchSize = args.Ints("dim", [32, 32, 32]),
            BatchSize = args.Int("batchSz", 2),
            Sampler = args.String("sampler", "threshold")!,
            Threshold = args.Double("threshold", 0.1),
            Workers = args.Int("workers", 0),
        };
        try { sampling.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(e.Message); }
        var batches = args.Int("batches", 32);
        if (batches < 1) throw new CliUsageException("option --batches must be at least 1");
        var dataset = SegmentationDataset.Load(DatasetOptionsFrom(args), cancellation: context.Cancellation);
        var augmentation = args.Flag("augmentation") ? new AugmentationOptions() : AugmentationOptions.None;
        var result = PatchLoader.Benchmark(dataset.Subjects, sampling, augmentation, batches, args.Int("seed", 1777777), context.Cancellation);
        if (args.Flag("json"))
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
