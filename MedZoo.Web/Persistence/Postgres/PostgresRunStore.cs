using MedZoo.Web.Runs;
using Npgsql;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// The PostgreSQL implementation of the run stores: one row per run (<c>runs</c>), metric point (<c>metric_points</c>),
/// event line (<c>run_events</c>) and slice preview (<c>slice_previews</c>). <see cref="Update"/> locks the run's row
/// (<c>SELECT … FOR UPDATE</c>) for the read-modify-write, so writers on any machine are serialized per run; history is
/// paged by sequence number with the same rules as <see cref="RunRepository"/> (points sharing a number stay on one page).
/// </summary>
public sealed class PostgresRunStore(PostgresDatabase database) : IRunStore, IRunHistoryStore
{
    /// <inheritdoc />
    public RunRecord? Get(string id) =>
        database.Run(c => Documents<RunRecord>(c, "SELECT doc FROM runs WHERE id = $1", id).FirstOrDefault());

    /// <inheritdoc />
    public IReadOnlyList<RunRecord> List() =>
        database.Run(c => Documents<RunRecord>(c, "SELECT doc FROM runs ORDER BY created_at DESC, id COLLATE \"C\""));

    /// <inheritdoc />
    public IReadOnlyList<RunRecord> WithStatus(params RunStatus[] statuses)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        var codes = statuses.Select(s => (int)s).ToArray();
        return database.Run(c => Documents<RunRecord>(c, "SELECT doc FROM runs WHERE status = ANY($1) ORDER BY created_at, id COLLATE \"C\"", codes));
    }

    /// <inheritdoc />
    public void Insert(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var doc = ToJson(run);
        database.Run(c => InsertNew(c, "runs", "INSERT INTO runs (id, status, created_at, doc) VALUES ($1, $2, $3, $4)", doc,
            run.Id, (int)run.Status, run.CreatedAt.Ticks, doc));
    }

    /// <inheritdoc />
    public RunRecord? Update(string id, Action<RunRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return database.Run(c =>
        {
            // The row lock holds other writers (on any node) until this transaction ends: no lost update.
            var run = Documents<RunRecord>(c, "SELECT doc FROM runs WHERE id = $1 FOR UPDATE", id).FirstOrDefault();
            if (run is null) return null;
            change(run);
            Execute(c, "UPDATE runs SET status = $2, created_at = $3, doc = $4 WHERE id = $1", id, (int)run.Status, run.CreatedAt.Ticks, ToJson(run));
            return run;
        }, transaction: true);
    }

    /// <inheritdoc />
    public void WriteBatch(Action write) => database.Batch(write);

    /// <inheritdoc />
    public bool Delete(string id) => database.Run(c =>
    {
        Execute(c, "DELETE FROM metric_points WHERE run_id = $1", id);
        Execute(c, "DELETE FROM run_events WHERE run_id = $1", id);
        Execute(c, "DELETE FROM slice_previews WHERE run_id = $1", id);
        Execute(c, "DELETE FROM checkpoints WHERE run_id = $1", id);
        Execute(c, "DELETE FROM checkpoint_chunks WHERE run_id = $1", id);
        return Execute(c, "DELETE FROM runs WHERE id = $1", id) > 0;
    }, transaction: true);

    /// <inheritdoc />
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

    /// <inheritdoc />
    public IReadOnlyList<MetricPointRecord> Metrics(string runId, MetricKind? kind = null)
    {
        var filter = kind is { } k ? $"run_id = $1 AND kind = {(int)k}" : "run_id = $1";
        // By step or epoch (position), not by sequence number: a step replayed after a resume has a newer number.
        return database.Run(c => Query(c, $"SELECT id, doc FROM metric_points WHERE {filter} ORDER BY kind, position, seq, id", ReadPoint, runId));
    }

    /// <inheritdoc />
    public SeqPage<MetricPointRecord> MetricsAfter(string runId, long afterSeq, int limit, MetricKind? kind = null)
    {
        CheckLimit(limit);
        var filter = kind is { } k ? $"run_id = $1 AND kind = {(int)k}" : "run_id = $1";
        return Page("metric_points", filter, runId, afterSeq, limit, ReadPoint, m => m.Seq);
    }

    /// <inheritdoc />
    public void Upsert(MetricPointRecord point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (point.Key is null)
        {
            InsertPoint(point, "");
            return;
        }
        database.Run(c =>
        {
            // The row keeps its id (as LiteDB keeps the document's), so paging ties stay in insertion order.
            var id = Query(c, "SELECT id FROM metric_points WHERE key = $1 FOR UPDATE", r => r.GetInt64(0), point.Key).FirstOrDefault();
            if (id == 0) return InsertPoint(c, point, "ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING");
            point.Id = id;
            return Execute(c, "UPDATE metric_points SET run_id = $2, seq = $3, kind = $4, position = $5, doc = $6 WHERE id = $1",
                id, point.RunId, point.Seq, (int)point.Kind, Position(point), ToJson(point));
        }, transaction: true);
    }

    /// <inheritdoc />
    public bool AddIfAbsent(MetricPointRecord point)
    {
        ArgumentNullException.ThrowIfNull(point);
        return InsertPoint(point, "ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING");
    }

    /// <inheritdoc />
    public IReadOnlyList<RunEventRecord> Events(string runId, int limit = 1000)
    {
        var last = database.Run(c => Query(c, "SELECT id, doc FROM run_events WHERE run_id = $1 ORDER BY seq DESC, id DESC LIMIT $2",
            ReadEvent, runId, Math.Max(0, limit)));
        last.Reverse();
        return last;
    }

    /// <inheritdoc />
    public SeqPage<RunEventRecord> EventsAfter(string runId, long afterSeq, int limit)
    {
        CheckLimit(limit);
        return Page("run_events", "run_id = $1", runId, afterSeq, limit, ReadEvent, e => e.Seq);
    }

    /// <inheritdoc />
    public bool AddIfAbsent(RunEventRecord line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return database.Run(c =>
        {
            var id = Query(c, "INSERT INTO run_events (run_id, key, seq, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING RETURNING id",
                r => r.GetInt64(0), line.RunId, line.Key, line.Seq, ToJson(line)).FirstOrDefault();
            if (id == 0) return false;
            line.Id = id;
            return true;
        });
    }

    /// <inheritdoc />
    public IReadOnlyList<SlicePreviewRecord> Previews(string runId) => database.Run(c =>
        Documents<SlicePreviewRecord>(c, "SELECT doc FROM slice_previews WHERE run_id = $1 ORDER BY plane, slice_index", runId));

    /// <inheritdoc />
    public void Upsert(SlicePreviewRecord preview)
    {
        ArgumentNullException.ThrowIfNull(preview);
        database.Run(c => Execute(c, """
            INSERT INTO slice_previews (id, run_id, plane, slice_index, doc) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, plane = EXCLUDED.plane, slice_index = EXCLUDED.slice_index, doc = EXCLUDED.doc
            """, preview.Id, preview.RunId, (int)preview.Plane, preview.SliceIndex, ToJson(preview)));
    }

    private bool InsertPoint(MetricPointRecord point, string onConflict) => database.Run(c => InsertPoint(c, point, onConflict)) > 0;

    private static int InsertPoint(NpgsqlConnection c, MetricPointRecord point, string onConflict)
    {
        var id = Query(c, $"INSERT INTO metric_points (run_id, key, seq, kind, position, doc) VALUES ($1, $2, $3, $4, $5, $6) {onConflict} RETURNING id",
            r => r.GetInt64(0), point.RunId, point.Key, point.Seq, (int)point.Kind, Position(point), ToJson(point)).FirstOrDefault();
        if (id == 0) return 0;
        point.Id = id;
        return 1;
    }

    private static long Position(MetricPointRecord m) => m.Kind == MetricKind.Step ? m.GlobalStep : m.Epoch;

    private static MetricPointRecord ReadPoint(NpgsqlDataReader r)
    {
        var m = FromJson<MetricPointRecord>(r.GetString(1));
        m.Id = r.GetInt64(0);
        return m;
    }

    private static RunEventRecord ReadEvent(NpgsqlDataReader r)
    {
        var e = FromJson<RunEventRecord>(r.GetString(1));
        e.Id = r.GetInt64(0);
        return e;
    }

    // Same rule as RunRepository: a page never splits the points that share a number, since the cursor is a number.
    private SeqPage<T> Page<T>(string table, string filter, string runId, long afterSeq, int limit, Func<NpgsqlDataReader, T> read, Func<T, long> seqOf)
    {
        if (afterSeq == long.MaxValue) return new([], false);
        return database.Run(c =>
        {
            var items = Query(c, $"SELECT id, doc FROM {table} WHERE {filter} AND seq > $2 ORDER BY seq, id LIMIT $3",
                read, runId, Math.Max(0, afterSeq), limit + 1);
            if (items.Count <= limit || seqOf(items[limit]) != seqOf(items[limit - 1]))
                return SeqPage<T>.Of(items, limit);
            var shared = seqOf(items[limit - 1]);
            var group = Query(c, $"SELECT id, doc FROM {table} WHERE {filter} AND seq = $2 ORDER BY id", read, runId, shared);
            return new SeqPage<T>(items.TakeWhile(i => seqOf(i) != shared).Concat(group).ToList(), true);
        }, transaction: true);
    }

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > RunHistory.MaxPageSize)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"a page holds 1 to {RunHistory.MaxPageSize} items");
    }
}
