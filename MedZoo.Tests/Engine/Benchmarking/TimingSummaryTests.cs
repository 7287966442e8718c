using MedZoo.Engine.Benchmarking;

namespace MedZoo.Tests.Engine.Benchmarking;

public class TimingSummaryTests
{
    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    [InlineData(new[] { 9.0, 1.0, 1.0, 1.0, 100.0 }, 1.0)]
    public void MedianOf_Values_IsTheMiddleValueOrTheMeanOfTheTwoMiddleOnes(double[] values, double expected) =>
        Assert.Equal(expected, TimingSummary.MedianOf(values));

    [Fact]
    public void Of_Values_KeepsEveryValueInOrderWithTheirExtremes()
    {
        var summary = TimingSummary.Of([0.3, 0.1, 0.2]);

        Assert.Equal([0.3, 0.1, 0.2], summary.All);
        Assert.Equal(0.2, summary.Median);
        Assert.Equal(0.1, summary.Min);
        Assert.Equal(0.3, summary.Max);
    }

    [Fact]
    public void Of_NoValues_Throws() => Assert.Throws<ArgumentException>(() => TimingSummary.Of([]));
}
