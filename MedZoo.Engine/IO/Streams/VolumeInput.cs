using System.Buffers.Binary;
using System.IO.Compression;

namespace MedZoo.Engine.IO.Streams;

/// <summary>How the bytes of a <see cref="VolumeInput"/> are stored on disk.</summary>
internal enum InputCompression
{
    None,
    Gzip,
    Zlib,
}

/// <summary>
/// A forward-only reader over one file (or a region of it), decompressing gzip or zlib on the fly
/// so compressed data is inflated exactly once. It knows an upper bound for how many bytes the
/// file can possibly yield (<see cref="MaxLength"/>: the file size, or the compressed size times
/// deflate's maximum expansion), so readers can reject a header that claims more before they
/// allocate anything, and it turns early ends and corrupt compression into
/// <see cref="VolumeFormatException"/>s naming the file.
/// </summary>
internal sealed class VolumeInput : IDisposable
{
    /// <summary>
    /// Deflate cannot expand data by more than about 1032:1 (a 258-byte match costs at least two
    /// bits); with gzip/zlib framing a compressed file of n bytes never inflates to more than this
    /// many times n.
    /// </summary>
    public const long MaxDeflateRatio = 1032;

    private const int FileBufferSize = 1 << 16;
    private const int GrowStart = 1 << 20;

    private readonly FileStream _file;
    private readonly Stream _stream;
    private readonly long _regionStart;
    private readonly long _regionLength;
    private readonly uint? _gzipSizeHint;

    private VolumeInput(string path, FileStream file, Stream stream, InputCompression compression, long regionStart, long regionLength, uint? gzipSizeHint)
    {
        Path = path;
        _file = file;
        _stream = stream;
        Compression = compression;
        _regionStart = regionStart;
        _regionLength = regionLength;
        _gzipSizeHint = gzipSizeHint;
    }

    /// <summary>The file read (named in error messages).</summary>
    public string Path { get; }

    /// <summary>Compression of the region.</summary>
    public InputCompression Compression { get; }

    /// <summary>True when the bytes are inflated from gzip or zlib.</summary>
    public bool IsCompressed => Compression != InputCompression.None;

    /// <summary>Bytes of the region on disk (compressed size when compressed).</summary>
    public long StoredLength => _regionLength;

    /// <summary>Bytes consumed so far (decompressed).</summary>
    public long Position { get; private set; }

    /// <summary>Most bytes the region can yield: its size, or the deflate bound of its compressed size.</summary>
    public long MaxLength => IsCompressed ? _regionLength * MaxDeflateRatio + 1024 : _regionLength;

