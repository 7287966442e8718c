using MedZoo.Web.Sweeps;

namespace MedZoo.Tests.Web.Sweeps;

public sealed class SweepTextTests
{
    [Fact]
    public void Parse_ValuesRangesCommentsAndJson_RoundTripsThroughFormat()
    {
        var text = """
            # what to try
            learningRate: 0.001 | 0.01
            loss: dice | dice_ce

            sampling.patchSize: [16,16,16] | [24,24,24]
            weightDecay: 0.00001 .. 0.001 log
            """;
        var p = SweepText.Parse(text);

        Assert.Equal(["learningRate", "loss", "sampling.patchSize", "weightDecay"], p.Select(x => x.Path));
        Assert.Equal(["0.001", "0.01"], p[0].Values!.Select(v => v.GetRawText()));
        Assert.Equal(["\"dice\"", "\"dice_ce\""], p[1].Values!.Select(v => v.GetRawText()));
        Assert.Equal("[24,24,24]", p[2].Values![1].GetRawText());
        Assert.Equal((1e-5, 1e-3, true), (p[3].Min!.Value, p[3].Max!.Value, p[3].Log));
        Assert.Equal(p.Select(x => x.Path), SweepText.Parse(SweepText.Format(p)).Select(x => x.Path));
        Assert.Equal(SweepText.Format(p), SweepText.Format(SweepText.Parse(SweepText.Format(p))));
    }

    [Theory]
    [InlineData("learningRate 0.01", "line 1 \"learningRate 0.01\": write an option, a colon and its values")]
    [InlineData("loss: dice || ce", "line 1 (loss): an empty value")]
    [InlineData("\nlearningRate: a .. b", "line 2 (learningRate): a range is two numbers")]
    public void Parse_BadLine_NamesTheLine(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => SweepText.Parse(text)).Message);
}
