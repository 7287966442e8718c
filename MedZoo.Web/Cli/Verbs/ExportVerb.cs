using MedZoo.Engine.Interop;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo export --checkpoint FILE --format pytorch|onnx --output FILE</c>: writes a trained
/// network as a PyTorch state dict with MedicalZooPytorch's parameter names, or as an ONNX model with
/// dynamic batch and spatial sizes. The work is <see cref="ModelInterop.Export"/>.
/// </summary>
public sealed class ExportVerb : ICliVerb
{
    public string Name => "export";

    public string Summary => "write a checkpoint's network as a PyTorch state dict (.pt) or an ONNX model (.onnx)";

    public string Positionals => "";

    public bool NeedsTorch => true;

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("checkpoint", "MedZoo checkpoint written by train (best.ckpt, last.ckpt) or import"),
        new("format", "pytorch (state dict with MedicalZooPytorch's names) or onnx (opset 17)", CliArity.Single, "pytorch"),
        new("output", "file to write (.pt, .pth or .onnx)"),
    ];

    public int Run(CliArguments args, CliContext context)
    {
        var checkpoint = args.Required("checkpoint");
        var output = args.Required("output");
        var formatText = args.String("format", "pytorch");
        if (!ModelInterop.TryParse(formatText, out var format))
            throw new CliUsageException($"option --format: '{formatText}' is not a format: use pytorch or onnx");
        if (!File.Exists(checkpoint)) throw new CliUsageException($"--checkpoint '{checkpoint}' does not exist");
        context.Cancellation.ThrowIfCancellationRequested();
        var result = ModelInterop.Export(checkpoint, format, output);
        context.Out.WriteLine($"wrote {output}: {result.Model} as {ModelInterop.Name(result.Format)} ({result.Bytes:N0} bytes)");
        return 0;
    }
}
