using MedZoo.Web.Runs;
using Npgsql;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// Checkpoints in PostgreSQL: the bytes as <c>bytea</c> chunks of <see cref="ChunkBytes"/> (<c>checkpoint_chunks</c>) and one
/// pointer row per run and kind (<c>checkpoints</c>), written in one transaction: a crash or a lost connection mid-save leaves
/// the old checkpoint, never a torn one, and nothing to clean up.
/// </summary>
/// <remarks>
/// Why bytea chunks and not large objects: a large object outlives the row that names it (deleting a run would need
/// <c>lo_unlink</c> on every path, or <c>vacuumlo</c>, or it leaks), it is not covered by row-level cascades, and reading it needs
/// the large-object API inside a transaction anyway. Chunked bytea rows are ordinary rows: deleted with the run in the same
/// transaction, dumped and replicated like everything else, never near bytea's 1 GB value limit, and read a chunk at a
/// time so a download holds one chunk in memory. Why not a shared folder: every worker and web node would need the
/// same mount, and a checkpoint and its pointer could not change in one transaction.
/// A reader (<see cref="Open"/>) reads in a repeatable-read transaction, so the bytes it began with stay readable to it even
/// when a newer save deletes them meanwhile (PostgreSQL keeps row versions that an open snapshot can still see).
/// </remarks>
public sealed class PostgresCheckpointStore(PostgresDatabase database) : IRunCheckpointStore
{
    /// <summary>Bytes per stored chunk (4 MiB).</summary>
    public const int ChunkBytes = 4 << 20;

    /// <inheritdoc />
    public string Save(string runId, string kind, int epoch, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(write);
        var id = LiteDbCheckpointStore.PointerId(runId, kind);
        database.Run(c =>
        {
            var fileId = $"ckpt/{runId}/{kind}/{Guid.NewGuid():N}";
            long bytes;
            using (var chunks = new ChunkWriter(c, fileId, runId))
            {
                write(chunks);
                chunks.Flush();
                bytes = chunks.Length;
            }
            var previous = Documents<CheckpointRecord>(c, "SELECT doc FROM checkpoints WHERE id = $1 FOR UPDATE", id).FirstOrDefault();
            var pointer = new CheckpointRecord { Id = id, RunId = runId, Kind = kind, Epoch = epoch, FileId = fileId, Bytes = bytes, SavedAt = DateTime.UtcNow };
            Execute(c, "INSERT INTO checkpoints (id, run_id, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, doc = EXCLUDED.doc",
                id, runId, ToJson(pointer));
            if (previous is not null) Execute(c, "DELETE FROM checkpoint_chunks WHERE file_id = $1", previous.FileId);
            return 0;
        }, transaction: true);
        return id;
    }

    /// <inheritdoc />
    public string Import(string runId, string kind, int epoch, Stream source, long maxBytes = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(source);
        // A save retried after a lost connection copies again from the start, so a stream that cannot rewind is read once only.
        var start = source.CanSeek ? source.Position : -1;
        var tries = 0;
        return Save(runId, kind, epoch, s =>
        {
            if (tries++ > 0)
            {
                if (start < 0) throw new IOException("the connection to PostgreSQL was lost while a checkpoint was imported from a stream that cannot be read again; import it again");
                source.Position = start;
            }
            CopyAtMost(source, s, maxBytes);
        });
    }

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
    public Stream? OpenRead(string runId, string kind) => Open(runId, kind)?.Stream;

