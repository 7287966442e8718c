using System.CommandLine;
using MedZoo.Engine.Interop;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo export --checkpoint FILE --format pytorch|onnx --output FILE</c>: writes a trained
/// network as a PyTorch state dict with MedicalZooPytorch's parameter names, or as an ONNX model with
/// dynamic batch and spatial sizes. The work is <see cref="ModelInterop.Export"/>.
/// </summary>
public sealed class ExportVerb : ICliVerb
{
    private readonly Option<string?> _checkpoint = CliOptions.Text("checkpoint", "MedZoo checkpoint written by train (best.ckpt, last.ckpt) or import; required", valueName: "FILE");
    private readonly Option<string> _format = CliOptions.Choice("format", "pytorch (state dict with MedicalZooPytorch's names) or onnx (opset 17)", "pytorch", ["pytorch", "onnx"]);
    private readonly Option<string?> _output = CliOptions.Text("output", "file to write (.pt, .pth or .onnx); required", valueName: "FILE");

    public string Name => "export";

    public string Summary => "write a checkpoint's network as a PyTorch state dict (.pt) or an ONNX model (.onnx)";

    public bool NeedsTorch => true;

    public IEnumerable<Symbol> Symbols => [_checkpoint, _format, _output];

    public int Run(ParseResult args, CliContext context)
    {
        var checkpoint = args.GetValue(_checkpoint) ?? throw new CliUsageException("option --checkpoint is required: the MedZoo checkpoint to export");
        var output = args.GetValue(_output) ?? throw new CliUsageException("option --output is required: the file to write");
        var formatText = args.GetValue(_format) ?? "pytorch";
        if (!ModelInterop.TryParse(formatText, out var format))
            throw new CliUsageException($"option --format: '{formatText}' is not a format: use pytorch or onnx");
        if (!File.Exists(checkpoint)) throw new CliUsageException($"--checkpoint '{checkpoint}' does not exist");
        context.Cancellation.ThrowIfCancellationRequested();
        var result = ModelInterop.Export(checkpoint, format, output);
        context.Out.WriteLine($"wrote {output}: {result.Model} as {ModelInterop.Name(result.Format)} ({result.Bytes:N0} bytes)");
        return 0;
    }
}
