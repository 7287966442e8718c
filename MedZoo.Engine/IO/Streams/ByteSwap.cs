using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.IO.Streams;

/// <summary>Reverses the byte order of packed elements in place (vectorised by the BCL).</summary>
internal static class ByteSwap
{
    /// <summary>Swaps every <paramref name="elementSize"/>-byte element of <paramref name="data"/>.</summary>
    public static void InPlace(Span<byte> data, int elementSize)
    {
        switch (elementSize)
        {
            case 1:
                return;
            case 2:
                var s16 = MemoryMarshal.Cast<byte, ushort>(data);
                BinaryPrimitives.ReverseEndianness(s16, s16);
                return;
            case 4:
                var s32 = MemoryMarshal.Cast<byte, uint>(data);
                BinaryPrimitives.ReverseEndianness(s32, s32);
                return;
            case 8:
                var s64 = MemoryMarshal.Cast<byte, ulong>(data);
                BinaryPrimitives.ReverseEndianness(s64, s64);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(elementSize), elementSize, "element size must be 1, 2, 4 or 8");
        }
    }
}
