using MedZoo.Engine.IO;
using MedZoo.Tests.Engine.Interop;
using MedZoo.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Web.Cli.Verbs;

public class ImportVerbTests
{
    [Theory]
    [InlineData(new[] { "--model", "VNET2", "--classes", "2" }, "option --inChannels is required (the PyTorch file does not say)")]
    [InlineData(new[] { "--model", "VNET2", "--inChannels", "1" }, "option --classes is required (the PyTorch file does not say)")]
    [InlineData(new[] { "--model", "VNET2", "--inChannels", "1", "--classes", "2", "--opt", "lbfgs" }, "option --opt: 'lbfgs' is not one of sgd, adam, adamw, rmsprop")]
    [InlineData(new[] { "--model", "HIGHRESNET", "--inChannels", "1", "--classes", "2" }, "Model: 'HIGHRESNET' cannot be imported; PyTorch checkpoints move both ways for UNET3D, VNET, VNET2")]
    [InlineData(new[] { "--model", "VNET2", "--inChannels", "1", "--classes", "2", "--dim", "16", "16" }, "option --dim takes 1 or 3 values (D H W), got 2")]
    public void Run_BadOptions_IsAUsageErrorNamingTheOption(string[] options, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllBytes(dir.File("net.pth"), [0x50, 0x4b, 3, 4]);

        var (code, _, stderr) = ExportVerbTests.Run(["import", "--checkpoint", dir.File("net.pth"), "--output", dir.File("out.ckpt"), .. options]);

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.False(File.Exists(dir.File("out.ckpt")));
    }

    [Fact]
    public void Run_MedicalZooCheckpoint_InferPredictsWithTheImportedCheckpoint()
    {
        using var dir = TestPaths.NewTempFolder();
        using (var scope = NewDisposeScope())
        {
            PyTorchReference.SaveInput(dir.File("input.pt"), randn([1, 1, 16, 16, 16]));
            PyTorchReference.Reference("checkpoint", "VNET2", "1", "3", "9", "12", dir.File("VNET2_BEST.pth"), dir.File("input.pt"), dir.File("output.pt"));
        }

        var import = ExportVerbTests.Run("import", "--checkpoint", dir.File("VNET2_BEST.pth"), "--model", "vnet2", "--inChannels", "1", "--classes", "3",
                                         "--dim", "16", "--class_names", "background", "csf", "tissue", "--output", dir.File("imported.ckpt"));
        var random = new Random(3);
        var data = new float[20 * 18 * 13];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(100 + 50 * random.NextDouble());
        VolumeIO.Write(Volume.FromArray<float>(data, [20, 18, 13]), dir.File("t1.nii.gz"));
        var infer = ExportVerbTests.Run("infer", "--checkpoint", dir.File("imported.ckpt"), "--input", dir.File("t1.nii.gz"), "--output", dir.File("seg.nii.gz"));

        Assert.Equal((0, ""), (import.Code, import.Err));
        Assert.Contains("epoch 12", import.Out);
        Assert.Contains("note: the file's optimizer state is not taken over", import.Out);
        Assert.True(infer.Code == 0, infer.Err);
        var labels = VolumeIO.Read(dir.File("seg.nii.gz"));
        Assert.Equal(data.Length, labels.Count);
        Assert.InRange(labels.ComputeStatistics().Max, 0, 2);
    }

    [Fact]
    public void Run_CheckpointThatIsNotPyTorch_SaysSoWithoutAPath()
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllText(dir.File("notes.pth"), "not a checkpoint");

        var (code, _, stderr) = ExportVerbTests.Run("import", "--checkpoint", dir.File("notes.pth"), "--model", "VNET2", "--inChannels", "1",
                                                    "--classes", "2", "--output", dir.File("out.ckpt"));

        Assert.Equal(1, code);
        Assert.Contains("medzoo import: error: checkpoint 'notes.pth' is not a PyTorch checkpoint", stderr);
    }
}
