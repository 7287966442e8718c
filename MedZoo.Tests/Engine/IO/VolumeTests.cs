using MedZoo.Engine.IO;

namespace MedZoo.Tests.Engine.IO;

public class VolumeTests
{
    [Fact]
    public void FromArray_Int16WithScaling_ReturnsScaledValues()
    {
        var v = new Volume(Volume.FromArray<short>([1, -2, 3, 4], [2, 2, 1]).RawBytes.ToArray(), VoxelType.Int16, [2, 2, 1],
            VolumeGeometry.Identity, slope: 0.5, intercept: 10);
        Assert.Equal([10.5f, 9f, 11.5f, 12f], v.ToFloatArray());
        var s = v.ComputeStatistics();
        Assert.Equal(9, s.Min);
        Assert.Equal(12, s.Max);
        Assert.Equal(43, s.Sum);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(double.NaN)]
    public void Constructor_ZeroOrNaNSlope_MeansNoScaling(double slope)
    {
        var v = new Volume([7], VoxelType.UInt8, [1, 1, 1], VolumeGeometry.Identity, slope, intercept: 3);
        Assert.False(v.IsScaled);
        Assert.Equal(7, v.GetValue(0));
    }

    [Fact]
    public void ComputeStatistics_CountsNaNsAndIgnoresThem()
    {
        var v = Volume.FromArray<float>([1f, float.NaN, 3f, float.PositiveInfinity], [4, 1, 1]);
        var s = v.ComputeStatistics();
        Assert.Equal(1, s.NanCount);
        Assert.Equal(2, s.FiniteCount);
        Assert.Equal(2, s.Mean);
    }

    [Fact]
    public void Shape4D_FlattensExtraDimensionsIntoChannels()
    {
        var v = Volume.FromArray<byte>(new byte[2 * 3 * 4 * 5], [2, 3, 4, 5]);
        Assert.Equal(5, v.Channels);
        Assert.Equal(24, v.VoxelsPerChannel);
        Assert.Equal((2, 3, 4), v.Size);
    }

    [Fact]
    public void Constructor_ByteCountMismatch_ThrowsNamingShape()
    {
        var e = Assert.Throws<ArgumentException>(() => new Volume(new byte[5], VoxelType.Int16, [2, 2, 1], VolumeGeometry.Identity));
        Assert.Contains("(2, 2, 1)", e.Message);
    }

    [Theory]
    [InlineData(new double[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 }, "RAS")]
    [InlineData(new double[] { -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0 }, "LPS")]
    [InlineData(new double[] { -2, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0 }, "LSA")]
    public void Orientation_FollowsAffineColumns(double[] first12, string expected)
    {
        var g = new VolumeGeometry([.. first12, 0, 0, 0, 1]);
        Assert.Equal(expected, g.Orientation);
    }
}
