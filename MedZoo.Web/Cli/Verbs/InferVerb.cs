using System.Globalization;
using MedZoo.Engine.Inference;
using MedZoo.Engine.IO;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo infer</c>: predicts a label volume with a checkpoint. One <c>--input</c> per modality in
/// the checkpoint's order (or one multi-channel file); the output keeps the first input's geometry
/// exactly. Normalization, classes and window size come from the checkpoint.
/// </summary>
public sealed class InferVerb : ICliVerb
{
    public string Name => "infer";

    public string Summary => "segment a volume with a trained checkpoint";

    public string Positionals => "";

    public bool NeedsTorch => true;

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("checkpoint", "checkpoint file written by train (best.ckpt or last.ckpt)"),
        new("input", "input volume, one per modality in the checkpoint's order (repeat the option or list several)", CliArity.Multi),
        new("output", "label volume to write (.nii.gz, .nii, .mha, .mhd, .hdr)"),
        new("overlap", "sliding-window overlap in [0, 1)", CliArity.Single, "0.5"),
        new("blend", "blending of overlapping windows: gaussian or constant", CliArity.Single, "gaussian"),
        new("window", "window size D H W (or one value)", CliArity.Multi, "the checkpoint's patch size"),
        new("batch", "windows per forward pass", CliArity.Single, "1"),
        new("tta", "mirroring test-time augmentation along all three axes: 8 passes per window, class probabilities averaged (about 8x the time)", CliArity.Flag),
        new("probabilities", "also write the class probabilities to OUTPUT_probabilities.<ext> (4D float)", CliArity.Flag),
        new("largest-component", "keep the largest connected component of each class", CliArity.Flag, null, "largest_component"),
        new("connectivity", "largest component neighbourhood: 6, 18 or 26", CliArity.Single, "26"),
        new("device", "auto, cpu, cuda, cuda:N", CliArity.Single, "auto"),
    ];

    public int Run(CliArguments args, CliContext context)
    {
        var checkpoint = args.Required("checkpoint");
        var inputs = args.All("input");
        if (inputs.Count == 0) throw new CliUsageException("option --input is required (one file per modality)");
        var output = args.Required("output");
        if (!VolumeIO.IsVolumePath(output))
            throw new CliUsageException($"--output '{output}' must end in one of {string.Join(", ", VolumeIO.Extensions)}");
        if (!File.Exists(checkpoint)) throw new CliUsageException($"--checkpoint '{checkpoint}' does not exist");
        foreach (var i in inputs)
            if (!File.Exists(i)) throw new CliUsageException($"--input '{i}' does not exist");
        var options = new PredictionOptions
        {
            Overlap = args.Double("overlap", 0.5),
            Blend = args.String("blend", "gaussian")!.Trim().ToLowerInvariant() switch
            {
                "gaussian" => BlendMode.Gaussian,
                "constant" => BlendMode.Constant,
                var b => throw new CliUsageException($"option --blend: '{b}' is not a blend mode: use gaussian or constant"),
            },
            WindowsPerBatch = args.Int("batch", 1),
            FlipAxes = args.Flag("tta") ? PredictionOptions.AllAxes : [],
            Probabilities = args.Flag("probabilities"),
            LargestComponent = args.Flag("largest-component"),
            Connectivity = args.Int("connectivity", 26) switch
            {
                6 => Connectivity.Faces6,
                18 => Connectivity.Edges18,
                26 => Connectivity.Corners26,
                var c => throw new CliUsageException($"option --connectivity: {c} must be 6, 18 or 26"),
            },
        };
        if (args.Has("window"))
        {
            var w = args.Ints("window", []);
            options.WindowSize = w.Length switch
            {
                1 => [w[0], w[0], w[0]],
                3 => w,
                _ => throw new CliUsageException($"option --window takes 1 or 3 values (D H W), got {w.Length}"),
            };
        }
        try { options.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(TrainerOptions.PlainMessage(e)); }

        using var predictor = SegmentationPredictor.Load(checkpoint, args.String("device", "auto"));
        var h = predictor.Header;
        if (predictor.DeviceInfo.Notice is { } notice) context.Error.WriteLine($"notice: {notice}");
        context.Error.WriteLine($"{h.Model.Name} trained on {h.Dataset} (epoch {h.Epoch}); modalities {string.Join(", ", h.Modalities)}; classes {string.Join(", ", h.ClassNames)}");
        var volumes = inputs.Select(VolumeIO.Read).ToList();
        var interactive = !Console.IsErrorRedirected && ReferenceEquals(context.Error, Console.Error);
        var lastPercent = -1;
        PredictionResult result;
        try
        {
            result = predictor.Predict(volumes, options, p =>
            {
                var percent = (int)(100L * p.WindowsDone / Math.Max(1, p.WindowsTotal));
                if (interactive) context.Error.Write($"\rpredicting: {p.WindowsDone}/{p.WindowsTotal} windows ({percent}%)   ");
                else if (percent / 10 != lastPercent / 10) context.Error.WriteLine($"predicting: {percent}%");
                lastPercent = percent;
            }, context.Cancellation);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(TrainerOptions.PlainMessage(e));
        }
        if (interactive) context.Error.WriteLine();
        var folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (folder is not null) Directory.CreateDirectory(folder);
        VolumeIO.Write(result.Labels, output);
        context.Out.WriteLine($"wrote {output}");
        if (result.Probabilities is { } probabilities)
        {
            var path = ProbabilitiesPath(output);
            VolumeIO.Write(probabilities, path);
            context.Out.WriteLine($"wrote {path}");
        }
        var total = Math.Max(1, result.ClassVoxels.Sum());
        for (var c = 0; c < result.ClassVoxels.Length; c++)
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {(c < h.ClassNames.Count ? h.ClassNames[c] : c.ToString(CultureInfo.InvariantCulture)),-14} {result.ClassVoxels[c],10} voxels ({100.0 * result.ClassVoxels[c] / total:0.0}%)"));
        if (options.LargestComponent)
            context.Out.WriteLine($"  largest-component filter removed {result.RemovedByPostprocessing} voxels");
        return 0;
    }

    /// <summary>"seg.nii.gz" → "seg_probabilities.nii.gz" (keeps double extensions).</summary>
    internal static string ProbabilitiesPath(string output)
    {
        var ext = VolumeIO.Extensions.Where(e => output.EndsWith(e, StringComparison.OrdinalIgnoreCase)).MaxBy(e => e.Length) ?? Path.GetExtension(output);
        return output[..^ext.Length] + "_probabilities" + ext;
    }
}
