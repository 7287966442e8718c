using System.Numerics;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.IO;

/// <summary>
/// A volume as read from a file: voxels in their type of origin, a linear scaling
/// (value = raw × <see cref="Slope"/> + <see cref="Intercept"/>, NIfTI's scl_slope/scl_inter) and
/// geometry. Voxel order is the file order, i index fastest: element
/// <c>((c·Z + k)·Y + j)·X + i</c>, i.e. a C-order array of shape (C, Z, Y, X) — the layout of a
/// torch tensor (C, D, H, W) with D = k, H = j, W = i. Extra dimensions beyond the third (time
/// points, modalities of a 4D file) are flattened into channels.
/// Keeping the raw type makes round trips exact for every datatype (an int64 label survives a
/// write/read unchanged) and costs no more memory than the file's data.
/// <para>Disposing is optional: a volume that is simply dropped is collected like any array. Disposing
/// one that a reader returned hands its voxel buffer to the next read of a similar size, which then
/// skips the kernel's cost of fresh memory (what makes nibabel's uncompressed reads fast: Python frees
/// an array as soon as it is dropped). After <see cref="Dispose"/> the voxels are gone (accessing them
/// throws <see cref="ObjectDisposedException"/>); the shape, geometry and scaling stay readable.</para>
/// </summary>
public sealed class Volume : IDisposable
{
    private byte[]? _raw;
    private readonly int _length;
    private readonly bool _pooled;
    private readonly int[] _shape;
    private readonly double[] _zooms;

    /// <param name="raw">Voxels in <paramref name="dataType"/>, little-endian, file order; owned by the volume afterwards.</param>
    /// <param name="dataType">Storage type.</param>
    /// <param name="shape">Dimensions as the file declares them (at least 1; spatial first).</param>
    /// <param name="geometry">Voxel-to-world mapping.</param>
    /// <param name="slope">Scale applied on access; 0 or non-finite means no scaling (1).</param>
    /// <param name="intercept">Offset applied on access; non-finite means 0.</param>
    /// <param name="zooms">Grid spacing along every dimension of <paramref name="shape"/> (nibabel's
    /// get_zooms: mm for the spatial ones, e.g. seconds for time); empty means the geometry's spacing
    /// for the spatial dimensions and 1 for the others.</param>
    public Volume(byte[] raw, VoxelType dataType, ReadOnlySpan<int> shape, VolumeGeometry geometry, double slope = 1, double intercept = 0,
        ReadOnlySpan<double> zooms = default)
        : this(raw, raw?.Length ?? 0, pooled: false, dataType, shape, geometry, slope, intercept, zooms)
    {
    }

    /// <summary>
    /// A volume over the first <paramref name="length"/> bytes of <paramref name="buffer"/>; a
    /// <paramref name="pooled"/> buffer goes back to <see cref="Streams.VolumeBufferPool"/> on
    /// <see cref="Dispose"/> (readers only: nobody else may hold it).
    /// </summary>
    internal Volume(byte[] buffer, int length, bool pooled, VoxelType dataType, ReadOnlySpan<int> shape, VolumeGeometry geometry, double slope = 1, double intercept = 0,
        ReadOnlySpan<double> zooms = default)
    {
        ArgumentNullException.ThrowIfNull(buffer, "raw");
        ArgumentNullException.ThrowIfNull(geometry);
        if ((uint)length > (uint)buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"the buffer holds {buffer.Length} bytes");
        if (shape.Length is < 1 or > 7)
            throw new ArgumentException($"a volume has 1 to 7 dimensions, got {shape.Length}", nameof(shape));
        long count = 1;
        foreach (var d in shape)
        {
            if (d <= 0) throw new ArgumentException($"dimensions must be positive, got ({string.Join(", ", shape.ToArray())})", nameof(shape));
            count *= d;
        }
        if (count * dataType.Size() != length)
            throw new ArgumentException($"shape ({string.Join(", ", shape.ToArray())}) of {dataType.Name()} needs {count * dataType.Size()} bytes, got {length}", "raw");
        if (!zooms.IsEmpty && zooms.Length != shape.Length)
            throw new ArgumentException($"zooms must have one value per dimension ({shape.Length}), got {zooms.Length}", nameof(zooms));
        _raw = buffer;
        _length = length;
        _pooled = pooled;
        _shape = shape.ToArray();
        if (zooms.IsEmpty)
        {
            _zooms = new double[shape.Length];
            for (var d = 0; d < shape.Length; d++) _zooms[d] = d < 3 ? geometry.Spacing[d] : 1;
        }
        else
        {
            _zooms = zooms.ToArray();
        }
        DataType = dataType;
        Geometry = geometry;
        var noScale = slope == 0 || !double.IsFinite(slope);
        Slope = noScale ? 1 : slope;
        Intercept = noScale || !double.IsFinite(intercept) ? 0 : intercept;
    }

