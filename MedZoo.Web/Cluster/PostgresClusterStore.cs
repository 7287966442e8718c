using MedZoo.Web.Runs;
using MedZoo.Web.Persistence.Postgres;
using Npgsql;

using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// The worker registry and run placements in cluster mode's PostgreSQL database (tables <c>cluster_workers</c> and
/// <c>cluster_placements</c>, created here if missing). Times are the database's, so machines' clocks never disagree.
/// </summary>
public sealed class PostgresClusterStore : IWorkerStore, IRunPlacementStore
{
    private readonly PostgresDatabase _db;

    /// <summary>Creates the tables if they are missing.</summary>
    public PostgresClusterStore(PostgresDatabase db)
    {
        _db = db;
        _db.Run(c =>
        {
            // Web nodes and workers starting together: concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog.
            PostgresDatabase.Execute(c, "SELECT pg_advisory_xact_lock($1)", SchemaLockKey);
            return PostgresDatabase.Execute(c, """
            CREATE TABLE IF NOT EXISTS cluster_workers (name text PRIMARY KEY, last_seen timestamptz NOT NULL, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS cluster_placements (run_id text PRIMARY KEY, worker text, device text, session text,
                requested int NOT NULL DEFAULT 0, previous_worker text, assigned_at timestamptz);
            ALTER TABLE cluster_placements ADD COLUMN IF NOT EXISTS reason text;
            ALTER TABLE cluster_placements ADD COLUMN IF NOT EXISTS queued_at timestamptz;
            """);
        }, transaction: true);
    }

    // Any number apart from the main schema's: serializes the creation of these tables.
    private const long SchemaLockKey = 0x4D65645A6F6F01;

    // Any number apart from the others: one web node at a time repairs the queue.
    private const long RepairLockKey = 0x4D65645A6F6F02;

    /// <summary>
    /// Queued runs with no job in Hangfire's queue for longer than <paramref name="olderThan"/> (the node that stored
    /// them died before queueing their job), handed to <paramref name="enqueue"/> one at a time while this node holds the
    /// cluster's repair lock, so that two nodes never queue the same run twice (a node that finds the lock taken does
    /// nothing this time). A queued run seen for the first time is stamped now and considered at a later call. Returns
    /// the runs handed over.
    /// </summary>
    public IReadOnlyList<string> RepairQueue(TimeSpan olderThan, Action<string> enqueue, string hangfireSchema) => _db.Run(c =>
    {
        // A session lock on a connection outside any transaction: the statements below commit at once and hold no row
        // locks, so queueing (other connections, writing the same placement rows) never waits on this one.
        if (!PostgresDatabase.Query(c, $"SELECT pg_try_advisory_lock({RepairLockKey})", r => r.GetBoolean(0))[0]) return (IReadOnlyList<string>)[];
        try
        {
            return RepairQueueLocked(c, olderThan, enqueue, hangfireSchema);
        }
        finally
        {
            PostgresDatabase.Execute(c, $"SELECT pg_advisory_unlock({RepairLockKey})");
        }
    });

    private static IReadOnlyList<string> RepairQueueLocked(NpgsqlConnection c, TimeSpan olderThan, Action<string> enqueue, string hangfireSchema)
    {
        PostgresDatabase.Execute(c, $"""
            INSERT INTO cluster_placements (run_id, requested, queued_at)
                SELECT id, 0, now() FROM runs WHERE status = {(int)RunStatus.Queued}
            ON CONFLICT (run_id) DO UPDATE SET queued_at = now() WHERE cluster_placements.queued_at IS NULL
            """);
        var orphans = PostgresDatabase.Query(c, $"""
            SELECT r.id FROM runs r JOIN cluster_placements p ON p.run_id = r.id
            WHERE r.status = {(int)RunStatus.Queued} AND p.queued_at < now() - $1::interval
              AND NOT EXISTS (SELECT 1 FROM "{hangfireSchema}".job j
                              WHERE j.statename IN ('Enqueued', 'Processing', 'Scheduled', 'Awaiting') AND strpos(j.arguments::text, r.id) > 0)
            ORDER BY r.created_at
            """, r => r.GetString(0), $"{olderThan.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} seconds");
        // Queued while the lock is held: Hangfire commits each job before the next node can look.
        foreach (var id in orphans) enqueue(id);
        return orphans;
    }

