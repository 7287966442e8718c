using System.CommandLine;
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
    private readonly Option<string?> _checkpoint = CliOptions.Text("checkpoint", "MedicalZooPytorch checkpoint (save_checkpoint's .pth, or torch.save(model.state_dict())); required", valueName: "FILE");
    private readonly Option<string?> _model = CliOptions.Text("model", $"network it holds: {string.Join(", ", PyTorchStateDict.SupportedModels)}; required");
    private readonly Option<int?> _inChannels = CliOptions.OptionalInt("inChannels", "input channels the network was built with; required");
    private readonly Option<int?> _classes = CliOptions.OptionalInt("classes", "classes including background; required");
    private readonly Option<int[]?> _dim = CliOptions.Size("dim", "training patch size D H W (or one value): the default inference window", [64, 64, 64]);
    private readonly Option<string?> _normalization = CliOptions.Text("normalization", "intensity normalization it was trained with", "full_volume_mean");
    private readonly Option<string> _opt = CliOptions.Choice("opt", "optimizer for train --resume (its state starts fresh)", "adam", ["sgd", "adam", "adamw", "rmsprop"]);
    private readonly Option<string[]?> _classNames = CliOptions.Texts("class_names", "class names, background first (default: background, class 1, ...)");
    private readonly Option<string[]?> _modalities = CliOptions.Texts("modalities", "modality names in channel order (default: channel 1, ...)");
    private readonly Option<string?> _output = CliOptions.Text("output", "MedZoo checkpoint to write; required", valueName: "FILE");

    public string Name => "import";

    public string Summary => "turn a MedicalZooPytorch checkpoint (.pth) into a MedZoo checkpoint for infer and train --resume";

    public bool NeedsTorch => true;

    public IEnumerable<Symbol> Symbols => [_checkpoint, _model, _inChannels, _classes, _dim, _normalization, _opt, _classNames, _modalities, _output];

    public int Run(ParseResult args, CliContext context)
    {
        var source = args.GetValue(_checkpoint) ?? throw new CliUsageException("option --checkpoint is required: the MedicalZooPytorch file to import");
        var output = args.GetValue(_output) ?? throw new CliUsageException("option --output is required: the MedZoo checkpoint to write");
        if (!File.Exists(source)) throw new CliUsageException($"--checkpoint '{source}' does not exist");
        var model = args.GetValue(_model) ?? throw new CliUsageException($"option --model is required: one of {string.Join(", ", PyTorchStateDict.SupportedModels)}");
        var inChannels = args.GetValue(_inChannels) ?? throw new CliUsageException("option --inChannels is required (the PyTorch file does not say)");
        var classes = args.GetValue(_classes) ?? throw new CliUsageException("option --classes is required (the PyTorch file does not say)");
        var opt = (args.GetValue(_opt) ?? "adam").Trim().ToLowerInvariant();
        var options = new ImportOptions
        {
            Model = model,
            InChannels = inChannels,
            Classes = classes,
            PatchSize = args.GetValue(_dim) ?? [64, 64, 64],
            Normalization = args.GetValue(_normalization) ?? "full_volume_mean",
            Optimizer = opt switch
            {
                "sgd" => OptimizerKind.Sgd,
                "adam" => OptimizerKind.Adam,
                "adamw" => OptimizerKind.AdamW,
                "rmsprop" => OptimizerKind.RmsProp,
                _ => throw new CliUsageException($"option --opt: '{opt}' is not an optimizer: use sgd, adam, adamw or rmsprop"),
            },
            ClassNames = args.Given(_classNames) ? args.GetValue(_classNames) : null,
            Modalities = args.Given(_modalities) ? args.GetValue(_modalities) : null,
        };
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