    /// <inheritdoc />
    public (Stream Stream, CheckpointRecord Pointer)? Open(string runId, string kind)
    {
        var (connection, snapshot) = database.BeginSnapshot();
        try
        {
            var pointer = Documents<CheckpointRecord>(connection, "SELECT doc FROM checkpoints WHERE id = $1", LiteDbCheckpointStore.PointerId(runId, kind)).FirstOrDefault();
            if (pointer is null)
            {
                snapshot.Dispose();
                connection.Dispose();
                return null;
            }
            return (new ChunkReader(connection, snapshot, pointer.FileId, pointer.Bytes), pointer);
        }
        catch
        {
            snapshot.Dispose();
            connection.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public CheckpointRecord? Find(string runId, string kind) => database.Run(c =>
        Documents<CheckpointRecord>(c, "SELECT doc FROM checkpoints WHERE id = $1", LiteDbCheckpointStore.PointerId(runId, kind)).FirstOrDefault());

    /// <inheritdoc />
    public IReadOnlyList<CheckpointRecord> List(string runId) => database.Run(c =>
        Documents<CheckpointRecord>(c, "SELECT doc FROM checkpoints WHERE run_id = $1 ORDER BY doc->>'Kind' COLLATE \"C\"", runId));

    /// <inheritdoc />
    /// <remarks>A save is one transaction, so orphans arise only from rows written by other means; uploads in progress are invisible here.</remarks>
    public int RemoveOrphans() => database.Run(c => Query(c, """
        WITH gone AS (DELETE FROM checkpoint_chunks WHERE file_id NOT IN (SELECT doc->>'FileId' FROM checkpoints) RETURNING file_id)
        SELECT count(DISTINCT file_id) FROM gone
        """, r => (int)r.GetInt64(0))[0]);

    /// <summary>Collects written bytes into chunks and inserts each one as it fills, on the save's transaction.</summary>
    private sealed class ChunkWriter(NpgsqlConnection connection, string fileId, string runId) : Stream
    {
        private readonly MemoryStream _chunk = new();
        private int _count;
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                var n = (int)Math.Min(buffer.Length, ChunkBytes - _chunk.Length);
                _chunk.Write(buffer[..n]);
                _length += n;
                buffer = buffer[n..];
                if (_chunk.Length == ChunkBytes) Store();
            }
        }

        public override void Flush()
        {
            if (_chunk.Length > 0) Store(); // a chunk may be short (the writer flushed early): the reader goes by number, not by size
        }

        private void Store()
        {
            Execute(connection, "INSERT INTO checkpoint_chunks (file_id, n, run_id, data) VALUES ($1, $2, $3, $4)", fileId, _count++, runId, _chunk.ToArray());
            _chunk.SetLength(0);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// Reads a checkpoint's chunks one at a time in the snapshot it was opened in; disposing ends the snapshot. Seekable
    /// (a zip's directory is at its end: <c>Checkpoint.ReadHeader</c> needs that) through a table of chunk sizes read on
    /// the first seek, since a chunk may be short.
    /// </summary>
    private sealed class ChunkReader(NpgsqlConnection connection, NpgsqlTransaction snapshot, string fileId, long length) : Stream
    {
        private byte[] _chunk = [];
        private int _offset;
        private int _next;
        private long _position;
        private bool _disposed;
        private long[]? _starts; // offset of each chunk, by number

        public override bool CanRead => !_disposed;
        public override bool CanSeek => !_disposed;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (buffer.IsEmpty) return 0;
            while (_offset == _chunk.Length)
            {
                var next = Query(connection, "SELECT data FROM checkpoint_chunks WHERE file_id = $1 AND n = $2", r => (byte[])r.GetValue(0), fileId, _next).FirstOrDefault();
                if (next is null) return 0;
                _next++;
                _chunk = next;
                _offset = 0;
            }
            var n = Math.Min(buffer.Length, _chunk.Length - _offset);
            _chunk.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                SeekOrigin.End => length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            if (target < 0) throw new IOException($"cannot seek to {target}, before the start of the checkpoint");
            if (target == _position) return target;
            _starts ??= ChunkStarts();
            // The chunk holding the target (past the end: after the last chunk, so reads return nothing).
            var n = Array.BinarySearch(_starts, target);
            if (n < 0) n = ~n - 1;
            if (n == _next - 1 && target - _starts[n] <= _chunk.Length)
            {
                _offset = (int)(target - _starts[n]); // within the chunk already read
            }
            else
            {
                _chunk = [];
                _offset = 0;
                _next = n;
                if (target > _starts[n])
                {
                    // Read the chunk and move into it.
                    _position = _starts[n];
                    Span<byte> skip = stackalloc byte[1];
                    if (Read(skip) == 1) _offset = (int)Math.Min(_chunk.Length, target - _starts[n]);
                }
            }
            _position = target;
            return target;
        }

        // Offsets of the chunks in order, with the total length last (so that every position has a chunk before it).
        private long[] ChunkStarts()
        {
            var sizes = Query(connection, "SELECT length(data) FROM checkpoint_chunks WHERE file_id = $1 ORDER BY n", r => (long)r.GetInt32(0), fileId);
            var starts = new long[sizes.Count + 1];
            for (var i = 0; i < sizes.Count; i++) starts[i + 1] = starts[i] + sizes[i];
            return starts;
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                snapshot.Dispose();
                connection.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