    /// <inheritdoc />
    public void Beat(WorkerInfo worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        _db.Run(c => PostgresDatabase.Execute(c,
            "INSERT INTO cluster_workers (name, last_seen, doc) VALUES ($1, now(), $2) ON CONFLICT (name) DO UPDATE SET last_seen = now(), doc = EXCLUDED.doc",
            worker.Name, PostgresDatabase.ToJson(worker)));
    }

    /// <inheritdoc />
    public IReadOnlyList<WorkerInfo> List() => _db.Run(c => PostgresDatabase.Query(c,
        "SELECT doc::text, last_seen, extract(epoch FROM now() - last_seen)::float8 FROM cluster_workers ORDER BY name",
        r => PostgresDatabase.FromJson<WorkerInfo>(r.GetString(0)) with
        {
            LastSeen = DateTime.SpecifyKind(r.GetDateTime(1), DateTimeKind.Utc),
            HeartbeatAgeSeconds = Math.Max(0, r.GetDouble(2)),
        }));

    /// <inheritdoc />
    public bool Remove(string name) => _db.Run(c => PostgresDatabase.Execute(c, "DELETE FROM cluster_workers WHERE name = $1", name)) > 0;

    /// <inheritdoc />
    public RunPlacement? Get(string runId) => _db.Run(c => Read(c, runId));

    /// <inheritdoc />
    public void Queued(string runId) => _db.Run(c => PostgresDatabase.Execute(c, """
        INSERT INTO cluster_placements (run_id, requested, queued_at) VALUES ($1, 0, now())
        ON CONFLICT (run_id) DO UPDATE SET requested = 0, reason = NULL, worker = NULL, device = NULL, session = NULL, assigned_at = NULL, queued_at = now(),
            previous_worker = coalesce(cluster_placements.worker, cluster_placements.previous_worker)
        """, runId));

    /// <inheritdoc />
    public void Request(string runId, RequestedState state, string? reason = null) => _db.Run(c => PostgresDatabase.Execute(c,
        "INSERT INTO cluster_placements (run_id, requested, reason) VALUES ($1, $2, $3) ON CONFLICT (run_id) DO UPDATE SET requested = EXCLUDED.requested, reason = EXCLUDED.reason",
        runId, (int)state, reason));

    /// <inheritdoc />
    public RunPlacement? Assign(string runId, string worker, string device, string session) => _db.Run(c =>
    {
        PostgresDatabase.Execute(c, "INSERT INTO cluster_placements (run_id) VALUES ($1) ON CONFLICT (run_id) DO NOTHING", runId);
        var before = PostgresDatabase.Query(c, "SELECT run_id, worker, device, session, requested, previous_worker, reason FROM cluster_placements WHERE run_id = $1 FOR UPDATE",
            ReadRow, runId)[0];
        PostgresDatabase.Execute(c, """
            UPDATE cluster_placements SET previous_worker = coalesce(worker, previous_worker), worker = $2, device = $3, session = $4, assigned_at = now()
            WHERE run_id = $1
            """, runId, worker, device, session);
        return before;
    }, transaction: true);

    /// <inheritdoc />
    public void Release(string runId, string session) => _db.Run(c => PostgresDatabase.Execute(c,
        "UPDATE cluster_placements SET previous_worker = worker, worker = NULL, device = NULL, session = NULL WHERE run_id = $1 AND session = $2",
        runId, session));

    private static RunPlacement? Read(NpgsqlConnection c, string runId) => PostgresDatabase.Query(c,
        "SELECT run_id, worker, device, session, requested, previous_worker, reason FROM cluster_placements WHERE run_id = $1", ReadRow, runId).FirstOrDefault();

    private static RunPlacement ReadRow(NpgsqlDataReader r) => new(
        r.GetString(0), Text(r, 1), Text(r, 2), Text(r, 3), (RequestedState)r.GetInt32(4), Text(r, 5), Text(r, 6));

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
