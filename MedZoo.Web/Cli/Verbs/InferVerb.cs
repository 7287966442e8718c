using System.CommandLine;
using System.Globalization;
using MedZoo.Engine.Inference;
using MedZoo.Engine.IO;
using MedZoo.Engine.Training;
using MedZoo.Web.Cli.Progress;

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

    public bool NeedsTorch => true;

    private readonly Option<string?> _checkpoint = CliOptions.Text("checkpoint", "checkpoint file written by train (best.ckpt or last.ckpt); required", valueName: "FILE");
    private readonly Option<string[]?> _input = CliOptions.Texts("input", "input volume, one per modality in the checkpoint's order (repeat the option or list several); required");
    private readonly Option<string?> _output = CliOptions.Text("output", "label volume to write (.nii.gz, .nii, .mha, .mhd, .hdr); required", valueName: "FILE");
    private readonly Option<double> _overlap = CliOptions.Number("overlap", "sliding-window overlap in [0, 1)", 0.5);
    private readonly Option<string> _blend = CliOptions.Choice("blend", "blending of overlapping windows", "gaussian", ["gaussian", "constant"]);
    private readonly Option<int[]?> _window = CliOptions.Size("window", "window size D H W, or one value for a cube (default: the checkpoint's patch size)", null);
    private readonly Option<int> _batch = CliOptions.Int("batch", "windows per forward pass", 1);
    private readonly Option<bool> _tta = CliOptions.Flag("tta", "mirroring test-time augmentation along all three axes: 8 passes per window, class probabilities averaged (about 8x the time)");
    private readonly Option<bool> _probabilities = CliOptions.Flag("probabilities", "also write the class probabilities to OUTPUT_probabilities.<ext> (4D float)");
    private readonly Option<bool> _largestComponent = CliOptions.Flag("largest-component", "keep the largest connected component of each class", false, "largest_component");
    private readonly Option<int> _connectivity = CliOptions.Int("connectivity", "largest component neighbourhood: 6, 18 or 26", 26);
    private readonly Option<string?> _device = CliOptions.Text("device", "auto, cpu, cuda or cuda:N", "auto");

    public IEnumerable<Symbol> Symbols =>
        [_checkpoint, _input, _output, _overlap, _blend, _window, _batch, _tta, _probabilities, _largestComponent, _connectivity, _device];

    public int Run(ParseResult args, CliContext context)
    {
        var checkpoint = args.GetValue(_checkpoint) ?? throw new CliUsageException("option --checkpoint is required");
        var inputs = args.GetValue(_input) ?? [];
        if (inputs.Length == 0) throw new CliUsageException("option --input is required (one file per modality)");
        var output = args.GetValue(_output) ?? throw new CliUsageException("option --output is required");
        if (!VolumeIO.IsVolumePath(output))
            throw new CliUsageException($"--output '{output}' must end in one of {string.Join(", ", VolumeIO.Extensions)}");
        if (!File.Exists(checkpoint)) throw new CliUsageException($"--checkpoint '{checkpoint}' does not exist");
        foreach (var i in inputs)
            if (!File.Exists(i)) throw new CliUsageException($"--input '{i}' does not exist");
        var options = new PredictionOptions
        {
            Overlap = args.GetValue(_overlap),
            Blend = args.GetValue(_blend) == "constant" ? BlendMode.Constant : BlendMode.Gaussian,
            WindowsPerBatch = args.GetValue(_batch),
            FlipAxes = args.GetValue(_tta) ? PredictionOptions.AllAxes : [],
            Probabilities = args.GetValue(_probabilities),
            LargestComponent = args.GetValue(_largestComponent),
            Connectivity = args.GetValue(_connectivity) switch
            {
                6 => Connectivity.Faces6,
                18 => Connectivity.Edges18,
                26 => Connectivity.Corners26,
                var c => throw new CliUsageException($"option --connectivity: {c} must be 6, 18 or 26"),
            },
        };
        if (args.Given(_window)) options.WindowSize = args.GetValue(_window)!;
        try { options.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(TrainerOptions.PlainMessage(e)); }

        using var predictor = SegmentationPredictor.Load(checkpoint, args.GetValue(_device) ?? "auto");
        var h = predictor.Header;
        if (predictor.DeviceInfo.Notice is { } notice) context.Error.WriteLine($"notice: {notice}");
        context.Error.WriteLine($"{h.Model.Name} trained on {h.Dataset} (epoch {h.Epoch}); modalities {string.Join(", ", h.Modalities)}; classes {string.Join(", ", h.ClassNames)}");
        if (h.Plan is { } plan)
            context.Error.WriteLine($"applying the checkpoint's plan: {plan.Choices()[0].Value} orientation, {plan.Choices()[1].Value}; probabilities resampled back to each input's grid");
        var volumes = inputs.Select(VolumeIO.Read).ToList();
        PredictionResult result;
        try
        {
            result = CliProgress.Run(context, "predicting", display => predictor.Predict(volumes, options,
                p => display.Update(p.WindowsDone, p.WindowsTotal, "predicting", $"{p.WindowsDone}/{p.WindowsTotal} windows"),
                context.Cancellation));
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(TrainerOptions.PlainMessage(e));
        }
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
