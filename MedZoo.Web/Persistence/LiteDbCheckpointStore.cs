using MedZoo.Engine.Training;

namespace MedZoo.Web.Persistence;

/// <summary>
/// Keeps checkpoints in LiteDB file storage. A save uploads the bytes under a fresh file id, then
/// swaps the run's pointer document (one atomic document write) and only then deletes the old
/// bytes: a crash at any moment leaves either the old or the new checkpoint readable, never a
/// truncated one. Files no pointer refers to (a crash mid-upload) are removed by
/// <see cref="RemoveOrphans"/> at start.
/// </summary>
public sealed class LiteDbCheckpointStore(MedZooDatabase database) : ICheckpointStore
{
    /// <summary>Id of the pointer document of a run's checkpoint of one kind.</summary>
    public static string PointerId(string runId, string kind) => $"{runId}/{kind}";

    /// <inheritdoc />
    public string Save(string runId, string kind, int epoch, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(write);
        var fileId = $"ckpt/{runId}/{kind}/{Guid.NewGuid():N}";
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
            database.CheckpointFiles.Delete(fileId);
            throw;
        }
        var id = PointerId(runId, kind);
        var previous = database.Checkpoints.FindById(id);
        database.Checkpoints.Upsert(new CheckpointDocument
        {
            Id = id, RunId = runId, Kind = kind, Epoch = epoch, FileId = fileId, Bytes = bytes, SavedAt = DateTime.UtcNow,
        });
        if (previous is not null && previous.FileId != fileId)
            database.CheckpointFiles.Delete(previous.FileId);
        return id;
    }

    /// <summary>Stores a checkpoint file written elsewhere (a headless run's output folder).</summary>
    public string Import(string runId, string kind, int epoch, string path)
    {
        using var source = File.OpenRead(path);
        return Save(runId, kind, epoch, s => source.CopyTo(s));
    }

    /// <inheritdoc />
    public Stream? OpenRead(string runId, string kind)
    {
        var pointer = database.Checkpoints.FindById(PointerId(runId, kind));
        return pointer is null ? null : database.CheckpointFiles.OpenRead(pointer.FileId);
    }

    /// <summary>The pointer to a run's checkpoint of one kind, or null.</summary>
    public CheckpointDocument? Find(string runId, string kind) => database.Checkpoints.FindById(PointerId(runId, kind));

    /// <summary>Deletes stored files that no checkpoint points to; returns how many.</summary>
    public int RemoveOrphans()
    {
        var live = database.Checkpoints.FindAll().Select(c => c.FileId).ToHashSet(StringComparer.Ordinal);
        var orphans = database.CheckpointFiles.FindAll().Select(f => f.Id).Where(id => !live.Contains(id)).ToList();
        foreach (var id in orphans) database.CheckpointFiles.Delete(id);
        return orphans.Count;
    }
}
