using MedZoo.Engine.Interop;
using MedZoo.Engine.Networks;
using MedZoo.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Interop;

/// <summary>
/// The ONNX files run in ONNX Runtime and give TorchSharp's logits (eval mode, random batch-norm
/// statistics) within 1e-4, at two spatial sizes from one file (dynamic D, H, W), and pass
/// onnx.checker (Debian's python3-onnx).
/// </summary>
public class OnnxExporterTests
{
    private const double Tolerance = 1e-4;

    // (model, input channels, classes, depth option, two spatial sizes the network accepts): every network that exports
    public static TheoryData<string, int, int, int, long[], long[]> Exported => new()
    {
        { "UNET3D", 2, 3, 0, [32, 32, 32], [48, 32, 64] },
        { "VNET", 2, 3, 0, [32, 32, 32], [32, 48, 32] },
        { "VNET2", 1, 4, 0, [16, 16, 16], [24, 16, 32] },
        { "UNET3D_CICEK", 2, 3, 0, [16, 16, 16], [24, 16, 32] },
        { "RESNETMED3D", 1, 2, 0, [16, 16, 16], [16, 24, 32] },
        { "RESNETMED3D", 2, 3, 50, [16, 16, 16], [24, 16, 16] },
        { "HIGHRESNET", 2, 3, 0, [8, 8, 8], [12, 8, 10] },
        { "DENSENET1", 2, 3, 0, [8, 8, 8], [12, 8, 10] },
        { "DENSENET2", 2, 3, 0, [8, 8, 8], [12, 8, 10] },
        { "DENSENET3", 3, 2, 0, [8, 8, 8], [8, 12, 10] },
    };

    [Theory]
    [MemberData(nameof(Exported))]
    public void Export_RunInOnnxRuntime_MatchesTorchSharpAtEverySize(string model, int inChannels, int classes, int depth, long[] first, long[] second)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var network = ModelZoo.Create(model, inChannels, classes, depth == 0 ? null : new ModelOptions { Depth = depth });
        PyTorchReference.RandomizeStatistics(network, 4);
        network.eval();

        var bytes = OnnxExporter.Export(network);

        using var session = new InferenceSession(bytes);
        Assert.Equal(OnnxGraphNames.Input, Assert.Single(session.InputMetadata).Key);
        Assert.Equal([-1, inChannels, -1, -1, -1], session.InputMetadata[OnnxGraphNames.Input].Dimensions);
        foreach (var spatial in new[] { first, second })
        {
            var input = randn([1, inChannels, .. spatial]);
            Tensor expected;
            using (no_grad()) expected = network.forward(input);
            var actual = Run(session, input);
            Assert.InRange(PyTorchReference.MaxDifference(actual, expected), 0, Tolerance);
        }
    }

    [Fact]
    public void Export_Files_PassOnnxChecker()
    {
        using var dir = TestPaths.NewTempFolder();
        var files = new List<string>();
        foreach (var (model, inChannels, classes) in new[] { ("UNET3D", 1, 2), ("VNET2", 3, 2) })
        {
            using var network = ModelZoo.Create(model, inChannels, classes);
            network.eval();
            var path = dir.File(model + ".onnx");
            using (var file = File.Create(path)) OnnxExporter.Export(network, file);
            files.Add(path);
        }

        var output = PyTorchReference.Run(["-c",
            "import sys, onnx\nfor p in sys.argv[1:]:\n    m = onnx.load(p); onnx.checker.check_model(m, full_check=True)\n" +
            "    print(m.graph.name, m.opset_import[0].version, len(m.graph.node))", .. files]);

        Assert.Contains("UNET3D 17", output);
        Assert.Contains("VNET2 17", output);
    }

    [Theory]
    [InlineData("HYPERDENSENET")]
    [InlineData("SKIPDENSENET3D")]
    [InlineData("DENSEVOXELNET")]
    [InlineData("RESNET3DVAE")]
    public void Export_NetworkWithoutGraphCode_SaysWhichExport(string model)
    {
        using var network = ModelZoo.Create(model, 2, 2, new ModelOptions { InputSize = [32, 32, 32] });

        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(network));

        Assert.Contains("ONNX export supports UNET3D, VNET, VNET2, UNET3D_CICEK, RESNETMED3D, HIGHRESNET, DENSENET1, DENSENET2, DENSENET3", e.Message);
        Assert.Contains(model, e.Message);
    }

    private static Tensor Run(InferenceSession session, Tensor input)
    {
        var data = input.contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [OnnxGraphNames.Input], [value], [OnnxGraphNames.Output]);
        var result = outputs[0];
        var shape = result.GetTensorTypeAndShape().Shape;
        return tensor(result.GetTensorDataAsSpan<float>().ToArray(), shape);
    }
}