    /// <summary>Opens a whole file; gzip is recognised by its magic bytes, whatever the extension.</summary>
    public static VolumeInput OpenFile(string path)
    {
        var file = OpenStream(path);
        try
        {
            var length = file.Length;
            Span<byte> magic = stackalloc byte[2];
            var isGzip = length >= 18 && file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            if (!isGzip)
            {
                file.Position = 0;
                return new VolumeInput(path, file, file, InputCompression.None, 0, length, null);
            }
            // The gzip trailer's ISIZE (uncompressed size mod 2^32) is only a hint: it is used to
            // allocate the data buffer once when it agrees with the header, never trusted otherwise.
            Span<byte> trailer = stackalloc byte[4];
            file.Position = length - 4;
            file.ReadExactly(trailer);
            file.Position = 0;
            var hint = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            return new VolumeInput(path, file, gzip, InputCompression.Gzip, 0, length, hint);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the region of <paramref name="path"/> that starts at <paramref name="offset"/>
    /// (MetaImage data after a text header, or in a separate raw file), optionally zlib-compressed;
    /// <paramref name="storedLength"/> is its size on disk, null for the rest of the file.
    /// </summary>
    public static VolumeInput OpenRegion(string path, long offset, long? storedLength, bool zlib)
    {
        var file = OpenStream(path);
        try
        {
            var length = file.Length;
            if (offset > length)
                throw new VolumeFormatException(path, $"data should start at byte {offset} but the file has only {length} bytes");
            var available = length - offset;
            var region = storedLength is { } s ? Math.Min(s, available) : available;
            file.Position = offset;
            Stream stream = zlib ? new ZLibStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
            return new VolumeInput(path, file, stream, zlib ? InputCompression.Zlib : InputCompression.None, offset, region, null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static FileStream OpenStream(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"{System.IO.Path.GetFileName(path)}: no such file ({path})", path, e);
        }
    }

    /// <summary>An exception naming this file.</summary>
    public VolumeFormatException Fail(string problem, Exception? inner = null) => new(Path, problem, inner);

    /// <summary>Reads until <paramref name="buffer"/> is full or the data ends; returns the count read.</summary>
    public int ReadUpTo(Span<byte> buffer)
    {
        if (!IsCompressed)
        {
            // Never read past the region (a .mhd raw region or a LOCAL .mha data block).
            var left = _regionLength - Position;
            if (left < buffer.Length) buffer = buffer[..(int)Math.Max(0, left)];
        }
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = _stream.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            Position += total;
            throw Fail($"{CompressionName} data is corrupt after {Position} decompressed bytes ({e.Message})", e);
        }
        Position += total;
        return total;
    }

    /// <summary>Fills <paramref name="buffer"/> or fails naming <paramref name="what"/>.</summary>
    public void ReadExactly(Span<byte> buffer, string what)
    {
        var start = Position;
        var n = ReadUpTo(buffer);
        if (n < buffer.Length)
            throw Fail($"file ends after {start + n} bytes while reading {what} ({buffer.Length} bytes from byte {start}){TruncationHint}");
    }

    /// <summary>One byte, or -1 at the end.</summary>
    public int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return ReadUpTo(one) == 1 ? one[0] : -1;
    }

    /// <summary>Skips forward to <paramref name="offset"/> (extensions, padding, a MetaImage header).</summary>
    public void SkipTo(long offset, string what)
    {
        if (offset < Position)
            throw new InvalidOperationException($"cannot skip backwards from {Position} to {offset}");
        if (offset > MaxLength)
            throw Fail($"{what} starts at byte {offset}, past the end of the file ({DescribeBound()})");
        if (!IsCompressed)
        {
            _file.Position = _regionStart + offset;
            Position = offset;
            return;
        }
        var scratch = new byte[(int)Math.Min(1 << 16, offset - Position)];
        while (Position < offset)
        {
            var want = (int)Math.Min(scratch.Length, offset - Position);
            var n = ReadUpTo(scratch.AsSpan(0, want));
            if (n < want)
                throw Fail($"file ends after {Position} decompressed bytes, before {what} at byte {offset}{TruncationHint}");
        }
    }

    /// <summary>
    /// Reads <paramref name="count"/> bytes of voxel data into a new array of exactly that length. The
    /// caller has checked <paramref name="count"/> against <see cref="MaxLength"/>; for compressed input
    /// whose gzip size hint does not confirm the size, the array grows as data actually arrives, so a
    /// lying header costs at most about twice the data really present, never what it claims.
    /// </summary>
    public byte[] ReadData(long count, string what)
    {
        CheckDataSize(count, what);
        if (!IsSizeTrusted(count)) return ReadGrowing(count, what);
        var buffer = LargeBuffer.Allocate((int)count);
        FillTrusted(buffer, what);
        return buffer;
    }

    /// <summary>
    /// Like <see cref="ReadData"/>, but into a buffer from <see cref="VolumeBufferPool"/> where the size
    /// is known up front: the first <see cref="VoxelBuffer.Length"/> bytes of
    /// <see cref="VoxelBuffer.Array"/> are the data, and a <see cref="VoxelBuffer.Pooled"/> array goes
    /// back to the pool when its volume is disposed. Uncompressed data arrives with one positional read
    /// straight into that buffer, bypassing the stream's own buffer.
    /// </summary>
    public VoxelBuffer ReadVoxels(long count, string what)
    {
        CheckDataSize(count, what);
        if (!IsSizeTrusted(count)) return new VoxelBuffer(ReadGrowing(count, what), (int)count, false);
        var (buffer, pooled) = VolumeBufferPool.Rent((int)count);
        try
        {
            FillTrusted(buffer.AsSpan(0, (int)count), what);
        }
        catch
        {
            if (pooled) VolumeBufferPool.Return(buffer);
            throw;
        }
        return new VoxelBuffer(buffer, (int)count, pooled);
    }

    private void CheckDataSize(long count, string what)
    {
        if (count > Array.MaxLength)
            throw Fail($"{what} is {count} bytes; a volume can hold at most {Array.MaxLength} bytes (2 GiB)");
        if (Position + count > MaxLength)
            throw Fail($"{what} needs {count} bytes from byte {Position} but {DescribeBound()}");
    }

    private bool IsSizeTrusted(long count) =>
        !IsCompressed || (_gzipSizeHint is { } hint && hint == unchecked((uint)(Position + count)));

    private void FillTrusted(Span<byte> buffer, string what)
    {
        var start = Position;
        var n = IsCompressed ? ReadUpTo(buffer) : ReadDirect(buffer);
        if (n < buffer.Length)
            throw Fail($"{what} ends after {n} of {buffer.Length} bytes (file ends at byte {start + n}){TruncationHint}");
    }

    /// <summary>
    /// Uncompressed bytes with positional reads (pread) straight into <paramref name="buffer"/>: no copy
    /// through the stream's buffer; the file may have shrunk since its length was taken, so the count
    /// read is what the file really held.
    /// </summary>
    private int ReadDirect(Span<byte> buffer)
    {
        var left = _regionLength - Position;
        if (left < buffer.Length) buffer = buffer[..(int)Math.Max(0, left)];
        var handle = _file.SafeFileHandle;
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer[total..], _regionStart + Position + total);
            if (n == 0) break;
            total += n;
        }
        Position += total;
        _file.Position = _regionStart + Position;
        return total;
    }

    private byte[] ReadGrowing(long count, string what)
    {
        var grown = new byte[(int)Math.Min(count, Math.Max(GrowStart, Math.Min(_regionLength * 8, Array.MaxLength)))];
        var filled = 0;
        var dataStart = Position;
        while (true)
        {
            filled += ReadUpTo(grown.AsSpan(filled));
            if (filled == count) return grown;
            if (filled < grown.Length)
                throw Fail($"{what} ends after {filled} of {count} bytes (file ends at decompressed byte {dataStart + filled}){TruncationHint}");
            Array.Resize(ref grown, (int)Math.Min(count, (long)grown.Length * 2));
        }
    }

    private string CompressionName => Compression == InputCompression.Gzip ? "gzip" : "zlib";

    private string TruncationHint => IsCompressed ? ": the compressed stream is truncated or the header claims too much" : ": the file is truncated or the header claims too much";

    /// <summary>"the file has N bytes" or "a gzip file of N bytes inflates to at most M".</summary>
    public string DescribeBound() => IsCompressed
        ? $"{_regionLength} bytes of {CompressionName} data can hold at most {MaxLength} bytes"
        : $"the file has only {_regionLength} bytes";

    public void Dispose()
    {
        if (!ReferenceEquals(_stream, _file)) _stream.Dispose();
        _file.Dispose();
    }
}

/// <summary>Voxel bytes read by <see cref="VolumeInput.ReadVoxels"/>: the first <paramref name="Length"/> bytes of <paramref name="Array"/>.</summary>
/// <param name="Array">The buffer (possibly longer than the data when it came from the pool).</param>
/// <param name="Length">Bytes of voxel data at its start.</param>
/// <param name="Pooled">True when the buffer may go back to <see cref="VolumeBufferPool"/> once unused.</param>
internal readonly record struct VoxelBuffer(byte[] Array, int Length, bool Pooled)
{
    /// <summary>The voxel data.</summary>
    public Span<byte> Data => Array.AsSpan(0, Length);
}
