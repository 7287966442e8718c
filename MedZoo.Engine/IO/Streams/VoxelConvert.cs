using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.IO.Streams;

/// <summary>
/// Integer voxels (8, 16 or 32 bits) to float32 with SIMD widening, whole vectors at a time: the
/// conversion every image takes on its way to a tensor (uint8 and int16 are the common MRI and CT
/// types). The results are bit for bit those of the scalar conversion: unscaled values convert with
/// round-to-nearest as <c>(float)value</c> does, and scaled ones are computed in float64 as
/// <c>(float)(value × slope + intercept)</c> — a multiply then an add, never a fused multiply-add, so
/// they match nibabel's float64 scaling rounded to float32.
/// </summary>
internal static class VoxelConvert
{
    /// <summary>
    /// Writes <paramref name="source"/>'s values (scaled when <paramref name="scaled"/>) to
    /// <paramref name="destination"/> if <typeparamref name="TIn"/> is byte, sbyte, short, ushort or
    /// int; returns false (and writes nothing) for other types.
    /// </summary>
    public static bool TryToSingle<TIn>(ReadOnlySpan<TIn> source, Span<float> destination, bool scaled, double slope, double intercept)
        where TIn : unmanaged
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination holds {destination.Length} values, source {source.Length}", nameof(destination));
        var scale = new Scale(scaled, slope, intercept);
        if (typeof(TIn) == typeof(byte)) Bytes(MemoryMarshal.Cast<TIn, byte>(source), destination, scale);
        else if (typeof(TIn) == typeof(sbyte)) SBytes(MemoryMarshal.Cast<TIn, sbyte>(source), destination, scale);
        else if (typeof(TIn) == typeof(short)) Shorts(MemoryMarshal.Cast<TIn, short>(source), destination, scale);
        else if (typeof(TIn) == typeof(ushort)) UShorts(MemoryMarshal.Cast<TIn, ushort>(source), destination, scale);
        else if (typeof(TIn) == typeof(int)) Ints(MemoryMarshal.Cast<TIn, int>(source), destination, scale);
        else return false;
        return true;
    }

    private readonly struct Scale(bool scaled, double slope, double intercept)
    {
        public readonly bool Scaled = scaled;
        public readonly double Slope = slope;
        public readonly double Intercept = intercept;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float One(int value) => Scaled ? (float)(value * Slope + Intercept) : value;

        /// <summary>Converts one vector of ints and stores it at <paramref name="at"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<int> values, Span<float> destination, int at)
        {
            ref var target = ref MemoryMarshal.GetReference(destination);
            if (!Scaled)
            {
                Vector.ConvertToSingle(values).StoreUnsafe(ref target, (nuint)at);
                return;
            }
            Vector.Widen(values, out var low, out var high);
            var s = new Vector<double>(Slope);
            var c = new Vector<double>(Intercept);
            var a = Vector.ConvertToDouble(low) * s + c;
            var b = Vector.ConvertToDouble(high) * s + c;
            Vector.Narrow(a, b).StoreUnsafe(ref target, (nuint)at);
        }
    }

    private static void Bytes(ReadOnlySpan<byte> source, Span<float> destination, Scale scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref var from = ref MemoryMarshal.GetReference(source);
            var step = Vector<byte>.Count;
            var quarter = Vector<int>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(Vector.LoadUnsafe(ref from, (nuint)i), out var u0, out var u1);
                Vector.Widen(u0, out var a, out var b);
                Vector.Widen(u1, out var c, out var d);
                scale.Store(Vector.AsVectorInt32(a), destination, i);
                scale.Store(Vector.AsVectorInt32(b), destination, i + quarter);
                scale.Store(Vector.AsVectorInt32(c), destination, i + 2 * quarter);
                scale.Store(Vector.AsVectorInt32(d), destination, i + 3 * quarter);
            }
        }
        for (; i < source.Length; i++) destination[i] = scale.One(source[i]);
    }

    private static void SBytes(ReadOnlySpan<sbyte> source, Span<float> destination, Scale scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref var from = ref MemoryMarshal.GetReference(source);
            var step = Vector<sbyte>.Count;
            var quarter = Vector<int>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(Vector.LoadUnsafe(ref from, (nuint)i), out var s0, out var s1);
                Vector.Widen(s0, out var a, out var b);
                Vector.Widen(s1, out var c, out var d);
                scale.Store(a, destination, i);
                scale.Store(b, destination, i + quarter);
                scale.Store(c, destination, i + 2 * quarter);
                scale.Store(d, destination, i + 3 * quarter);
            }
        }
        for (; i < source.Length; i++) destination[i] = scale.One(source[i]);
    }

    private static void Shorts(ReadOnlySpan<short> source, Span<float> destination, Scale scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref var from = ref MemoryMarshal.GetReference(source);
            var step = Vector<short>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(Vector.LoadUnsafe(ref from, (nuint)i), out var a, out var b);
                scale.Store(a, destination, i);
                scale.Store(b, destination, i + Vector<int>.Count);
            }
        }
        for (; i < source.Length; i++) destination[i] = scale.One(source[i]);
    }

    private static void UShorts(ReadOnlySpan<ushort> source, Span<float> destination, Scale scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref var from = ref MemoryMarshal.GetReference(source);
            var step = Vector<ushort>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(Vector.LoadUnsafe(ref from, (nuint)i), out var a, out var b);
                // Values below 2^16 are the same as int32 and as uint32.
                scale.Store(Vector.AsVectorInt32(a), destination, i);
                scale.Store(Vector.AsVectorInt32(b), destination, i + Vector<int>.Count);
            }
        }
        for (; i < source.Length; i++) destination[i] = scale.One(source[i]);
    }

    private static void Ints(ReadOnlySpan<int> source, Span<float> destination, Scale scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref var from = ref MemoryMarshal.GetReference(source);
            var step = Vector<int>.Count;
            for (; i <= source.Length - step; i += step)
                scale.Store(Vector.LoadUnsafe(ref from, (nuint)i), destination, i);
        }
        for (; i < source.Length; i++) destination[i] = scale.One(source[i]);
    }
}
