using System.Globalization;
using System.Text.Json;
using MedZoo.Web.Sweeps;

namespace MedZoo.Tests.Web.Sweeps;

public sealed class SweepPlannerTests
{
    private const string Base = """{"learningRate":0.001,"loss":"dice","model":"UNET3D","sampling":{"patchSize":[32,32,32],"batchSize":2}}""";

    private static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static SweepParameter Values(string path, params string[] json) => new() { Path = path, Values = json.Select(J).ToList() };

    [Fact]
    public void Expand_Grid_EveryCombinationInOrderWrittenIntoTheBase()
    {
        var trials = SweepPlanner.Expand(new SweepRequest
        {
            Parameters = [Values("learningRate", "0.01", "0.1"), Values("sampling.patchSize", "[16,16,16]", "[24,24,24]", "[48,48,48]")],
        }, Base);

        Assert.Equal(6, trials.Count);
        Assert.Equal(Enumerable.Range(1, 6), trials.Select(t => t.Number));
        Assert.Equal("learningRate=0.01, sampling.patchSize=[24,24,24]", trials[1].Label);
        var last = JsonDocument.Parse(trials[5].ConfigJson).RootElement;
        Assert.Equal(0.1, last.GetProperty("learningRate").GetDouble());
        Assert.Equal([48, 48, 48], last.GetProperty("sampling").GetProperty("patchSize").EnumerateArray().Select(e => e.GetInt32()));
        // Options not varied keep the base's values.
        Assert.Equal(2, last.GetProperty("sampling").GetProperty("batchSize").GetInt32());
        Assert.Equal("dice", last.GetProperty("loss").GetString());
    }

    [Fact]
    public void Expand_RandomLogRange_SameSeedSameDrawsAllWithinTheRange()
    {
        SweepRequest Request(long seed) => new()
        {
            Search = SweepSearch.Random, Trials = 40, Seed = seed,
            Parameters = [new SweepParameter { Path = "learningRate", Min = 1e-4, Max = 1e-1, Log = true }, Values("loss", "\"dice\"", "\"dice_ce\"")],
        };
        var a = SweepPlanner.Expand(Request(7), Base);
        var b = SweepPlanner.Expand(Request(7), Base);
        var c = SweepPlanner.Expand(Request(8), Base);

        Assert.Equal(a.Select(t => t.ConfigJson), b.Select(t => t.ConfigJson));
        Assert.NotEqual(a.Select(t => t.ConfigJson), c.Select(t => t.ConfigJson));
        var rates = a.Select(t => double.Parse(t.Values["learningRate"], CultureInfo.InvariantCulture)).ToList();
        Assert.All(rates, r => Assert.InRange(r, 1e-4, 1e-1));
        // Log-uniform: about as many draws per decade; a uniform draw would put ~90 % in the top decade.
        Assert.InRange(rates.Count(r => r < 1e-2), 15, 40);
        Assert.Equal(["\"dice\"", "\"dice_ce\""], a.Select(t => t.Values["loss"]).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("learningrate", "no option 'learningrate'; did you mean 'learningRate'?")]
    [InlineData("sampling.patchsize", "did you mean 'sampling.patchSize'?")]
    [InlineData("", "name the option to vary")]
    public void Expand_UnknownPath_NamesTheClosestOption(string path, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => SweepPlanner.Expand(new SweepRequest { Parameters = [Values(path, "1")] }, Base));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Expand_GridOverTheLimit_SaysHowManyAndWhatToDo()
    {
        var many = Enumerable.Range(1, 11).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var e = Assert.Throws<ArgumentException>(() => SweepPlanner.Expand(new SweepRequest
        {
            Parameters = [Values("learningRate", many), Values("model", many)],
        }, Base));
        Assert.Contains("11 × 11 = 121 trials", e.Message);
        Assert.Contains("random search", e.Message);
    }

    [Theory]
    [InlineData(SweepSearch.Grid, 0.1, 1.0, false, "a range needs random search")]
    [InlineData(SweepSearch.Random, 1.0, 0.1, false, "min 1 must be below max 0.1")]
    [InlineData(SweepSearch.Random, 0.0, 0.1, true, "a log range needs min above 0")]
    public void Expand_BadRange_SaysWhy(SweepSearch search, double min, double max, bool log, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => SweepPlanner.Expand(new SweepRequest
        {
            Search = search, Parameters = [new SweepParameter { Path = "learningRate", Min = min, Max = max, Log = log }],
        }, Base));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Expand_SameOptionTwiceOrNoOptions_IsRefused()
    {
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() =>
            SweepPlanner.Expand(new SweepRequest { Parameters = [Values("loss", "\"dice\""), Values("loss", "\"ce\"")] }, Base)).Message);
        Assert.Contains("at least one option", Assert.Throws<ArgumentException>(() => SweepPlanner.Expand(new SweepRequest(), Base)).Message);
        Assert.Contains("at most 200", Assert.Throws<ArgumentException>(() =>
            SweepPlanner.Expand(new SweepRequest { Name = new string('x', 5000), Parameters = [Values("loss", "\"dice\"")] }, Base)).Message);
    }
}