    /// <summary>Storage type of origin.</summary>
    public VoxelType DataType { get; }

    /// <summary>Dimensions as declared by the file, e.g. (X, Y, Z) or (X, Y, Z, T).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Grid spacing along each dimension of <see cref="Shape"/> (nibabel's get_zooms()).</summary>
    public IReadOnlyList<double> Zooms => _zooms;

    /// <summary>(X, Y, Z): the first three dimensions, 1 where the file has fewer.</summary>
    public (int X, int Y, int Z) Size => (_shape[0], _shape.Length > 1 ? _shape[1] : 1, _shape.Length > 2 ? _shape[2] : 1);

    /// <summary>Voxels per channel (X·Y·Z).</summary>
    public int VoxelsPerChannel => Size.X * Size.Y * Size.Z;

    /// <summary>Product of the dimensions beyond the third (1 for a 3D volume).</summary>
    public int Channels => _shape.Skip(3).Aggregate(1, (a, b) => a * b);

    /// <summary>Total number of voxels over all channels.</summary>
    public long Count => (long)VoxelsPerChannel * Channels;

    /// <summary>Scale applied to raw values (1 = none).</summary>
    public double Slope { get; }

    /// <summary>Offset applied to raw values (0 = none).</summary>
    public double Intercept { get; }

    /// <summary>True if values are stored raw × slope + intercept with a non-identity scaling.</summary>
    public bool IsScaled => Slope != 1 || Intercept != 0;

    /// <summary>Voxel-to-world mapping.</summary>
    public VolumeGeometry Geometry { get; }

    /// <summary>Raw storage bytes (little-endian, file order). Do not modify.</summary>
    public ReadOnlySpan<byte> RawBytes => Bytes;

    /// <summary>True once <see cref="Dispose"/> has released the voxels.</summary>
    public bool IsDisposed => _raw is null;

    private ReadOnlySpan<byte> Bytes => (_raw ?? throw new ObjectDisposedException(nameof(Volume), "the volume was disposed: its voxels are released")).AsSpan(0, _length);

    /// <summary>The storage array, for tests of buffer reuse.</summary>
    internal byte[]? Storage => _raw;

    /// <summary>
    /// Releases the voxels; a buffer a reader filled goes to the next read. Call it only when nothing
    /// else uses the volume (no other thread is reading it); calling it again does nothing.
    /// </summary>
    public void Dispose()
    {
        var raw = Interlocked.Exchange(ref _raw, null);
        if (raw is not null && _pooled) Streams.VolumeBufferPool.Return(raw);
    }

    /// <summary>Raw voxels reinterpreted as <typeparamref name="T"/>, which must match <see cref="DataType"/>.</summary>
    public ReadOnlySpan<T> Raw<T>() where T : unmanaged
    {
        if (Marshal.SizeOf<T>() != DataType.Size() || ClrType(DataType) != typeof(T))
            throw new InvalidOperationException($"volume holds {DataType.Name()}, not {typeof(T).Name}");
        return MemoryMarshal.Cast<byte, T>(Bytes);
    }

