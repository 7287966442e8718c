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

    [Theory]
    [InlineData(VoxelType.Int16, -2.0, 1.0)]
    [InlineData(VoxelType.UInt8, 0.5, -3.0)]
    [InlineData(VoxelType.Int32, 1.0, 0.0)]
    [InlineData(VoxelType.Float32, -2.0, 1.0)]
    public void ComputeStatistics_AnyTypeAndScaling_MatchesPerVoxelValues(VoxelType type, double slope, double intercept)
    {
        var raw = Volume.FromArray<double>([3, 0, 7, 1, 5, 2], [6, 1, 1]).ToDoubleArray();
        var bytes = type switch
        {
            VoxelType.Int16 => Volume.FromArray(raw.Select(v => (short)v).ToArray(), [6, 1, 1]).RawBytes.ToArray(),
            VoxelType.UInt8 => Volume.FromArray(raw.Select(v => (byte)v).ToArray(), [6, 1, 1]).RawBytes.ToArray(),
            VoxelType.Int32 => Volume.FromArray(raw.Select(v => (int)v).ToArray(), [6, 1, 1]).RawBytes.ToArray(),
            _ => Volume.FromArray(raw.Select(v => (float)v).ToArray(), [6, 1, 1]).RawBytes.ToArray(),
        };
        var v = new Volume(bytes, type, [6, 1, 1], VolumeGeometry.Identity, slope, intercept);
        var values = v.ToDoubleArray();

        var s = v.ComputeStatistics();

        Assert.Equal(values.Min(), s.Min);
        Assert.Equal(values.Max(), s.Max);
        Assert.Equal(values.Sum(), s.Sum, 1e-12);
        Assert.Equal(values.Average(), s.Mean, 1e-12);
        Assert.Equal(6, s.FiniteCount);
    }

    [Fact]
    public void Zooms_NotGiven_AreSpacingThenOnes()
    {
        var v = Volume.FromArray<byte>(new byte[8], [2, 2, 1, 2], VolumeGeometry.FromSpacing(0.5, 0.75, 2));
        Assert.Equal([0.5, 0.75, 2, 1], v.Zooms);
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

public class VolumeFloatCopyTests
{
    [Fact]
    public void ToFloatArray_UnscaledFloat32_IsTheStoredBitsIncludingNaNAndNegativeZero()
    {
        float[] data = [1.5f, -0f, float.NaN, BitConverter.Int32BitsToSingle(0x7fc00123), float.NegativeInfinity, 3e-45f, -7.25f, 0f];
        var volume = Volume.FromArray<float>(data, [2, 2, 2]);
        var copy = volume.ToFloatArray();
        Assert.Equal(data.Select(BitConverter.SingleToInt32Bits), copy.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(data.Select(v => (double)v).Select(BitConverter.DoubleToInt64Bits), volume.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void CopyTo_ReusedLongerDestination_WritesTheSameValuesAsToFloatArrayAndLeavesTheRest()
    {
        var volume = TestVolumes.Random(VoxelType.Int16, [9, 7, 5, 2], seed: 11, slope: 0.25, intercept: -3);
        var destination = Enumerable.Repeat(-99f, (int)volume.Count + 3).ToArray();
        var channel = new float[volume.VoxelsPerChannel];

        volume.CopyTo(destination);
        volume.CopyChannelTo(1, channel);

        Assert.Equal(volume.ToFloatArray(), destination[..(int)volume.Count]);
        Assert.Equal([-99f, -99f, -99f], destination[(int)volume.Count..]);
        Assert.Equal(volume.ChannelToFloatArray(1), channel);
    }

    [Fact]
    public void CopyTo_DestinationTooShortOrBadChannel_FailsNamingWhatIsNeeded()
    {
        var volume = TestVolumes.Random(VoxelType.UInt8, [4, 3, 2], seed: 12);

        var ex = Assert.Throws<ArgumentException>(() => volume.CopyTo(new float[23]));
        Assert.Contains("destination holds 23 values; the volume needs 24", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => volume.CopyChannelTo(1, new float[24]));
        Assert.Throws<ArgumentException>(() => volume.CopyChannelTo(0, new float[5]));
    }
}
