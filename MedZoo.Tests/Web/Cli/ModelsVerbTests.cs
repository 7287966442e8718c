using System.Text.Json;
using MedZoo.Engine.Networks;
using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli;

public class ModelsVerbTests
{
    [Fact]
    public void Run_Json_ListsEveryModelWithItsParameterCount()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["models", "--json", "--inChannels", "1", "--classes", "3"], output, error);

        Assert.True(code == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var rows = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(ModelZoo.Names, rows.Select(r => r.GetProperty("name").GetString()));
        foreach (var row in rows)
        {
            Assert.True(row.GetProperty("parameters").GetInt64() > 0);
            Assert.Equal(1, row.GetProperty("inChannels").GetInt32());
            Assert.Equal(3, row.GetProperty("classes").GetInt32());
            Assert.False(string.IsNullOrEmpty(row.GetProperty("description").GetString()));
            Assert.StartsWith("https://", row.GetProperty("paper").GetProperty("url").GetString());
            Assert.Contains("D, H, W", row.GetProperty("constraints").GetString());
        }
        var unet = rows.Single(r => r.GetProperty("name").GetString() == "UNET3D");
        Assert.Equal(ModelZoo.CountParameters("UNET3D", 1, 3), unet.GetProperty("parameters").GetInt64());
        Assert.Equal(16, unet.GetProperty("divisor").GetInt32());
        Assert.Contains("baseFilters", unet.GetProperty("options").EnumerateArray().Select(o => o.GetString()));
    }

    [Fact]
    public void Run_Table_ShowsEveryModelWithDefaults()
    {
        var output = new StringWriter();

        Assert.Equal(0, CliApp.Run(["models"], output, new StringWriter()));

        var text = output.ToString();
        Assert.Contains("2 input channel(s) and 4 classes", text);
        foreach (var name in ModelZoo.Names) Assert.Contains(name, text);
        // VNET for 2 inputs and 4 classes: MedicalZoo's count, with thousands separators.
        Assert.Contains("45,613,956", text);
    }

    [Theory]
    [InlineData("--classes", "1", "--classes must be >= 2")]
    [InlineData("--inChannels", "0", "--inChannels must be >= 1")]
    [InlineData("--inChannels", "two", "'two' is not an integer")]
    public void Run_BadOption_ExitsTwoWithUsage(string option, string value, string expected)
    {
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(["models", option, value], new StringWriter(), error));
        Assert.Contains(expected, error.ToString());
        Assert.Contains("usage: medzoo models", error.ToString());
    }
}