    /// <summary>Scaled values of every channel as float32 (shape (C, Z, Y, X) flattened).</summary>
    public float[] ToFloatArray()
    {
        ThrowIfDisposed();
        var result = Streams.LargeBuffer.Allocate<float>(checked((int)Count));
        CopyScaled<float>(0, Count, result);
        return result;
    }

    /// <summary>Scaled values of one channel as float32 (shape (Z, Y, X) flattened).</summary>
    public float[] ChannelToFloatArray(int channel)
    {
        CheckChannel(channel);
        var result = Streams.LargeBuffer.Allocate<float>(VoxelsPerChannel);
        CopyScaled<float>((long)channel * VoxelsPerChannel, VoxelsPerChannel, result);
        return result;
    }

    /// <summary>
    /// Writes the scaled values of every channel as float32 to the start of
    /// <paramref name="destination"/> (at least <see cref="Count"/> long), e.g. a tensor's storage or a
    /// reused array: the same values as <see cref="ToFloatArray"/> without a new array.
    /// </summary>
    public void CopyTo(Span<float> destination)
    {
        ThrowIfDisposed();
        CheckDestination(destination.Length, Count);
        CopyScaled(0, Count, destination);
    }

    /// <summary>Writes one channel's scaled values as float32 to the start of <paramref name="destination"/> (see <see cref="CopyTo"/>).</summary>
    public void CopyChannelTo(int channel, Span<float> destination)
    {
        CheckChannel(channel);
        CheckDestination(destination.Length, VoxelsPerChannel);
        CopyScaled((long)channel * VoxelsPerChannel, VoxelsPerChannel, destination);
    }

    /// <summary>Scaled values of every channel as float64.</summary>
    public double[] ToDoubleArray()
    {
        ThrowIfDisposed();
        var result = Streams.LargeBuffer.Allocate<double>(checked((int)Count));
        CopyScaled<double>(0, Count, result);
        return result;
    }

    private void ThrowIfDisposed() => _ = Bytes;

    private void CheckChannel(int channel)
    {
        ThrowIfDisposed();
        if ((uint)channel >= (uint)Channels)
            throw new ArgumentOutOfRangeException(nameof(channel), channel, $"volume has {Channels} channel(s)");
    }

    private static void CheckDestination(int length, long needed)
    {
        if (length < needed)
            throw new ArgumentException($"destination holds {length} values; the volume needs {needed}", "destination");
    }

    /// <summary>Scaled value of one element (flat index in file order).</summary>
    public double GetValue(long index)
    {
        if ((ulong)index >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(index));
        return RawAt(index) * Slope + Intercept;
    }

    /// <summary>Min, max, mean and sum over finite scaled values (all channels), and NaN count.</summary>
    public VoxelStatistics ComputeStatistics()
    {
        // Integers up to 32 bits have no NaN/∞ and sum exactly in a long: one tight pass over the raw
        // values, then the affine scaling applied to min, max and sum (a slope < 0 swaps min and max).
        (double Min, double Max, long Sum)? raw = DataType switch
        {
            VoxelType.UInt8 => IntegerStatistics<byte>(Bytes),
            VoxelType.Int8 => IntegerStatistics(MemoryMarshal.Cast<byte, sbyte>(Bytes)),
            VoxelType.UInt16 => IntegerStatistics(MemoryMarshal.Cast<byte, ushort>(Bytes)),
            VoxelType.Int16 => IntegerStatistics(MemoryMarshal.Cast<byte, short>(Bytes)),
            VoxelType.UInt32 => IntegerStatistics(MemoryMarshal.Cast<byte, uint>(Bytes)),
            VoxelType.Int32 => IntegerStatistics(MemoryMarshal.Cast<byte, int>(Bytes)),
            _ => null,
        };
        if (raw is var (rawMin, rawMax, rawSum))
        {
            double lo = rawMin * Slope + Intercept, hi = rawMax * Slope + Intercept;
            var total = IsScaled ? rawSum * Slope + Intercept * Count : rawSum;
            return new VoxelStatistics(Math.Min(lo, hi), Math.Max(lo, hi), total / Count, total, 0, Count);
        }
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        long finite = 0, nans = 0;
        // Kahan-free pairwise-ish accumulation: blocks keep float64 error well below test tolerances.
        const int block = 4096;
        var buffer = new double[block];
        for (long start = 0; start < Count; start += block)
        {
            var n = (int)Math.Min(block, Count - start);
            CopyScaled<double>(start, n, buffer);
            double blockSum = 0;
            for (var i = 0; i < n; i++)
            {
                var v = buffer[i];
                if (double.IsNaN(v)) { nans++; continue; }
                if (double.IsInfinity(v)) continue;
                finite++;
                blockSum += v;
                if (v < min) min = v;
                if (v > max) max = v;
            }
            sum += blockSum;
        }
        return finite == 0
            ? new VoxelStatistics(double.NaN, double.NaN, double.NaN, 0, nans, finite)
            : new VoxelStatistics(min, max, sum / finite, sum, nans, finite);
    }

