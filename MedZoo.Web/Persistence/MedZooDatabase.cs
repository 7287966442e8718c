using LiteDB;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Persistence;

/// <summary>
/// The one <see cref="LiteDatabase"/> of this process over <c>medzoo.db</c> in the data folder.
/// LiteDB 5 in direct mode takes no file lock on Linux, and two instances on one file corrupt it
/// (DESIGN.md §4), so the database is a singleton and a lock file next to it (an exclusive
/// <c>flock</c>) makes a second server on the same folder fail at start with a clear message.
/// Headless CLI runs never open the database: they append a journal that the server imports
/// (<see cref="RunJournalImporter"/>).
/// </summary>
public sealed class MedZooDatabase : IDisposable
{
    private readonly FileStream _lock;

    /// <summary>Opens (creating if needed) the database in <paramref name="options"/>' data folder.</summary>
    public MedZooDatabase(IOptions<DataOptions> options)
    {
        var o = options.Value;
        o.Validate();
        Directory.CreateDirectory(o.DataDirectory);
        Directory.CreateDirectory(o.JournalDirectory);
        Options = o;
        var lockPath = o.DatabasePath + ".lock";
        try
        {
            _lock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The data folder {o.DataDirectory} is in use by another MedZoo server (could not lock {lockPath}: {e.Message}). " +
                $"Stop it, or give this one another folder with --MedZoo:DataDirectory=DIR or {DataOptions.EnvironmentVariable}=DIR.", e);
        }
        try
        {
            Db = new LiteDatabase(new ConnectionString { Filename = o.DatabasePath, Connection = ConnectionType.Direct }, CreateMapper());
            Db.UtcDate = true;
            Runs = Db.GetCollection<RunRecord>("runs");
            Runs.EnsureIndex(r => r.Status);
            Runs.EnsureIndex(r => r.CreatedAt);
            Metrics = Db.GetCollection<MetricPointRecord>("metrics");
            Metrics.EnsureIndex(m => m.RunId);
            Metrics.EnsureIndex(m => m.Key);
            Metrics.EnsureIndex(HistoryKeys.RunSeqIndex, HistoryKeys.RunSeq);
            Metrics.EnsureIndex(HistoryKeys.RunKindSeqIndex, HistoryKeys.RunKindSeq);
            Events = Db.GetCollection<RunEventRecord>("events");
            Events.EnsureIndex(e => e.RunId);
            Events.EnsureIndex(e => e.Key);
            Events.EnsureIndex(HistoryKeys.RunSeqIndex, HistoryKeys.RunSeq);
            Previews = Db.GetCollection<SlicePreviewRecord>("previews");
            Previews.EnsureIndex(p => p.RunId);
            Checkpoints = Db.GetCollection<CheckpointRecord>("checkpoints");
            Checkpoints.EnsureIndex(c => c.RunId);
            Datasets = Db.GetCollection<DatasetRecord>("datasets");
            Users = Db.GetCollection<UserRecord>("users");
            Journals = Db.GetCollection<JournalRecord>("journals");
            CheckpointFiles = Db.GetStorage<string>("_ckpt_files", "_ckpt_chunks");
        }
        catch
        {
            Db?.Dispose();
            _lock.Dispose();
            throw;
        }
    }

    /// <summary>The resolved data options (folder, database and journal paths).</summary>
    public DataOptions Options { get; }

    /// <summary>The underlying database (for transactions spanning collections).</summary>
    public LiteDatabase Db { get; }

    public ILiteCollection<RunRecord> Runs { get; }
    public ILiteCollection<MetricPointRecord> Metrics { get; }
    public ILiteCollection<RunEventRecord> Events { get; }
    public ILiteCollection<SlicePreviewRecord> Previews { get; }
    public ILiteCollection<CheckpointRecord> Checkpoints { get; }
    public ILiteCollection<DatasetRecord> Datasets { get; }
    public ILiteCollection<UserRecord> Users { get; }
    public ILiteCollection<JournalRecord> Journals { get; }

    /// <summary>Checkpoint bytes (chunked, so a checkpoint of any size stays under the 1 MB document cap).</summary>
    public ILiteStorage<string> CheckpointFiles { get; }

    private static BsonMapper CreateMapper()
    {
        // A private mapper: the global one is shared by every LiteDB user in the process.
        var mapper = new BsonMapper { EnumAsInteger = false, SerializeNullValues = false };
        // The records know nothing of LiteDB: keys other than an "Id" property are declared here.
        mapper.Entity<Datasets.DataRootRecord>().Id(d => d.Name, autoId: false);
        return mapper;
    }

    public void Dispose()
    {
        Db.Dispose();
        _lock.Dispose();
    }
}
