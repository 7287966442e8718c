namespace MedZoo.Engine.IO.Streams;

/// <summary>
/// Voxel buffers of disposed volumes, kept for the next read. Copying an uncompressed .nii from the
/// page cache costs about 0.2 ms for 7 MB; what made a read slow was the fresh array's memory, which
/// the kernel faults in and zeroes page by page on first write (1–15 ms for the same 7 MB on this
/// shared machine, even with huge pages). nibabel does not pay that: Python frees its array as soon
/// as the last reference goes, and malloc hands the same, already resident memory to the next read.
/// <see cref="Volume.Dispose"/> is the .NET equivalent: its buffer comes back here and the next read
/// of a similar size fills it instead of new memory. A volume that is never disposed is collected as
/// before; nothing here changes what a read returns.
/// </summary>
/// <remarks>
/// Bounded: at most <see cref="MaxArrays"/> buffers and <see cref="MaxBytes"/> bytes are kept (the
/// oldest go first), only buffers of at least <see cref="PoolFrom"/> bytes, and a buffer is handed out
/// only for a request of at least half its size, so a small volume never pins a huge buffer.
/// </remarks>
internal static class VolumeBufferPool
{
    /// <summary>Smaller buffers come from the GC's young generation cheaply and are not pooled.</summary>
    public const int PoolFrom = 1 << 20;

    /// <summary>Most buffers kept at once.</summary>
    public const int MaxArrays = 4;

    /// <summary>Most bytes kept at once (a larger buffer is left to the GC).</summary>
    public const long MaxBytes = 512L << 20;

    private static readonly Lock Gate = new();
    private static readonly List<byte[]> Free = [];
    private static long _freeBytes;
    private static long _reused;

    /// <summary>Buffers currently kept, and their bytes.</summary>
    public static (int Arrays, long Bytes) Kept
    {
        get
        {
            lock (Gate) return (Free.Count, _freeBytes);
        }
    }

    /// <summary>How many requests were served with a kept buffer since the process started.</summary>
    public static long Reused => Interlocked.Read(ref _reused);

    /// <summary>
    /// A buffer of at least <paramref name="length"/> bytes (contents undefined) and whether it may be
    /// handed back with <see cref="Return"/>: a kept one when one fits, else a new one.
    /// </summary>
    public static (byte[] Buffer, bool Pooled) Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < PoolFrom || length > MaxBytes) return (LargeBuffer.Allocate(length), false);
        lock (Gate)
        {
            var best = -1;
            for (var i = 0; i < Free.Count; i++)
            {
                var size = Free[i].Length;
                if (size >= length && size / 2 <= length && (best < 0 || size < Free[best].Length)) best = i;
            }
            if (best >= 0)
            {
                var buffer = Free[best];
                Free.RemoveAt(best);
                _freeBytes -= buffer.Length;
                _reused++;
                return (buffer, true);
            }
        }
        return (LargeBuffer.Allocate(length), true);
    }

    /// <summary>
    /// Keeps <paramref name="buffer"/> for a later <see cref="Rent"/>. The caller must hold no other
    /// reference to it: the next read overwrites it.
    /// </summary>
    public static void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length < PoolFrom || buffer.Length > MaxBytes) return;
        lock (Gate)
        {
            foreach (var kept in Free)
                if (ReferenceEquals(kept, buffer))
                    throw new InvalidOperationException("a voxel buffer was returned twice");
            while (Free.Count >= MaxArrays || (Free.Count > 0 && _freeBytes + buffer.Length > MaxBytes))
            {
                _freeBytes -= Free[0].Length;
                Free.RemoveAt(0);
            }
            Free.Add(buffer);
            _freeBytes += buffer.Length;
        }
    }

    /// <summary>Drops every kept buffer (tests start from an empty pool; a host may trim).</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            Free.Clear();
            _freeBytes = 0;
        }
    }
}