    private static (double Min, double Max, long Sum) IntegerStatistics<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryInteger<T>
    {
        T min = values[0], max = values[0];
        long sum = 0;
        foreach (var v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
            sum += long.CreateTruncating(v);
        }
        return (double.CreateTruncating(min), double.CreateTruncating(max), sum);
    }

    private double RawAt(long i) => DataType switch
    {
        VoxelType.UInt8 => Bytes[(int)i],
        VoxelType.Int8 => (sbyte)Bytes[(int)i],
        VoxelType.UInt16 => MemoryMarshal.Cast<byte, ushort>(Bytes)[(int)i],
        VoxelType.Int16 => MemoryMarshal.Cast<byte, short>(Bytes)[(int)i],
        VoxelType.UInt32 => MemoryMarshal.Cast<byte, uint>(Bytes)[(int)i],
        VoxelType.Int32 => MemoryMarshal.Cast<byte, int>(Bytes)[(int)i],
        VoxelType.UInt64 => MemoryMarshal.Cast<byte, ulong>(Bytes)[(int)i],
        VoxelType.Int64 => MemoryMarshal.Cast<byte, long>(Bytes)[(int)i],
        VoxelType.Float32 => MemoryMarshal.Cast<byte, float>(Bytes)[(int)i],
        VoxelType.Float64 => MemoryMarshal.Cast<byte, double>(Bytes)[(int)i],
        _ => throw new InvalidOperationException(),
    };

