using System.IO.Compression;

namespace MedZoo.Engine.IO.Streams;

/// <summary>
/// Writes one output file through a temporary file in the same folder that replaces the target
/// only on <see cref="Commit"/>, so a failed or interrupted write never leaves a half-written
/// volume where a good one (or none) was. Optionally gzip- or zlib-compresses everything written
/// after <see cref="StartCompression"/>; voxel data is streamed in chunks, byte-swapped on the fly.
/// </summary>
internal sealed class VolumeOutput : IDisposable
{
    private const int ChunkSize = 1 << 18;

    private readonly string _target;
    private readonly string _temp;
    private readonly FileStream _file;
    private Stream _stream;
    private bool _committed;

    private VolumeOutput(string target)
    {
        _target = target;
        var dir = Path.GetDirectoryName(Path.GetFullPath(target))!;
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{Path.GetFileName(target)}: folder {dir} does not exist");
        _temp = Path.Combine(dir, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        _file = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _stream = _file;
    }

    /// <summary>Starts a new output for <paramref name="target"/>; gzip-compressed as a whole when asked.</summary>
    public static VolumeOutput Create(string target, bool gzip = false, CompressionLevel level = CompressionLevel.Optimal)
    {
        var output = new VolumeOutput(target);
        if (gzip) output._stream = new GZipStream(output._file, level, leaveOpen: true);
        return output;
    }

    /// <summary>The underlying file (for seeking back to patch a header field after compressed data).</summary>
    public FileStream File => _file;

    /// <summary>Writes raw bytes (a header) at the current position.</summary>
    public void Write(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

    /// <summary>From here on, writes go through a zlib stream (MetaImage CompressedData).</summary>
    public void StartCompression(CompressionLevel level)
    {
        if (!ReferenceEquals(_stream, _file)) throw new InvalidOperationException("already compressing");
        _stream = new ZLibStream(_file, level, leaveOpen: true);
    }

    /// <summary>Ends zlib compression started by <see cref="StartCompression"/>; returns the compressed size.</summary>
    public long EndCompression(long startedAt)
    {
        _stream.Dispose();
        _stream = _file;
        return _file.Position - startedAt;
    }

    /// <summary>
    /// Writes little-endian voxel data, swapping each <paramref name="elementSize"/>-byte element
    /// when <paramref name="bigEndian"/>, chunk by chunk so no second copy of the volume is made.
    /// </summary>
    public void WriteData(ReadOnlySpan<byte> data, int elementSize, bool bigEndian)
    {
        if (!bigEndian || elementSize == 1)
        {
            _stream.Write(data);
            return;
        }
        var chunk = new byte[ChunkSize];
        for (var start = 0; start < data.Length; start += ChunkSize)
        {
            var n = Math.Min(ChunkSize, data.Length - start);
            data.Slice(start, n).CopyTo(chunk);
            ByteSwap.InPlace(chunk.AsSpan(0, n), elementSize);
            _stream.Write(chunk, 0, n);
        }
    }

    /// <summary>
    /// Writes data stored as (channel, voxel) planes interleaved per voxel (voxel, channel), as
    /// MetaImage stores multi-component pixels.
    /// </summary>
    public void WriteInterleaved(ReadOnlySpan<byte> data, int elementSize, int channels, bool bigEndian)
    {
        var perChannel = data.Length / channels;
        var voxels = perChannel / elementSize;
        var voxelsPerChunk = Math.Max(1, ChunkSize / (elementSize * channels));
        var chunk = new byte[voxelsPerChunk * elementSize * channels];
        for (var v0 = 0; v0 < voxels; v0 += voxelsPerChunk)
        {
            var nv = Math.Min(voxelsPerChunk, voxels - v0);
            var o = 0;
            for (var v = v0; v < v0 + nv; v++)
                for (var c = 0; c < channels; c++, o += elementSize)
                    data.Slice(c * perChannel + v * elementSize, elementSize).CopyTo(chunk.AsSpan(o));
            if (bigEndian) ByteSwap.InPlace(chunk.AsSpan(0, o), elementSize);
            _stream.Write(chunk, 0, o);
        }
    }

    /// <summary>Flushes, closes and moves the temporary file over the target.</summary>
    public void Commit()
    {
        if (!ReferenceEquals(_stream, _file)) _stream.Dispose();
        _stream = _file;
        _file.Flush(flushToDisk: false);
        _file.Dispose();
        System.IO.File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        if (!ReferenceEquals(_stream, _file)) _stream.Dispose();
        _file.Dispose();
        try { System.IO.File.Delete(_temp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
