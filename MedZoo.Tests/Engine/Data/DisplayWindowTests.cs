using MedZoo.Engine.Data;

namespace MedZoo.Tests.Engine.Data;

public sealed class DisplayWindowTests
{
    [Fact]
    public void Of_OneToTen_IsNumpysPercentiles()
    {
        // /usr/bin/python3 -c "import numpy as np; print(np.percentile(np.arange(1, 11), [1, 99]))" → [1.09 9.91].
        // Index-based windows (floor(n·p) or floor((n−1)·p), which training previews and the viewer used) give 1 and 9.
        var (low, high) = DisplayWindow.Of([0, 3, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, float.NaN, float.PositiveInfinity]);
        Assert.Equal(1.09f, low, 1e-5f);
        Assert.Equal(9.91f, high, 1e-5f);
    }

    [Fact]
    public void Of_ScrambledValues_MatchesNumpy()
    {
        // v = ((i·7919) mod 1000)/10 − 20 for i < 1000 as float32; numpy.percentile(v[v != 0], [1, 99]) = [-19.002, 78.902].
        var image = new float[1000];
        for (var i = 0; i < image.Length; i++) image[i] = (float)(((i * 7919) % 1000) / 10.0 - 20);
        var (low, high) = DisplayWindow.Of(image);
        Assert.Equal(-19.002f, low, 1e-3f);
        Assert.Equal(78.902f, high, 1e-3f);
    }

    [Fact]
    public void Of_NothingButZerosAndNaN_IsZeroToOne() =>
        Assert.Equal((0f, 1f), DisplayWindow.Of([0, 0, float.NaN]));

    [Theory]
    [InlineData(-5f, 0)]
    [InlineData(10f, 0)]
    [InlineData(15f, 127)]
    [InlineData(20f, 255)]
    [InlineData(1e9f, 255)]
    public void ToByte_WindowTenToTwenty_MapsLinearlyAndClamps(float value, byte expected) =>
        Assert.Equal(expected, DisplayWindow.ToByte(value, 10, 20));

    [Fact]
    public void ToByte_EmptyWindow_IsZero() => Assert.Equal(0, DisplayWindow.ToByte(5, 3, 3));
}