    private void CopyScaled<TOut>(long start, long count, Span<TOut> dest) where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        var s = (int)start;
        var n = (int)count;
        switch (DataType)
        {
            case VoxelType.UInt8: Convert(Bytes.Slice(s, n), dest); break;
            case VoxelType.Int8: Convert(MemoryMarshal.Cast<byte, sbyte>(Bytes).Slice(s, n), dest); break;
            case VoxelType.UInt16: Convert(MemoryMarshal.Cast<byte, ushort>(Bytes).Slice(s, n), dest); break;
            case VoxelType.Int16: Convert(MemoryMarshal.Cast<byte, short>(Bytes).Slice(s, n), dest); break;
            case VoxelType.UInt32: Convert(MemoryMarshal.Cast<byte, uint>(Bytes).Slice(s, n), dest); break;
            case VoxelType.Int32: Convert(MemoryMarshal.Cast<byte, int>(Bytes).Slice(s, n), dest); break;
            case VoxelType.UInt64: Convert(MemoryMarshal.Cast<byte, ulong>(Bytes).Slice(s, n), dest); break;
            case VoxelType.Int64: Convert(MemoryMarshal.Cast<byte, long>(Bytes).Slice(s, n), dest); break;
            case VoxelType.Float32: Convert(MemoryMarshal.Cast<byte, float>(Bytes).Slice(s, n), dest); break;
            case VoxelType.Float64: Convert(MemoryMarshal.Cast<byte, double>(Bytes).Slice(s, n), dest); break;
        }
    }

    private void Convert<TIn, TOut>(ReadOnlySpan<TIn> src, Span<TOut> dest)
        where TIn : unmanaged, INumberBase<TIn>
        where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        if (!IsScaled)
        {
            // Already the target's type (float32 or float64 files): a block copy, no per-voxel work.
            if (typeof(TIn) == typeof(TOut))
            {
                MemoryMarshal.AsBytes(src).CopyTo(MemoryMarshal.AsBytes(dest));
                return;
            }
            if (typeof(TOut) == typeof(float) && Streams.VoxelConvert.TryToSingle(src, MemoryMarshal.Cast<TOut, float>(dest), false, 1, 0)) return;
            for (var i = 0; i < src.Length; i++) dest[i] = TOut.CreateTruncating(src[i]);
            return;
        }
        if (typeof(TOut) == typeof(float) && Streams.VoxelConvert.TryToSingle(src, MemoryMarshal.Cast<TOut, float>(dest), true, Slope, Intercept)) return;
        // Scale in float64 whatever the output, as nibabel does, so float32 output is correctly rounded.
        for (var i = 0; i < src.Length; i++)
            dest[i] = TOut.CreateTruncating(double.CreateTruncating(src[i]) * Slope + Intercept);
    }

    /// <summary>The CLR type that stores <paramref name="t"/>.</summary>
    public static Type ClrType(VoxelType t) => t switch
    {
        VoxelType.UInt8 => typeof(byte),
        VoxelType.Int8 => typeof(sbyte),
        VoxelType.UInt16 => typeof(ushort),
        VoxelType.Int16 => typeof(short),
        VoxelType.UInt32 => typeof(uint),
        VoxelType.Int32 => typeof(int),
        VoxelType.UInt64 => typeof(ulong),
        VoxelType.Int64 => typeof(long),
        VoxelType.Float32 => typeof(float),
        VoxelType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static VoxelType VoxelTypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(byte) ? VoxelType.UInt8
        : typeof(T) == typeof(sbyte) ? VoxelType.Int8
        : typeof(T) == typeof(ushort) ? VoxelType.UInt16
        : typeof(T) == typeof(short) ? VoxelType.Int16
        : typeof(T) == typeof(uint) ? VoxelType.UInt32
        : typeof(T) == typeof(int) ? VoxelType.Int32
        : typeof(T) == typeof(ulong) ? VoxelType.UInt64
        : typeof(T) == typeof(long) ? VoxelType.Int64
        : typeof(T) == typeof(float) ? VoxelType.Float32
        : typeof(T) == typeof(double) ? VoxelType.Float64
        : throw new NotSupportedException($"{typeof(T).Name} is not a voxel type");

    /// <summary>
    /// A volume over a copy of <paramref name="data"/> (file order, i fastest; channels last in
    /// <paramref name="shape"/>), e.g. a float32 image or a uint8 label map.
    /// </summary>
    public static Volume FromArray<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape, VolumeGeometry? geometry = null) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data).ToArray();
        return new Volume(bytes, VoxelTypeOf<T>(), shape, geometry ?? VolumeGeometry.Identity);
    }

    /// <summary>
    /// A new volume on the same grid and geometry as <paramref name="like"/> (e.g. a prediction for
    /// an input), with <paramref name="channels"/> channels of <paramref name="data"/>.
    /// </summary>
    public static Volume Like<T>(Volume like, ReadOnlySpan<T> data, int channels = 1) where T : unmanaged
    {
        var (x, y, z) = like.Size;
        int[] shape = channels == 1 && like._shape.Length <= 3 ? like._shape.ToArray() : channels == 1 ? [x, y, z] : [x, y, z, channels];
        return FromArray(data, shape, like.Geometry);
    }
}

/// <summary>Statistics over finite scaled voxel values; NaN when there is none.</summary>
public readonly record struct VoxelStatistics(double Min, double Max, double Mean, double Sum, long NanCount, long FiniteCount);
