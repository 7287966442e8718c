using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using static TorchSharp.torch;

namespace MedZoo.Engine.Interop;

/// <summary>Formats <see cref="ModelInterop.Export"/> writes.</summary>
public enum ExportFormat
{
    /// <summary>A PyTorch state dict (<c>torch.save</c> zip) with MedicalZoo's parameter names.</summary>
    PyTorch,
    /// <summary>An ONNX model (opset 17) with dynamic batch and spatial sizes.</summary>
    Onnx,
}

/// <summary>What an export wrote.</summary>
/// <param name="Model">Zoo name of the network.</param>
/// <param name="Format">The format written.</param>
/// <param name="Bytes">Size of the file.</param>
public sealed record ExportResult(string Model, ExportFormat Format, long Bytes);

/// <summary>What an import wrote.</summary>
/// <param name="Header">The header of the MedZoo checkpoint written.</param>
/// <param name="Source">What the PyTorch file held.</param>
public sealed record ImportResult(CheckpointHeader Header, PyTorchCheckpointInfo Source);

/// <summary>
/// How <see cref="ModelInterop.Import"/> turns a MedicalZooPytorch checkpoint into a MedZoo one. A
/// PyTorch file carries weights only, so the network and how its inputs were prepared are given here
/// with MedicalZoo's argument names (<c>--model</c>, <c>--inChannels</c>, <c>--classes</c>,
/// <c>--dim</c>, <c>--normalization</c>, <c>--opt</c>).
/// </summary>
public sealed class ImportOptions
{
    /// <summary>Zoo name (one of <see cref="PyTorchStateDict.SupportedModels"/>).</summary>
    public string Model { get; set; } = "";

    /// <summary>Input channels (modalities) the network was built with; >= 1.</summary>
    public int InChannels { get; set; }

    /// <summary>Classes including background; >= 2.</summary>
    public int Classes { get; set; }

    /// <summary>Training patch (D, H, W): the default inference window; MedicalZoo's default 64³.</summary>
    public int[] PatchSize { get; set; } = [64, 64, 64];

    /// <summary>The intensity normalization the model was trained with (MedicalZoo's default full_volume_mean).</summary>
    public string Normalization { get; set; } = "full_volume_mean";

    /// <summary>Optimizer a resumed run will use (its state starts fresh); MedZoo's default Adam.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Class names, background first; default "background", "class 1", ….</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>Modality names in channel order; default "channel 1", ….</summary>
    public IReadOnlyList<string>? Modalities { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException($"{nameof(Model)}: a model name is required", nameof(Model));
        if (!PyTorchStateDict.Supports(Model))
            throw new ArgumentException($"{nameof(Model)}: '{Model}' cannot be imported; PyTorch checkpoints move both ways for {string.Join(", ", PyTorchStateDict.SupportedModels)}", nameof(Model));
        if (InChannels < 1) throw new ArgumentException($"{nameof(InChannels)}: must be ≥ 1, got {InChannels}", nameof(InChannels));
        if (Classes < 2) throw new ArgumentException($"{nameof(Classes)}: must be ≥ 2 (background included), got {Classes}", nameof(Classes));
        if (PatchSize is not { Length: 3 } || PatchSize.Any(v => v < 1))
            throw new ArgumentException($"{nameof(PatchSize)}: must be three positive sizes (D H W), got [{string.Join(", ", PatchSize ?? [])}]", nameof(PatchSize));
        Data.Normalization.Parse(Normalization); // throws naming the valid names
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentException($"{nameof(Optimizer)}: {(int)Optimizer} is not an optimizer", nameof(Optimizer));
        if (ClassNames is { } names && names.Count != Classes)
            throw new ArgumentException($"{nameof(ClassNames)}: {names.Count} name(s) for {Classes} classes", nameof(ClassNames));
        if (Modalities is { } m && m.Count != InChannels)
            throw new ArgumentException($"{nameof(Modalities)}: {m.Count} name(s) for {InChannels} input channel(s)", nameof(Modalities));
    }
}

