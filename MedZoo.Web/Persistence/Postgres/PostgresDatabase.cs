using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;

using MedZoo.Web.Runs;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// The PostgreSQL database of cluster mode: one <see cref="NpgsqlDataSource"/> (a connection pool) shared by every
/// PostgreSQL store, the schema created idempotently at start, and the one place where transient failures are retried.
/// Every row is one run, metric point, event, preview, account, …: the columns the stores filter and sort by, and the
/// record itself as JSONB (nested parts such as class metrics or sweep trials stay in it).
/// </summary>
/// <remarks>
/// A dropped connection (a restarted server answers 57P01 "terminating connection due to administrator command" on
/// every pooled connection, or 08xxx, or a socket error) is retried with a short back-off (50 ms doubling to 2 s) for
/// up to <see cref="RetryFor"/> (30 s: a restart or a short outage passes unnoticed but for the wait), after clearing
/// the pool so that no other dead connection is handed out; then <see cref="StoreUnavailableException"/> is thrown
/// (the event recorder keeps its batch and tries again). Callers never retry. A retried
/// operation runs again from the start in a new transaction, so its work must be repeatable: every store write is
/// (keyed upserts, <c>AddIfAbsent</c>, read-modify-write that reads again), and so are the event recorder's batches.
/// </remarks>
public sealed class PostgresDatabase : IDisposable
{
    /// <summary>Version of the schema this code creates and reads (the row in <c>medzoo_schema</c>).</summary>
    public const int SchemaVersion = 1;

    /// <summary>How long one operation retries transient failures before it throws <see cref="StoreUnavailableException"/> (30 s).</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromSeconds(30);

    // Any number: serializes schema creation between web nodes and workers starting at the same time.
    private const long SchemaLockKey = 0x4D65645A6F6F;

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly NpgsqlDataSource _source;
    private readonly string _unpooled;
    private readonly AsyncLocal<NpgsqlConnection?> _batch = new();

    /// <summary>Connects to <paramref name="connectionString"/> and creates the schema if it is missing.</summary>
    /// <exception cref="InvalidOperationException">The database holds a newer schema than this version of MedZoo knows.</exception>
    public PostgresDatabase(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _source = NpgsqlDataSource.Create(connectionString);
        _unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        var version = Run(CreateSchema, transaction: true);
        if (version > SchemaVersion)
            throw new InvalidOperationException(
                $"The PostgreSQL database holds MedZoo schema version {version}, but this MedZoo knows only up to {SchemaVersion}: upgrade MedZoo on this machine.");
    }

