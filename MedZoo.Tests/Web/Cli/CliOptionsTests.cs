using System.CommandLine;
using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli;

/// <summary>The option factories parse MedicalZoo's spellings and name the option in every error.</summary>
public class CliOptionsTests
{
    private readonly Option<int[]?> _dim = CliOptions.Size("dim", "patch size", [32, 32, 32]);
    private readonly Option<double> _lr = CliOptions.Number("lr", "learning rate", 1e-3);
    private readonly Option<bool> _json = CliOptions.Flag("json", "json output");
    private readonly Option<int> _batch = CliOptions.Int("batchSz", "batch size", 4, "batch-size");
    private readonly Option<string[]?> _only = CliOptions.Texts("only", "parts");
    private readonly Option<string> _blend = CliOptions.Choice("blend", "blending", "gaussian", ["gaussian", "constant"]);
    private readonly Argument<string[]> _files = new("FILE") { Arity = ArgumentArity.ZeroOrMore };

    private ParseResult Parse(params string[] args)
    {
        var command = new Command("verb") { _dim, _lr, _json, _batch, _only, _blend, _files };
        return command.Parse(args);
    }

    [Fact]
    public void Parse_MedicalZooStyle_ReadsMultiValuesSwitchesAndAliases()
    {
        var p = Parse("file.nii", "--dim", "64", "64", "32", "--lr", "1e-3", "--json", "--batch-size=2");
        Assert.Empty(p.Errors);
        Assert.Equal(["file.nii"], p.GetValue(_files)!);
        Assert.Equal([64, 64, 32], p.GetValue(_dim)!);
        Assert.Equal(1e-3, p.GetValue(_lr));
        Assert.True(p.GetValue(_json));
        Assert.Equal(2, p.GetValue(_batch));
    }

    [Fact]
    public void Parse_Absent_GivesTheDefaultAndSaysItWasNotGiven()
    {
        var p = Parse();
        Assert.Equal([32, 32, 32], p.GetValue(_dim)!);
        Assert.Equal(4, p.GetValue(_batch));
        Assert.False(p.Given(_batch));
        Assert.True(Parse("--batchSz", "4").Given(_batch));
    }

    [Theory]
    [InlineData("--dim", "16", new[] { 16, 16, 16 })]
    [InlineData("--dim", "16,24,32", new[] { 16, 24, 32 })]
    public void Parse_Size_OneValueIsACubeAndCommasSeparate(string option, string value, int[] expected) =>
        Assert.Equal(expected, Parse(option, value).GetValue(_dim)!);

    [Fact]
    public void Parse_NegativeNumber_IsAValue() => Assert.Equal(-0.5, Parse("--lr", "-0.5").GetValue(_lr));

    [Theory]
    [InlineData("False", false)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    public void Parse_SwitchWithPythonBoolean_ReadsIt(string value, bool expected)
    {
        var p = Parse("--json", value, "file.nii");
        Assert.Empty(p.Errors);
        Assert.Equal(expected, p.GetValue(_json));
        Assert.Equal(["file.nii"], p.GetValue(_files)!);
    }

    [Fact]
    public void Parse_RepeatedOneValueOption_LastOneWinsAndAStrayWordIsNotTaken()
    {
        var p = Parse("--lr", "0.1", "--batchSz", "2", "--lr", "0.2", "--json", "--json", "False", "stray.nii");
        Assert.Empty(p.Errors);
        Assert.Equal(0.2, p.GetValue(_lr));
        Assert.False(p.GetValue(_json));
        Assert.Equal(["stray.nii"], p.GetValue(_files)!);
    }

    [Fact]
    public void Run_SwitchWithAWordThatIsNotABoolean_LeavesTheWordUnmatched()
    {
        var err = new StringWriter();
        Assert.Equal(2, CliApp.Run(["models", "--json", "maybe"], new StringWriter(), err));
        Assert.Contains("medzoo models: unexpected argument 'maybe'", err.ToString());
    }

    [Fact]
    public void Parse_Lists_RepeatedAndCommaSeparatedValuesAddUp() =>
        Assert.Equal(["train", "infer", "io"], Parse("--only", "train,infer", "--only", "io").GetValue(_only)!);

    [Theory]
    [InlineData(new[] { "--lr", "fast" }, "option --lr: 'fast' is not a number")]
    [InlineData(new[] { "--batchSz", "two" }, "option --batchSz: 'two' is not an integer")]
    [InlineData(new[] { "--batch-size", "two" }, "option --batch-size: 'two' is not an integer")]
    [InlineData(new[] { "--dim", "16", "16" }, "option --dim takes 1 or 3 values (D H W), got 2")]
    [InlineData(new[] { "--blend", "median" }, "option --blend: 'median' is not one of gaussian, constant")]
    public void Parse_BadValue_IsAnErrorNamingTheOption(string[] args, string expected) =>
        Assert.Contains(expected, Parse(args).Errors.Select(e => e.Message));

    [Fact]
    public void Choice_IsCaseInsensitiveAndCompletesItsValues()
    {
        Assert.Equal("constant", Parse("--blend", "Constant").GetValue(_blend));
        Assert.Equal(["constant", "gaussian"], _blend.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).Select(c => c.Label).Order());
    }

    [Theory]
    [InlineData("--dimm", "--dim")]
    [InlineData("--batchsz", "--batchSz")]
    [InlineData("--jsn", "--json")]
    [InlineData("--frobnicate", null)]
    public void ClosestOption_Misspelt_SuggestsTheOption(string typed, string? expected)
    {
        var command = new Command("verb") { _dim, _lr, _json, _batch, _only, _blend };
        Assert.Equal(expected, CliApp.ClosestOption(command, typed));
    }
}