/// <summary>
/// Moves MedZoo checkpoints to and from the formats the field uses: <see cref="Export"/> writes a
/// PyTorch state dict or an ONNX model from a MedZoo checkpoint, <see cref="Import"/> turns a
/// MedicalZooPytorch checkpoint into a MedZoo checkpoint that <c>infer</c> predicts with and
/// <c>train --resume</c> continues. Files are written atomically (temporary file, then rename).
/// </summary>
public static class ModelInterop
{
    /// <summary>Writes the network of the MedZoo checkpoint <paramref name="checkpointPath"/> to <paramref name="outputPath"/>.</summary>
    /// <exception cref="NotSupportedException">The checkpoint's network does not export to <paramref name="format"/>.</exception>
    public static ExportResult Export(string checkpointPath, ExportFormat format, string outputPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        var checkpoint = Checkpoint.Read(checkpointPath);
        var model = checkpoint.Header.Model;
        var supported = format == ExportFormat.PyTorch ? PyTorchStateDict.Supports(model.Name) : OnnxExporter.Supports(model.Name);
        if (!supported)
        {
            var list = format == ExportFormat.PyTorch ? PyTorchStateDict.SupportedModels : OnnxExporter.SupportedModels;
            throw new NotSupportedException($"{model.Name} does not export to {Name(format)} (it does for {string.Join(", ", list)}; the README's Interop section says why)");
        }
        using var network = (SegmentationNetwork)CheckpointModels.Build(model, checkpoint.Header.PatchSize);
        checkpoint.LoadModel(network);
        network.eval();
        WriteAtomically(outputPath, s =>
        {
            if (format == ExportFormat.PyTorch) PyTorchStateDict.Write(network, model.Name, s);
            else OnnxExporter.Export(network, s);
        });
        return new ExportResult(network.GetName(), format, new FileInfo(outputPath).Length);
    }

    /// <summary>
    /// Reads the MedicalZooPytorch checkpoint <paramref name="sourcePath"/> (<c>save_checkpoint</c>'s dict or a
    /// bare state dict) into the network <paramref name="options"/> describe and writes a MedZoo
    /// checkpoint to <paramref name="outputPath"/>, with a fresh optimizer state so that
    /// <c>train --resume</c> continues from it (at the saved epoch + 1).
    /// </summary>
    public static ImportResult Import(string sourcePath, ImportOptions options, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        options.Validate();
        if (!File.Exists(sourcePath)) throw new FileNotFoundException($"PyTorch checkpoint '{sourcePath}' does not exist", sourcePath);
        var name = ModelZoo.Get(options.Model).Name;
        using var network = ModelZoo.Create(name, options.InChannels, options.Classes, new ModelOptions { InputSize = options.PatchSize });
        PyTorchCheckpointInfo info;
        using (var source = File.OpenRead(sourcePath))
            info = PyTorchStateDict.Read(source, network, name, $"checkpoint '{Path.GetFileName(sourcePath)}'");
        var header = new CheckpointHeader
        {
            RunId = "import-" + Path.GetFileNameWithoutExtension(sourcePath),
            Kind = "import",
            Model = new CheckpointModel
            {
                Name = name,
                InChannels = options.InChannels,
                Classes = options.Classes,
                ParameterCount = ModelZoo.CountParameters(network),
            },
            ClassNames = [.. options.ClassNames ?? Enumerable.Range(0, options.Classes).Select(c => c == 0 ? "background" : "class " + c.ToString(CultureInfo.InvariantCulture))],
            Modalities = [.. options.Modalities ?? Enumerable.Range(1, options.InChannels).Select(c => "channel " + c.ToString(CultureInfo.InvariantCulture))],
            Normalization = new CheckpointNormalization { Name = options.Normalization.Trim().ToLowerInvariant() },
            PatchSize = [.. options.PatchSize],
            Dataset = "imported from PyTorch",
            Epoch = info.Epoch ?? 0,
            Optimizer = options.Optimizer.ToString(),
        };
        using var optimizer = Trainer.CreateOptimizer(new TrainerOptions { Optimizer = options.Optimizer }, network.parameters());
        WriteAtomically(outputPath, s => Checkpoint.Write(s, header, network, optimizer, includeRngState: false));
        return new ImportResult(header, info);
    }

    /// <summary>The format's name as users type it (<c>--format</c>).</summary>
    public static string Name(ExportFormat format) => format == ExportFormat.PyTorch ? "pytorch" : "onnx";

    /// <summary>Parses <c>--format</c> (pytorch or onnx, any case).</summary>
    public static bool TryParse(string? text, out ExportFormat format)
    {
        format = ExportFormat.PyTorch;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "pytorch" or "torch" or "pt": return true;
            case "onnx": format = ExportFormat.Onnx; return true;
            default: return false;
        }
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(s);
                s.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
