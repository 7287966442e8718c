using MedZoo.Engine.Interop;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo import --checkpoint FILE.pth --model NAME --inChannels N --classes K --output FILE.ckpt</c>:
/// turns a MedicalZooPytorch checkpoint (its <c>save_checkpoint</c> file, or a bare state dict) into a
/// MedZoo checkpoint that <c>infer</c> predicts with and <c>train --resume</c> continues. A PyTorch
/// file holds only weights, so the network and its input preparation are given with MedicalZoo's
/// argument names. The work is <see cref="ModelInterop.Import"/>.
/// </summary>
public sealed class ImportVerb : ICliVerb
{
    public string Name => "import";

    public string Summary => "turn a MedicalZooPytorch checkpoint (.pth) into a MedZoo checkpoint for infer and train --resume";

    public string Positionals => "";

    public bool NeedsTorch => true;

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("checkpoint", "MedicalZooPytorch checkpoint (save_checkpoint's .pth, or torch.save(model.state_dict()))"),
        new("model", $"network it holds: {string.Join(", ", PyTorchStateDict.SupportedModels)}"),
        new("inChannels", "input channels the network was built with"),
        new("classes", "classes including background"),
        new("dim", "training patch size D H W (or one value): the default inference window", CliArity.Multi, "64 64 64"),
        new("normalization", "intensity normalization it was trained with", CliArity.Single, "full_volume_mean"),
        new("opt", "optimizer for train --resume: sgd, adam, adamw, rmsprop (its state starts fresh)", CliArity.Single, "adam"),
        new("class_names", "class names, background first", CliArity.Multi, "background, class 1, ..."),
        new("modalities", "modality names in channel order", CliArity.Multi, "channel 1, ..."),
        new("output", "MedZoo checkpoint to write"),
    ];

    public int Run(CliArguments args, CliContext context)
    {
        var source = args.Required("checkpoint");
        var output = args.Required("output");
        if (!File.Exists(source)) throw new CliUsageException($"--checkpoint '{source}' does not exist");
        var dim = args.Ints("dim", [64, 64, 64]);
        var opt = args.String("opt", "adam")!.Trim().ToLowerInvariant();
        var options = new ImportOptions
        {
            Model = args.Required("model"),
            InChannels = args.Int("inChannels", 0),
            Classes = args.Int("classes", 0),
            PatchSize = dim.Length switch
            {
                1 => [dim[0], dim[0], dim[0]],
                3 => dim,
                _ => throw new CliUsageException($"option --dim takes 1 or 3 values (D H W), got {dim.Length}"),
            },
            Normalization = args.String("normalization", "full_volume_mean")!,
            Optimizer = opt switch
            {
                "sgd" => OptimizerKind.Sgd,
                "adam" => OptimizerKind.Adam,
                "adamw" => OptimizerKind.AdamW,
                "rmsprop" => OptimizerKind.RmsProp,
                _ => throw new CliUsageException($"option --opt: '{opt}' is not an optimizer: use sgd, adam, adamw or rmsprop"),
            },
            ClassNames = args.Has("class_names") ? args.All("class_names") : null,
            Modalities = args.Has("modalities") ? args.All("modalities") : null,
        };
        if (!args.Has("inChannels")) throw new CliUsageException("option --inChannels is required (the PyTorch file does not say)");
        if (!args.Has("classes")) throw new CliUsageException("option --classes is required (the PyTorch file does not say)");
        try { options.Validate(); }
        catch (ArgumentException e) { throw new CliUsageException(e.Message); }
        context.Cancellation.ThrowIfCancellationRequested();
        var result = ModelInterop.Import(source, options, output);
        var h = result.Header;
        var epoch = result.Source.Epoch is { } ep ? $", epoch {ep}" : "";
        context.Out.WriteLine($"wrote {output}: {h.Model.Name}, {h.Model.InChannels} channel(s), {h.Model.Classes} classes, {result.Source.Tensors} tensors{epoch}");
        if (result.Source.HadOptimizerState)
            context.Out.WriteLine("note: the file's optimizer state is not taken over; train --resume continues with a fresh optimizer");
        return 0;
    }
}
