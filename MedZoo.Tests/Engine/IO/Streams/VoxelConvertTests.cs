using System.Runtime.InteropServices;
using MedZoo.Engine.IO;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Tests.Engine.IO.Streams;

/// <summary>The SIMD integer → float32 conversion gives exactly the scalar results, at every length and type.</summary>
public class VoxelConvertTests
{
    public static TheoryData<VoxelType, int, bool> Cases()
    {
        var data = new TheoryData<VoxelType, int, bool>();
        foreach (var type in new[] { VoxelType.UInt8, VoxelType.Int8, VoxelType.Int16, VoxelType.UInt16, VoxelType.Int32 })
        foreach (var length in new[] { 2, 7, 31, 64, 1013, 4099 })
        foreach (var scaled in new[] { false, true })
            data.Add(type, length, scaled);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryToSingle_IntegerTypes_MatchesTheScalarConversionBitForBit(VoxelType type, int length, bool scaled)
    {
        var raw = TestVolumes.RandomRaw(type, length, seed: length * 31 + (int)type);
        const double slope = 0.3711, intercept = -1024.25;
        var expected = new float[length];
        var volume = new Volume(raw, type, [length], VolumeGeometry.Identity);
        // The scalar reference: float64 value, times slope plus intercept (separately rounded), to float32.
        for (var i = 0; i < length; i++)
            expected[i] = scaled ? (float)(volume.GetValue(i) * slope + intercept) : (float)volume.GetValue(i);
        var actual = new float[length];

        var done = type switch
        {
            VoxelType.UInt8 => VoxelConvert.TryToSingle<byte>(raw, actual, scaled, slope, intercept),
            VoxelType.Int8 => VoxelConvert.TryToSingle(MemoryMarshal.Cast<byte, sbyte>(raw), actual, scaled, slope, intercept),
            VoxelType.Int16 => VoxelConvert.TryToSingle(MemoryMarshal.Cast<byte, short>(raw), actual, scaled, slope, intercept),
            VoxelType.UInt16 => VoxelConvert.TryToSingle(MemoryMarshal.Cast<byte, ushort>(raw), actual, scaled, slope, intercept),
            _ => VoxelConvert.TryToSingle(MemoryMarshal.Cast<byte, int>(raw), actual, scaled, slope, intercept),
        };

        Assert.True(done);
        Assert.Equal(MemoryMarshal.Cast<float, int>(expected).ToArray(), MemoryMarshal.Cast<float, int>(actual).ToArray());
    }

    [Fact]
    public void TryToSingle_TypesItDoesNotConvert_ReturnsFalseAndWritesNothing()
    {
        var dest = new float[4];

        Assert.False(VoxelConvert.TryToSingle<long>([1, 2, 3, 4], dest, false, 1, 0));
        Assert.False(VoxelConvert.TryToSingle<double>([1, 2, 3, 4], dest, true, 2, 0));
        Assert.All(dest, v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() => VoxelConvert.TryToSingle<short>([1, 2, 3], new float[2], false, 1, 0));
    }

    [Theory]
    [InlineData(VoxelType.UInt8, 1.0, 0.0)]
    [InlineData(VoxelType.Int16, 1.0, 0.0)]
    [InlineData(VoxelType.Int16, 0.0123, 17.5)]
    [InlineData(VoxelType.UInt16, -2.5, 3.0)]
    [InlineData(VoxelType.Int32, 1e-3, -7.0)]
    public void ToFloatArray_IntegerVolumes_EqualsEveryScaledValueRoundedToFloat(VoxelType type, double slope, double intercept)
    {
        var volume = TestVolumes.Random(type, [17, 13, 11, 2], seed: 5, slope: slope, intercept: intercept);

        var values = volume.ToFloatArray();
        var channel = volume.ChannelToFloatArray(1);

        for (var i = 0; i < values.Length; i++) Assert.Equal((float)volume.GetValue(i), values[i]);
        Assert.Equal(values[(17 * 13 * 11)..], channel);
    }
}
