using Hangfire;
using Hangfire.PostgreSql;
using Npgsql;

using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>Hangfire's storage in the cluster's PostgreSQL database, with settings shared by web nodes and workers.</summary>
public static class ClusterHangfire
{
    /// <summary>Schema of Hangfire's own tables (apart from MedZoo's).</summary>
    public const string Schema = "hangfire";

    /// <summary>
    /// How long a job taken by a worker that stopped answering stays invisible to the others. With the sliding timeout
    /// the worker holding a job renews its fetch time in the background (every fifth of this), however long the run
    /// trains; a worker killed with SIGKILL stops renewing, and its run is handed to another worker at most this long
    /// (plus one <see cref="QueuePollInterval"/>) after its last renewal. 30 s keeps that under the minute the cluster
    /// promises, while a renewal delayed by a busy database or a garbage collection pause (seconds) never hands a live
    /// run to a second worker.
    /// </summary>
    public static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle worker looks at its queues: a queued run starts within this (one cheap indexed query per worker each time).</summary>
    public static readonly TimeSpan QueuePollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The storage options both sides use.</summary>
    public static PostgreSqlStorageOptions StorageOptions() => new()
    {
        SchemaName = Schema,
        // Installed by InstallSchema under the cluster's lock: Hangfire's own installer, run by several processes that
        // start together, failed on "duplicate key" creating the schema.
        PrepareSchemaIfNecessary = false,
        InvisibilityTimeout = InvisibilityTimeout,
        UseSlidingInvisibilityTimeout = true,
        QueuePollInterval = QueuePollInterval,
        DistributedLockTimeout = TimeSpan.FromMinutes(1),
    };

    /// <summary>
    /// Creates a job with <paramref name="create"/>, retrying for up to 30 s while PostgreSQL is unreachable or has just
    /// restarted: Hangfire's client keeps its own pooled connections, which a restart kills (57P01 on the first use of
    /// each), and it does not retry; the pools are cleared before each new try.
    /// </summary>
    public static string CreateJob(Func<string> create, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(create);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return create();
            }
            catch (Exception e) when (Transient(e) && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (attempt == 1) logger.LogWarning(e, "Queueing a job failed (is PostgreSQL restarting?); trying again for up to 30 s");
                NpgsqlConnection.ClearAllPools();
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(2000, 50L << Math.Min(attempt - 1, 10))));
            }
        }
    }

    private static bool Transient(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (MedZoo.Web.Persistence.Postgres.PostgresDatabase.IsTransient(e)) return true;
        return false;
    }

    // Any number, apart from the one the MedZoo schema is created under.
    private const long InstallLockKey = 0x4D655A48616E67;

    /// <summary>
    /// Creates or upgrades Hangfire's tables in <paramref name="connectionString"/>'s database, one process at a time (a
    /// PostgreSQL advisory lock held for the install): web nodes and workers that start together each call it.
    /// </summary>
    public static void InstallSchema(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({InstallLockKey})", connection)) take.ExecuteNonQuery();
        try
        {
            PostgreSqlObjectsInstaller.Install(connection, Schema);
        }
        finally
        {
            using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({InstallLockKey})", connection);
            release.ExecuteNonQuery();
        }
    }

    /// <summary>Configures Hangfire to keep its jobs in <paramref name="connectionString"/>'s database (installing its tables first).</summary>
    public static IGlobalConfiguration UseMedZooStorage(this IGlobalConfiguration configuration, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        InstallSchema(connectionString);
        return configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), StorageOptions());
    }
}
