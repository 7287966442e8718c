using LiteDB;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Persistence;

/// <summary>
/// The LiteDB implementation of the run stores: runs and their history (metric points, events, slice
/// previews). Read-modify-write of a run goes through <see cref="Update"/>, which serializes writers so
/// that the event recorder and the run worker never overwrite each other's fields.
/// </summary>
public sealed class RunRepository(MedZooDatabase database) : IRunStore, IRunHistoryStore
{
    private readonly Lock _gate = new();

    /// <summary>The run, or null.</summary>
    public RunRecord? Get(string id) => database.Runs.FindById(id);

    /// <summary>Every run, newest first.</summary>
    public IReadOnlyList<RunRecord> List() =>
        database.Runs.Query().OrderByDescending(r => r.CreatedAt).ToList();

    /// <summary>Runs in the given states, oldest first (queue order).</summary>
    public IReadOnlyList<RunRecord> WithStatus(params RunStatus[] statuses)
    {
        var names = statuses.Select(s => new BsonValue(s.ToString())).ToArray();
        return database.Runs.Find(Query.In(nameof(RunRecord.Status), names)).OrderBy(r => r.CreatedAt).ToList();
    }

    /// <summary>Adds a new run.</summary>
    public void Insert(RunRecord run)
    {
        lock (_gate) database.Runs.Insert(run);
    }

