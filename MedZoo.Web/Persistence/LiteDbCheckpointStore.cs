using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Persistence;

/// <summary>
/// Keeps checkpoints in LiteDB file storage. A save uploads the bytes under a fresh file id, then
/// swaps the run's pointer document (one atomic document write): a crash at any moment leaves
/// either the old or the new checkpoint readable, never a truncated one. The old bytes are deleted
/// after the swap only once no reader has them open (a download or a review that began before the
/// save finishes reading the checkpoint it started with). Files no pointer refers to (a crash
/// mid-upload, or a superseded file still open when the process ended) are removed by
/// <see cref="RemoveOrphans"/>, which never touches an upload in progress or a file being read.
/// </summary>
public sealed class LiteDbCheckpointStore(MedZooDatabase database) : IRunCheckpointStore
{
    // Guards the three sets below together with the pointer swaps and deletions that consult them.
    private readonly Lock _gate = new();
    private readonly HashSet<string> _uploading = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _readers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _superseded = new(StringComparer.Ordinal);

    /// <summary>Id of the pointer document of a run's checkpoint of one kind.</summary>
    public static string PointerId(string runId, string kind) => $"{runId}/{kind}";

    /// <inheritdoc />
    public string Save(string runId, string kind, int epoch, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(write);
        var fileId = $"ckpt/{runId}/{kind}/{Guid.NewGuid():N}";
        lock (_gate) _uploading.Add(fileId);
        long bytes;
        try
        {
            using (var stream = database.CheckpointFiles.OpenWrite(fileId, $"{runId}-{kind}.ckpt"))
            {
                write(stream);
                stream.Flush();
                bytes = stream.Length;
            }
        }
        catch
        {
            lock (_gate)
            {
                _uploading.Remove(fileId);
                database.CheckpointFiles.Delete(fileId);
            }
            throw;
        }
        var id = PointerId(runId, kind);
        lock (_gate)
        {
            var previous = database.Checkpoints.FindById(id);
            database.Checkpoints.Upsert(new CheckpointRecord
            {
                Id = id, RunId = runId, Kind = kind, Epoch = epoch, FileId = fileId, Bytes = bytes, SavedAt = DateTime.UtcNow,
            });
            _uploading.Remove(fileId);
            if (previous is not null && previous.FileId != fileId) DeleteWhenUnread(previous.FileId);
        }
        return id;
    }

    /// <inheritdoc />
    public string Import(string runId, string kind, int epoch, Stream source, long maxBytes = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Save(runId, kind, epoch, s => CopyAtMost(source, s, maxBytes));
    }

    // The file may grow while it is copied: count what is copied, not what its length said.
    private static void CopyAtMost(Stream source, Stream destination, long maxBytes)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = source.Read(buffer)) > 0)
        {
            total += n;
            if (total > maxBytes) throw new InvalidDataException($"the checkpoint is larger than the {maxBytes} bytes accepted");
            destination.Write(buffer, 0, n);
        }
    }

    /// <inheritdoc />
    /// <remarks>The stream keeps the bytes it opened readable until it is disposed, even if a newer save replaces them.</remarks>
    public Stream? OpenRead(string runId, string kind) => Open(runId, kind)?.Stream;

    /// <inheritdoc />
    public (Stream Stream, CheckpointRecord Pointer)? Open(string runId, string kind)
    {
        lock (_gate)
        {
            var pointer = database.Checkpoints.FindById(PointerId(runId, kind));
            if (pointer is null) return null;
            var inner = database.CheckpointFiles.OpenRead(pointer.FileId);
            _readers[pointer.FileId] = _readers.GetValueOrDefault(pointer.FileId) + 1;
            return (new ReaderStream(inner, () => Released(pointer.FileId)), pointer);
        }
    }

    /// <inheritdoc />
    public CheckpointRecord? Find(string runId, string kind) => database.Checkpoints.FindById(PointerId(runId, kind));

    /// <inheritdoc />
    public IReadOnlyList<CheckpointRecord> List(string runId) =>
        database.Checkpoints.Find(c => c.RunId == runId).OrderBy(c => c.Kind).ToList();

    /// <inheritdoc />
    public int RemoveOrphans()
    {
        lock (_gate)
        {
            var live = database.Checkpoints.FindAll().Select(c => c.FileId).ToHashSet(StringComparer.Ordinal);
            live.UnionWith(_uploading);
            live.UnionWith(_readers.Keys);
            var orphans = database.CheckpointFiles.FindAll().Select(f => f.Id).Where(id => !live.Contains(id)).ToList();
            foreach (var id in orphans) database.CheckpointFiles.Delete(id);
            return orphans.Count;
        }
    }

    // Called under _gate.
    private void DeleteWhenUnread(string fileId)
    {
        if (_readers.ContainsKey(fileId)) _superseded.Add(fileId);
        else database.CheckpointFiles.Delete(fileId);
    }

    private void Released(string fileId)
    {
        lock (_gate)
        {
            var left = _readers.GetValueOrDefault(fileId) - 1;
            if (left > 0)
            {
                _readers[fileId] = left;
                return;
            }
            _readers.Remove(fileId);
            if (_superseded.Remove(fileId)) database.CheckpointFiles.Delete(fileId);
        }
    }

    /// <summary>A read-only view of a stored file that tells the store when the reader is done with it.</summary>
    private sealed class ReaderStream(Stream inner, Action released) : Stream
    {
        private int _disposed;

        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                inner.Dispose();
                released();
            }
            base.Dispose(disposing);
        }
    }
}
