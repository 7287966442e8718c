using MedZoo.Web.Live;

namespace MedZoo.Tests.Web.Live;

public sealed class SeriesMathTests
{
    [Fact]
    public void Smooth_WeightZero_ReturnsInput() =>
        Assert.Equal([1.0, 5.0, 2.0], SeriesMath.Smooth([1, 5, 2], 0));

    [Fact]
    public void Smooth_Constant_StaysConstantFromTheFirstPoint() =>
        Assert.All(SeriesMath.Smooth([3, 3, 3, 3], 0.9), v => Assert.Equal(3, v, 9));

    [Fact]
    public void Smooth_NaN_StaysNaNWithoutDisturbingNeighbours()
    {
        var s = SeriesMath.Smooth([2, double.NaN, 2], 0.5);
        Assert.True(double.IsNaN(s[1]));
        Assert.Equal(2, s[2], 9);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    public void Smooth_WeightOutOfRange_Throws(double w) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesMath.Smooth([1], w));

    [Fact]
    public void Smoother_PointByPoint_MatchesSmoothOverTheWholeSeries()
    {
        double[] ys = [3, 1, double.NaN, 4, 1, 5, 9, double.PositiveInfinity, 2, 6];
        var smoother = new SeriesMath.Smoother(0.6);
        Assert.Equal(SeriesMath.Smooth(ys, 0.6), ys.Select(smoother.Next).ToArray());
    }
}