    /// <summary>Applies <paramref name="change"/> to the stored run and saves it; returns the result, or null if it does not exist.</summary>
    public RunRecord? Update(string id, Action<RunRecord> change)
    {
        lock (_gate)
        {
            var run = database.Runs.FindById(id);
            if (run is null) return null;
            change(run);
            database.Runs.Update(run);
            return run;
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> as one transaction while holding the run lock (taken before
    /// the transaction, so a writer waiting for the lock never holds LiteDB's collection locks).
    /// </summary>
    public void WriteBatch(Action write)
    {
        lock (_gate)
        {
            database.Db.BeginTrans();
            try
            {
                write();
                database.Db.Commit();
            }
            catch
            {
                database.Db.Rollback();
                throw;
            }
        }
    }

    /// <summary>Deletes a run with its metrics, events, previews and checkpoints.</summary>
    public bool Delete(string id)
    {
        lock (_gate)
        {
            database.Metrics.DeleteMany(m => m.RunId == id);
            database.Events.DeleteMany(e => e.RunId == id);
            database.Previews.DeleteMany(p => p.RunId == id);
            foreach (var c in database.Checkpoints.Find(c => c.RunId == id).ToList())
            {
                database.CheckpointFiles.Delete(c.FileId);
                database.Checkpoints.Delete(c.Id);
            }
            return database.Runs.Delete(id);
        }
    }

    /// <summary>Metric points of a run in order (step points first by step, then epoch points by epoch).</summary>
    public IReadOnlyList<MetricPointRecord> Metrics(string runId, MetricKind? kind = null)
    {
        var q = database.Metrics.Query().Where(m => m.RunId == runId);
        if (kind is { } k) q = q.Where(m => m.Kind == k);
        // By step or epoch, not by sequence number: a step replayed after a resume has a newer number than the steps after it.
        return q.ToList().OrderBy(m => m.Kind).ThenBy(m => m.Kind == MetricKind.Step ? m.GlobalStep : m.Epoch).ThenBy(m => m.Seq).ToList();
    }

    /// <summary>Largest page <see cref="MetricsAfter"/> and <see cref="EventsAfter"/> return.</summary>
    public const int MaxPageSize = RunHistory.MaxPageSize;

    /// <inheritdoc />
    public void Upsert(MetricPointRecord point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var key = point.Key;
        var existing = database.Metrics.FindOne(m => m.Key == key);
        if (existing is null)
        {
            database.Metrics.Insert(point);
            return;
        }
        point.Id = existing.Id;
        database.Metrics.Update(point);
    }

    /// <inheritdoc />
    public bool AddIfAbsent(MetricPointRecord point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var key = point.Key;
        if (database.Metrics.Exists(m => m.Key == key)) return false;
        database.Metrics.Insert(point);
        return true;
    }

    /// <inheritdoc />
    public bool AddIfAbsent(RunEventRecord line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var key = line.Key;
        if (database.Events.Exists(x => x.Key == key)) return false;
        database.Events.Insert(line);
        return true;
    }

    /// <inheritdoc />
    public void Upsert(SlicePreviewRecord preview)
    {
        ArgumentNullException.ThrowIfNull(preview);
        database.Previews.Upsert(preview);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> metric points of a run numbered above <paramref name="afterSeq"/>,
    /// in the order they happened (optionally of one kind); <see cref="SeqPage{T}.More"/> says whether
    /// more follow (read them with the last point's number).
    /// </summary>
    public SeqPage<MetricPointRecord> MetricsAfter(string runId, long afterSeq, int limit, MetricKind? kind = null)
    {
        CheckLimit(limit);
        var (key, prefix) = kind is { } k
            ? (HistoryKeys.RunKindSeq, HistoryKeys.Prefix(runId, k.ToString()))
            : (HistoryKeys.RunSeq, HistoryKeys.Prefix(runId));
        return Page(database.Metrics, key, prefix, afterSeq, limit, m => m.Seq);
    }

    /// <summary>Up to <paramref name="limit"/> lines of a run's event log numbered above <paramref name="afterSeq"/>, in order.</summary>
    public SeqPage<RunEventRecord> EventsAfter(string runId, long afterSeq, int limit)
    {
        CheckLimit(limit);
        return Page(database.Events, HistoryKeys.RunSeq, HistoryKeys.Prefix(runId), afterSeq, limit, e => e.Seq);
    }

    // One range of an index whose keys sort a run's history by number: the page costs its own size, not the run's.
    // Points that share a number (epochs restored from a checkpoint take the number of the event that revealed
    // them) are never split across pages: the cursor is a number, so a split group would lose its rest.
    private static SeqPage<T> Page<T>(ILiteCollection<T> collection, string key, string prefix, long afterSeq, int limit, Func<T, long> seqOf)
    {
        if (afterSeq == long.MaxValue) return new([], false);
        var from = prefix + HistoryKeys.Number(Math.Max(0, afterSeq) + 1);
        var to = prefix + HistoryKeys.Number(long.MaxValue);
        var items = collection.Query()
            .Where(BsonExpression.Create($"{key} BETWEEN @0 AND @1", from, to))
            .OrderBy(BsonExpression.Create(key))
            .Limit(limit + 1)
            .ToList();
        if (items.Count <= limit || seqOf(items[limit]) != seqOf(items[limit - 1]))
            return SeqPage<T>.Of(items, limit);
        var shared = seqOf(items[limit - 1]);
        var group = collection.Query()
            .Where(BsonExpression.Create($"{key} = @0", prefix + HistoryKeys.Number(shared)))
            .ToList();
        var page = items.TakeWhile(i => seqOf(i) != shared).Concat(group).ToList();
        return new(page, true);
    }

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > MaxPageSize)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"a page holds 1 to {MaxPageSize} items");
    }

    /// <summary>The run's event log in order; at most the last <paramref name="limit"/> lines.</summary>
    public IReadOnlyList<RunEventRecord> Events(string runId, int limit = 1000)
    {
        // Only the last lines leave the database: a long run's log is never read whole.
        var prefix = HistoryKeys.Prefix(runId);
        var last = database.Events.Query()
            .Where(BsonExpression.Create($"{HistoryKeys.RunSeq} BETWEEN @0 AND @1", prefix + HistoryKeys.Number(0), prefix + HistoryKeys.Number(long.MaxValue)))
            .OrderByDescending(BsonExpression.Create(HistoryKeys.RunSeq))
            .Limit(limit)
            .ToList();
        last.Reverse();
        return last;
    }

    /// <summary>Latest slice previews of a run (one per plane and slice).</summary>
    public IReadOnlyList<SlicePreviewRecord> Previews(string runId) =>
        database.Previews.Find(p => p.RunId == runId).OrderBy(p => p.Plane).ThenBy(p => p.SliceIndex).ToList();

    /// <summary>
    /// Marks runs the server was hosting when it last stopped as interrupted (they can be resumed
    /// from their last checkpoint); returns their ids.
    /// </summary>
    public IReadOnlyList<string> MarkInterrupted(string reason, DateTime utcNow)
    {
        var ids = new List<string>();
        foreach (var run in WithStatus(RunStatus.Running, RunStatus.Paused).Where(r => r.Source == RunSource.Dashboard))
        {
            Update(run.Id, r => RunProjection.Interrupt(r, reason, r.LastActivityAt is { } last && last < utcNow ? last : utcNow));
            ids.Add(run.Id);
        }
        return ids;
    }
}

/// <summary>
/// Index keys that sort a run's metric points and events by sequence number ("run:0000…42"), so that
/// a page of history is one index range. LiteDB indexes one expression, so the run and the number
/// (zero-padded to sort as text) share one key; a second key adds the metric kind. A ':' in a run id
/// is doubled, so no other run's keys fall in a run's range (a run named "a:1" is not part of "a").
/// </summary>
internal static class HistoryKeys
{
    public const string RunSeqIndex = "RunSeq";
    public const string RunKindSeqIndex = "RunKindSeq";
    public const string RunSeq = "REPLACE($.RunId, ':', '::') + ':' + FORMAT($.Seq, 'D19')";
    public const string RunKindSeq = "REPLACE($.RunId, ':', '::') + ':' + STRING($.Kind) + ':' + FORMAT($.Seq, 'D19')";

    public static string Prefix(string runId) => runId.Replace(":", "::", StringComparison.Ordinal) + ":";

    public static string Prefix(string runId, string kind) => Prefix(runId) + kind + ":";

    public static string Number(long seq) => seq.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
}
