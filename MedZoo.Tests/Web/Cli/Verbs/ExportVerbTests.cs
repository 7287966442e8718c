using MedZoo.Engine.Interop;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Checkpoints;
using MedZoo.Tests.Engine.Interop;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Web.Cli.Verbs;

public class ExportVerbTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Writes a MedZoo checkpoint of <paramref name="network"/> as train would (weights only).</summary>
    internal static void WriteCheckpoint(string path, SegmentationNetwork network, int[] patch)
    {
        var header = new CheckpointHeader
        {
            RunId = "cli-test",
            Kind = "best",
            Model = new CheckpointModel
            {
                Name = network.GetName(), InChannels = network.InChannels, Classes = network.Classes,
                ParameterCount = ModelZoo.CountParameters(network),
            },
            ClassNames = [.. Enumerable.Range(0, network.Classes).Select(c => $"c{c}")],
            Modalities = [.. Enumerable.Range(0, network.InChannels).Select(c => $"m{c}")],
            PatchSize = patch,
        };
        using var file = File.Create(path);
        Checkpoint.Write(file, header, network, optimizer: null, includeRngState: false);
    }

    [Fact]
    public void Run_OnnxOfCheckpoint_WritesAModelThatOnnxRuntimeRunsLikeTheCheckpoint()
    {
        using var dir = TestPaths.NewTempFolder();
        using var scope = NewDisposeScope();
        manual_seed(21);
        using var network = ModelZoo.Create("VNET2", 1, 2);
        PyTorchReference.RandomizeStatistics(network, 22);
        WriteCheckpoint(dir.File("best.ckpt"), network, [16, 16, 16]);

        var (code, stdout, stderr) = Run("export", "--checkpoint", dir.File("best.ckpt"), "--format", "onnx", "--output", dir.File("out/vnet2.onnx"));

        Assert.Equal((0, ""), (code, stderr));
        Assert.StartsWith($"wrote {dir.File("out/vnet2.onnx")}: VNET2 as onnx (", stdout);
        network.eval();
        var input = randn([1, 1, 16, 24, 16]);
        Tensor expected;
        using (no_grad()) expected = network.forward(input);
        using var session = new InferenceSession(dir.File("out/vnet2.onnx"));
        using var value = OrtValue.CreateTensorValueFromMemory(input.contiguous().data<float>().ToArray(), input.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [OnnxGraphNames.Input], [value], [OnnxGraphNames.Output]);
        var actual = tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
        Assert.InRange(PyTorchReference.MaxDifference(actual, expected), 0, 1e-4);
    }

    [Fact]
    public void Run_PyTorchThenImport_GivesBackTheSameWeights()
    {
        using var dir = TestPaths.NewTempFolder();
        using var scope = NewDisposeScope();
        manual_seed(23);
        using var network = ModelZoo.Create("VNET2", 1, 2);
        PyTorchReference.RandomizeStatistics(network, 24);
        WriteCheckpoint(dir.File("best.ckpt"), network, [16, 16, 16]);

        var export = Run("export", "--checkpoint", dir.File("best.ckpt"), "--format", "pytorch", "--output", dir.File("vnet2.pt"));
        var import = Run("import", "--checkpoint", dir.File("vnet2.pt"), "--model", "VNET2", "--inChannels", "1", "--classes", "2",
                         "--dim", "16", "--opt", "sgd", "--output", dir.File("back.ckpt"));

        Assert.Equal((0, ""), (export.Code, export.Err));
        Assert.Equal((0, ""), (import.Code, import.Err));
        Assert.Contains("VNET2, 1 channel(s), 2 classes", import.Out);
        var back = Checkpoint.Read(dir.File("back.ckpt"));
        Assert.Equal(("Sgd", "full_volume_mean"), (back.Header.Optimizer, back.Header.Normalization.Name));
        Assert.Equal([16, 16, 16], back.Header.PatchSize);
        Assert.NotNull(back.OptimizerState);
        using var restored = ModelZoo.Create("VNET2", 1, 2);
        back.LoadModel(restored);
        var original = network.state_dict();
        foreach (var (key, value) in restored.state_dict())
            Assert.True(value.eq(original[key]).all().item<bool>(), $"{key} differs after export and import");
    }

    [Fact]
    public void Run_UnknownFormat_IsAUsageError()
    {
        var (code, _, stderr) = Run("export", "--checkpoint", "x.ckpt", "--format", "tflite", "--output", "x.tflite");

        Assert.Equal(2, code);
        Assert.Contains("option --format: 'tflite' is not one of pytorch, onnx", stderr);
    }

    [Theory]
    [InlineData("HYPERDENSENET", "onnx", "HYPERDENSENET does not export to onnx (it does for UNET3D, VNET, VNET2, UNET3D_CICEK, RESNETMED3D, HIGHRESNET, DENSENET1, DENSENET2, DENSENET3;")]
    [InlineData("HIGHRESNET", "pytorch", "HIGHRESNET does not export to pytorch (it does for UNET3D, VNET, VNET2;")]
    public void Run_NetworkThatDoesNotExport_SaysWhichDo(string model, string format, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        using (var network = ModelZoo.Create(model, 1, 2)) WriteCheckpoint(dir.File("h.ckpt"), network, [16, 16, 16]);

        var (code, _, stderr) = Run("export", "--checkpoint", dir.File("h.ckpt"), "--format", format, "--output", dir.File("h.out"));

        Assert.Equal(1, code);
        Assert.Contains(expected, stderr);
        Assert.False(File.Exists(dir.File("h.out")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }
}
