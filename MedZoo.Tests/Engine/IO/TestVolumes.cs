using System.Runtime.InteropServices;
using MedZoo.Engine.IO;

namespace MedZoo.Tests.Engine.IO;

/// <summary>Small volumes with awkward values (type extremes, NaN, ±∞) for round-trip and fuzz tests.</summary>
internal static class TestVolumes
{
    /// <summary>
    /// An affine float32 represents exactly (so NIfTI-1 keeps it bit for bit): axes permuted and
    /// flipped, anisotropic spacing, offsets with fractions.
    /// </summary>
    public static VolumeGeometry PermutedGeometry(WorldSpace space = WorldSpace.Mni152) =>
        new([0, 0, -2.5, 90.25, -1.5, 0, 0, 126.5, 0, 1.25, 0, -72.125, 0, 0, 0, 1], [1.5, 1.25, 2.5], space);

    /// <summary>Random raw values of <paramref name="type"/> including its minimum and maximum (and NaN/±∞ for floats).</summary>
    public static byte[] RandomRaw(VoxelType type, long count, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[count * type.Size()];
        rng.NextBytes(bytes);
        switch (type)
        {
            case VoxelType.Float32:
                var f = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
                for (var i = 0; i < f.Length; i++) f[i] = (float)(rng.NextDouble() * 2000 - 1000);
                f[0] = float.NaN; f[1] = float.PositiveInfinity; f[2] = float.NegativeInfinity; f[3] = float.MaxValue; f[4] = -0f;
                break;
            case VoxelType.Float64:
                var d = MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
                for (var i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2e6 - 1e6;
                d[0] = double.NaN; d[1] = double.PositiveInfinity; d[2] = double.Epsilon; d[3] = double.MinValue;
                break;
            default:
                // Random bytes already span the type; make sure both extremes occur.
                var size = type.Size();
                var signed = type is VoxelType.Int8 or VoxelType.Int16 or VoxelType.Int32 or VoxelType.Int64;
                for (var b = 0; b < size; b++)
                {
                    bytes[b] = 0xFF;
                    bytes[size + b] = 0;
                }
                if (signed)
                {
                    bytes[size - 1] = 0x7F;           // element 0 = max
                    bytes[2 * size - 1] = 0x80;       // element 1 = min
                }
                break;
        }
        return bytes;
    }

    /// <summary>A volume of <paramref name="type"/> with the given shape, geometry and scaling.</summary>
    public static Volume Random(VoxelType type, int[] shape, int seed, VolumeGeometry? geometry = null, double slope = 1, double intercept = 0, double[]? zooms = null)
    {
        var count = shape.Aggregate(1L, (a, b) => a * b);
        return new Volume(RandomRaw(type, count, seed), type, shape, geometry ?? PermutedGeometry(), slope, intercept, zooms);
    }
}
