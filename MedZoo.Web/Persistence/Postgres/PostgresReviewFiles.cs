using MedZoo.Web.Reviews;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// Review and upload files in cluster mode's PostgreSQL database, so that a worker reads an upload made through any web
/// node and every web node serves what a worker predicted: one row per file (<c>review_files</c>: its size and chunk
/// count) and its bytes as <c>bytea</c> chunks of <see cref="ChunkBytes"/> (<c>review_file_chunks</c>), keyed by area
/// (reviews or uploads), owner id and file name. A staged set is committed in one transaction that replaces the owner's
/// previous files, so a reader sees the old set or the new one, never a torn one, and a crash or a lost connection
/// mid-commit leaves nothing to clean up (the commit is retried whole, reading the local files again). Why bytea chunks
/// and not large objects or a shared folder: the reasons of <see cref="PostgresCheckpointStore"/> (rows deleted with
/// their owner, dumped and replicated like the rest, no mount every machine must share); a reader fetches one chunk at
/// a time, so serving a display array holds at most one chunk in memory. Ids and names must pass
/// <see cref="ReviewStorage.CheckName"/>; fetched files go to a scratch folder under the data folder
/// (<see cref="ReviewStorage.NewScratchFolder"/>), deleted when the fetched folder is disposed.
/// </summary>
public sealed class PostgresReviewFiles(PostgresDatabase database, ReviewStorage storage) : IReviewFiles
{
    /// <summary>Bytes per stored chunk (4 MiB); every chunk but a file's last is exactly this long.</summary>
    public const int ChunkBytes = 4 << 20;

    /// <inheritdoc />
    public Stream? OpenRead(ReviewFileArea area, string id, string name)
    {
        Check(id, name);
        var rows = database.Run(c => Query(c, "SELECT bytes, chunks FROM review_files WHERE area = $1 AND owner_id = $2 AND name = $3",
            r => (Bytes: r.GetInt64(0), Chunks: r.GetInt32(1)), (int)area, id, name));
        return rows is [var row] ? new ChunkReader(database, area, id, name, row.Bytes, row.Chunks) : null;
    }

    /// <inheritdoc />
    public bool Exists(ReviewFileArea area, string id, string name)
    {
        Check(id, name);
        return database.Run(c => Query(c, "SELECT 1 FROM review_files WHERE area = $1 AND owner_id = $2 AND name = $3", r => r.GetInt32(0), (int)area, id, name)).Count > 0;
    }

    /// <inheritdoc />
    public ReviewFolder Stage(ReviewFileArea area, string id)
    {
        Check(id);
        return new ReviewFolder(storage.NewScratchFolder(), f => Commit(area, id, f.Folder), f => ReviewStorage.DeleteFolder(f.Folder));
    }

    /// <inheritdoc />
    public ReviewFolder Fetch(ReviewFileArea area, string id, IReadOnlyCollection<string>? names = null)
    {
        Check(id);
        foreach (var n in names ?? []) ReviewStorage.CheckName(n, nameof(names));
        var folder = new ReviewFolder(storage.NewScratchFolder(), commit: null, release: f => ReviewStorage.DeleteFolder(f.Folder));
        try
        {
            var stored = database.Run(c => Query(c, "SELECT name FROM review_files WHERE area = $1 AND owner_id = $2 ORDER BY name COLLATE \"C\"",
                r => r.GetString(0), (int)area, id));
            foreach (var name in stored.Where(n => names is null || names.Contains(n)))
            {
                using var source = OpenRead(area, id, name);
                if (source is null) continue; // deleted meanwhile: absent, as the contract says
                using var target = File.Create(folder.File(name));
                source.CopyTo(target, 1 << 20);
            }
            return folder;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Delete(ReviewFileArea area, string id)
    {
        Check(id);
        database.Run(c => DeleteAll(c, area, id), transaction: true);
    }

    private static int DeleteAll(Npgsql.NpgsqlConnection c, ReviewFileArea area, string id) =>
        Execute(c, "DELETE FROM review_file_chunks WHERE area = $1 AND owner_id = $2", (int)area, id)
        + Execute(c, "DELETE FROM review_files WHERE area = $1 AND owner_id = $2", (int)area, id);

    // The staged folder's files replace the owner's, in one transaction.
    private void Commit(ReviewFileArea area, string id, string folder)
    {
        var names = Directory.GetFiles(folder).Select(Path.GetFileName).Select(n => ReviewStorage.CheckName(n)).Order(StringComparer.Ordinal).ToList();
        if (Directory.GetDirectories(folder).Length > 0)
            throw new InvalidOperationException($"a staged set of {area} files holds a folder; only plain files are stored");
        database.Run(c =>
        {
            DeleteAll(c, area, id);
            var buffer = new byte[ChunkBytes];
            foreach (var name in names)
            {
                using var source = new FileStream(Path.Combine(folder, name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                long bytes = 0;
                var n = 0;
                int read;
                while ((read = source.ReadAtLeast(buffer, ChunkBytes, throwOnEndOfStream: false)) > 0)
                {
                    Execute(c, "INSERT INTO review_file_chunks (area, owner_id, name, n, data) VALUES ($1, $2, $3, $4, $5)",
                        (int)area, id, name, n++, read == ChunkBytes ? buffer : buffer[..read]);
                    bytes += read;
                }
                Execute(c, "INSERT INTO review_files (area, owner_id, name, bytes, chunks) VALUES ($1, $2, $3, $4, $5)", (int)area, id, name, bytes, n);
            }
            return 0;
        }, transaction: true);
    }

    private static void Check(string id, string? name = null)
    {
        ReviewStorage.CheckName(id, nameof(id));
        if (name is not null) ReviewStorage.CheckName(name, nameof(name));
    }

    /// <summary>
    /// Reads one stored file a chunk at a time, each chunk in its own short query (retried like every query), so a slow
    /// download holds no connection. Seekable: every chunk but the last is <see cref="ChunkBytes"/> long.
    /// </summary>
    private sealed class ChunkReader(PostgresDatabase database, ReviewFileArea area, string id, string name, long length, int chunks) : Stream
    {
        private byte[] _chunk = [];
        private int _chunkNumber = -1;
        private long _position;
        private bool _disposed;

        public override bool CanRead => !_disposed;
        public override bool CanSeek => !_disposed;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (buffer.IsEmpty || _position >= length) return 0;
            var number = (int)(_position / ChunkBytes);
            if (number != _chunkNumber)
            {
                _chunk = database.Run(c => Query(c, "SELECT data FROM review_file_chunks WHERE area = $1 AND owner_id = $2 AND name = $3 AND n = $4",
                    r => (byte[])r.GetValue(0), (int)area, id, name, number)).FirstOrDefault()
                    ?? throw new IOException($"{name} of {id} was deleted or replaced while it was read (chunk {number} of {chunks} is gone)");
                _chunkNumber = number;
            }
            var offset = (int)(_position - (long)number * ChunkBytes);
            var n = Math.Min(buffer.Length, _chunk.Length - offset);
            if (n <= 0) throw new IOException($"{name} of {id} was replaced while it was read (chunk {number} is shorter than its size says)");
            _chunk.AsSpan(offset, n).CopyTo(buffer);
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
            if (target < 0) throw new IOException($"cannot seek to {target}, before the start of {name}");
            _position = target;
            return target;
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