    /// <summary>True when <paramref name="e"/> is a failure that the same operation may not meet again (a lost connection, a server restart).</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        // Class 08 is a lost or refused connection, except 08P01: a protocol violation (a bug) fails the same way again.
        PostgresException p => (p.SqlState.StartsWith("08", StringComparison.Ordinal) && p.SqlState != PostgresErrorCodes.ProtocolViolation)
            || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        NpgsqlException n => n.IsTransient,
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="work"/> on a connection (in a transaction when asked), retrying transient failures. Inside
    /// <see cref="Batch"/> it joins the batch's transaction and is not retried alone: the batch is retried whole.
    /// </summary>
    internal T Run<T>(Func<NpgsqlConnection, T> work, bool transaction = false)
    {
        if (_batch.Value is { } joined) return work(joined);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = _source.OpenConnection();
                if (!transaction) return work(connection);
                using var tx = connection.BeginTransaction();
                var result = work(connection);
                tx.Commit();
                return result;
            }
            catch (Exception e) when (IsTransient(e) || Lost(connection))
            {
                _source.Clear();
                Backoff(attempt, clock, e);
            }
            finally
            {
                connection?.Dispose();
            }
        }
    }

    /// <summary>
    /// Opens a connection outside the pool, for session state that must end when it closes (an advisory lock): a pooled
    /// connection would keep its session, and the lock, after being handed back. Not retried: the caller tries again later.
    /// </summary>
    internal NpgsqlConnection OpenUnpooled()
    {
        var connection = new NpgsqlConnection(_unpooled);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a connection with a repeatable-read transaction (retrying transient failures): every query on it sees the
    /// database as of its first query, even rows that other transactions delete meanwhile. The caller disposes both.
    /// </summary>
    internal (NpgsqlConnection Connection, NpgsqlTransaction Snapshot) BeginSnapshot()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = _source.OpenConnection();
                var tx = connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
                Execute(connection, "SELECT 1");
                return (connection, tx);
            }
            catch (Exception e) when (IsTransient(e))
            {
                connection?.Dispose();
                _source.Clear();
                Backoff(attempt, clock, e);
            }
        }
    }

    /// <summary>
    /// True when the operation's connection broke under it, whatever was thrown: code that writes through a stream (a
    /// checkpoint's zip) may meet the server's restart in a write and then "Connection is not open" in its own dispose,
    /// which hides the first exception.
    /// </summary>
    private static bool Lost(NpgsqlConnection? connection) =>
        connection is not null && (connection.FullState.HasFlag(System.Data.ConnectionState.Broken) || connection.FullState == System.Data.ConnectionState.Closed);

    /// <summary>Waits before the next try (50 ms doubling to 2 s), or throws once <see cref="RetryFor"/> has passed.</summary>
    private void Backoff(int attempt, System.Diagnostics.Stopwatch clock, Exception e)
    {
        var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 50L << Math.Min(attempt - 1, 10)));
        if (clock.Elapsed + delay > RetryFor)
            throw new StoreUnavailableException(
                $"PostgreSQL did not answer for {clock.Elapsed.TotalSeconds:0} s ({attempt} tries; last: {e.Message}); is the database server running?", e);
        Thread.Sleep(delay);
    }

    /// <summary>Runs <paramref name="write"/> as one transaction: every store call it makes on this thread joins it.</summary>
    internal void Batch(Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (_batch.Value is not null)
        {
            write();
            return;
        }
        Run(connection =>
        {
            _batch.Value = connection;
            try
            {
                write();
            }
            finally
            {
                _batch.Value = null;
            }
            return 0;
        }, transaction: true);
    }

    /// <summary>A command with positional parameters <c>$1, $2, …</c>; strings marked as JSON go as JSONB.</summary>
    internal static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] args)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var a in args)
            command.Parameters.Add(a switch
            {
                JsonText j => new NpgsqlParameter { Value = j.Text, NpgsqlDbType = NpgsqlDbType.Jsonb },
                null => new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                _ => new NpgsqlParameter { Value = a },
            });
        return command;
    }

    /// <summary>Executes a statement; returns the rows it changed.</summary>
    internal static int Execute(NpgsqlConnection connection, string sql, params object?[] args)
    {
        using var command = Command(connection, sql, args);
        return command.ExecuteNonQuery();
    }

    /// <summary>
    /// Inserts a new row with a text primary key <c>id</c> (<paramref name="insert"/> is the plain <c>INSERT</c>, whose
    /// parameter <c>$1</c> is the id and whose JSONB document is <paramref name="doc"/>). When a row with that id is already
    /// there and holds the same document, the insert counts as done: it is this insert's own row, whose commit landed
    /// while its answer was lost with the connection, and <see cref="Run{T}"/> retried it. A row with another document
    /// is a real conflict and is refused, naming the id. Returns false when the row was found already there.
    /// </summary>
    internal static bool InsertNew(NpgsqlConnection connection, string table, string insert, JsonText doc, params object?[] args)
    {
        if (args.Length == 0 || args[0] is not string id) throw new ArgumentException("the first parameter of an insert is the row's id", nameof(args));
        if (Execute(connection, insert + " ON CONFLICT (id) DO NOTHING", args) > 0) return true;
        var same = Query(connection, $"SELECT doc = $2 FROM {table} WHERE id = $1", r => r.GetBoolean(0), id, doc);
        if (same is [true]) return false;
        throw new InvalidOperationException($"{table}: a row with id '{id}' already exists");
    }

    /// <summary>Reads every row of a query with <paramref name="read"/>.</summary>
    internal static List<T> Query<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, params object?[] args)
    {
        using var command = Command(connection, sql, args);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    /// <summary>The records in column 0 of a query's rows.</summary>
    internal static List<T> Documents<T>(NpgsqlConnection connection, string sql, params object?[] args) =>
        Query(connection, sql, r => FromJson<T>(r.GetString(0)), args);

    /// <summary>A record as JSONB text.</summary>
    internal static JsonText ToJson<T>(T value) => new(JsonSerializer.Serialize(value, Json));

    /// <summary>A record from its JSONB text.</summary>
    internal static T FromJson<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidDataException($"a stored {typeof(T).Name} is empty (JSON null)");

    /// <summary>A JSON value of any type (for <c>jsonb_set</c>).</summary>
    internal static JsonText ValueJson<T>(T value) => ToJson(value);

    /// <summary>A string parameter sent as JSONB.</summary>
    internal readonly record struct JsonText(string Text);

    private static int CreateSchema(NpgsqlConnection c)
    {
        Execute(c, "SELECT pg_advisory_xact_lock($1)", SchemaLockKey);
        Execute(c, """
            CREATE TABLE IF NOT EXISTS medzoo_schema (version int NOT NULL);
            CREATE TABLE IF NOT EXISTS runs (id text PRIMARY KEY, status int NOT NULL, created_at bigint NOT NULL, doc jsonb NOT NULL);
            CREATE INDEX IF NOT EXISTS runs_status ON runs (status, created_at);
            CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
            CREATE TABLE IF NOT EXISTS metric_points (id bigserial PRIMARY KEY, run_id text NOT NULL, key text, seq bigint NOT NULL,
                kind int NOT NULL, position bigint NOT NULL, doc jsonb NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS metric_points_key ON metric_points (key) WHERE key IS NOT NULL;
            CREATE INDEX IF NOT EXISTS metric_points_run_seq ON metric_points (run_id, seq, id);
            CREATE INDEX IF NOT EXISTS metric_points_run_kind_seq ON metric_points (run_id, kind, seq, id);
            CREATE TABLE IF NOT EXISTS run_events (id bigserial PRIMARY KEY, run_id text NOT NULL, key text, seq bigint NOT NULL, doc jsonb NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS run_events_key ON run_events (key) WHERE key IS NOT NULL;
            CREATE INDEX IF NOT EXISTS run_events_run_seq ON run_events (run_id, seq, id);
            CREATE TABLE IF NOT EXISTS slice_previews (id text PRIMARY KEY, run_id text NOT NULL, plane int NOT NULL, slice_index int NOT NULL, doc jsonb NOT NULL);
            CREATE INDEX IF NOT EXISTS slice_previews_run ON slice_previews (run_id);
            CREATE TABLE IF NOT EXISTS checkpoints (id text PRIMARY KEY, run_id text NOT NULL, doc jsonb NOT NULL);
            CREATE INDEX IF NOT EXISTS checkpoints_run ON checkpoints (run_id);
            CREATE TABLE IF NOT EXISTS checkpoint_chunks (file_id text NOT NULL, n int NOT NULL, run_id text NOT NULL, data bytea NOT NULL, PRIMARY KEY (file_id, n));
            CREATE INDEX IF NOT EXISTS checkpoint_chunks_run ON checkpoint_chunks (run_id);
            CREATE TABLE IF NOT EXISTS journals (id text PRIMARY KEY, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS users (id text PRIMARY KEY, role text NOT NULL, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS datasets (id text PRIMARY KEY, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS data_roots (id text PRIMARY KEY, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS dataset_plans (id text PRIMARY KEY, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS reviews (id text PRIMARY KEY, run_id text NOT NULL, status int NOT NULL, created_at bigint NOT NULL, doc jsonb NOT NULL);
            CREATE INDEX IF NOT EXISTS reviews_run ON reviews (run_id);
            CREATE INDEX IF NOT EXISTS reviews_status ON reviews (status, created_at);
            ALTER TABLE reviews ADD COLUMN IF NOT EXISTS changed_at timestamptz NOT NULL DEFAULT clock_timestamp();
            CREATE INDEX IF NOT EXISTS reviews_changed ON reviews (changed_at);
            CREATE TABLE IF NOT EXISTS uploads (id text PRIMARY KEY, created_at bigint NOT NULL, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS review_files (area int NOT NULL, owner_id text NOT NULL, name text NOT NULL, bytes bigint NOT NULL,
                chunks int NOT NULL, PRIMARY KEY (area, owner_id, name));
            CREATE TABLE IF NOT EXISTS review_file_chunks (area int NOT NULL, owner_id text NOT NULL, name text NOT NULL, n int NOT NULL,
                data bytea NOT NULL, PRIMARY KEY (area, owner_id, name, n));
            CREATE TABLE IF NOT EXISTS sweeps (id text PRIMARY KEY, created_at bigint NOT NULL, doc jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS api_tokens (id text PRIMARY KEY, user_id text NOT NULL, hash text NOT NULL UNIQUE, created_at bigint NOT NULL, doc jsonb NOT NULL);
            CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_id, created_at);
            CREATE TABLE IF NOT EXISTS dataprotection_keys (name text PRIMARY KEY, xml text NOT NULL, created_at bigint NOT NULL);
            """);
        Execute(c, "INSERT INTO medzoo_schema (version) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM medzoo_schema)", SchemaVersion);
        using var read = Command(c, "SELECT max(version) FROM medzoo_schema");
        return (int)read.ExecuteScalar()!;
    }

    /// <summary>Closes the pool.</summary>
    public void Dispose() => _source.Dispose();
}
