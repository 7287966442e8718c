using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli;

public class CliArgumentsTests
{
    private static readonly CliOption[] Options =
    [
        new("dim", "patch size", CliArity.Multi),
        new("lr", "learning rate"),
        new("json", "json output", CliArity.Flag),
        new("batchSz", "batch size", CliArity.Single, "4", "batch-size"),
    ];

    [Fact]
    public void Parse_MedicalZooStyle_ReadsMultiValuesAndSwitches()
    {
        var a = CliArguments.Parse(["file.nii", "--dim", "64", "64", "32", "--lr", "1e-3", "--json", "--batch-size=2"], Options);
        Assert.Equal(["file.nii"], a.Positionals);
        Assert.Equal([64, 64, 32], a.Ints("dim", []));
        Assert.Equal(1e-3, a.Double("lr", 0));
        Assert.True(a.Flag("json"));
        Assert.Equal(2, a.Int("batchSz", 4));
    }

    [Fact]
    public void Parse_NegativeNumber_IsAValue()
    {
        var a = CliArguments.Parse(["--lr", "-0.5"], Options);
        Assert.Equal(-0.5, a.Double("lr", 0));
    }

    [Fact]
    public void Parse_SwitchWithPythonBoolean_ReadsIt()
    {
        var a = CliArguments.Parse(["--json", "False"], Options);
        Assert.False(a.Flag("json"));
    }

    [Theory]
    [InlineData(new[] { "--dimm", "3" }, "did you mean --dim")]
    [InlineData(new[] { "--lr" }, "--lr needs a value")]
    [InlineData(new[] { "--lr", "fast" }, "'fast' is not a number")]
    public void Parse_BadInput_ThrowsUsageErrorNamingTheOption(string[] args, string expected)
    {
        var e = Assert.Throws<CliUsageException>(() => CliArguments.Parse(args, Options).Double("lr", 0));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Run_UnknownVerb_ExitsTwoWithOverview()
    {
        var err = new StringWriter();
        Assert.Equal(2, CliApp.Run(["frobnicate"], new StringWriter(), err));
        Assert.Contains("unknown verb 'frobnicate'", err.ToString());
    }
}
