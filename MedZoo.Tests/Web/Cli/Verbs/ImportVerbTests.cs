using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Web.Cli.Verbs;

public class ImportVerbTests
{
    [Theory]
    [InlineData(new[] { "--model", "VNET2", "--classes", "2" }, "option --inChannels is required (the PyTorch file does not say)")]
    [InlineData(new[] { "--model", "VNET2", "--inChannels", "1" }, "option --classes is required (the PyTorch file does not say)")]
    [InlineData(new[] { "--model", "VNET2", "--inChannels", "1", "--classes", "2", "--opt", "lbfgs" }, "option --opt: 'lbfgs' is not an optimizer")]
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
