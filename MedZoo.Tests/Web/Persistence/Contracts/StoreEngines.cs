using MedZoo.Tests.Cluster;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Persistence;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using MedZoo.Web.Sweeps;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>One storage engine's stores, empty, as the contract tests use them through the interfaces only.</summary>
public abstract class StoreEngine : IAsyncDisposable
{
    public abstract IRunStore Runs { get; }
    public abstract IRunHistoryStore History { get; }
    public abstract IUserStore Users { get; }
    public abstract IDatasetStore Datasets { get; }
    public abstract IReviewStore Reviews { get; }
    public abstract ISweepStore Sweeps { get; }
    public abstract IApiTokenStore Tokens { get; }
    public abstract IRunCheckpointStore Checkpoints { get; }
    public abstract IRunJournalStore Journals { get; }

    public abstract ValueTask DisposeAsync();
}

/// <summary>The embedded engine: a LiteDB file in a temporary folder.</summary>
public sealed class LiteDbStoreEngine : StoreEngine
{
    private readonly TempFolder _folder = TestPaths.NewTempFolder();
    private readonly MedZooDatabase _database;
    private readonly RunRepository _runs;

    public LiteDbStoreEngine()
    {
        _database = new MedZooDatabase(Options.Create(new DataOptions { DataDirectory = _folder.Path }));
        _runs = new RunRepository(_database);
        Users = new UserRepository(_database);
        Datasets = new DatasetRepository(_database);
        Reviews = new ReviewRepository(_database);
        Sweeps = new LiteDbSweepStore(_database);
        Tokens = new LiteDbApiTokenStore(_database);
        Checkpoints = new LiteDbCheckpointStore(_database);
        Journals = new JournalRepository(_database);
    }

    public override IRunStore Runs => _runs;
    public override IRunHistoryStore History => _runs;
    public override IUserStore Users { get; }
    public override IDatasetStore Datasets { get; }
    public override IReviewStore Reviews { get; }
    public override ISweepStore Sweeps { get; }
    public override IApiTokenStore Tokens { get; }
    public override IRunCheckpointStore Checkpoints { get; }
    public override IRunJournalStore Journals { get; }

    public override ValueTask DisposeAsync()
    {
        _database.Dispose();
        _folder.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The cluster engine: a <see cref="PostgresDatabase"/> on a schema of its own in a shared, real PostgreSQL.</summary>
public sealed class PostgresStoreEngine : StoreEngine
{
    private readonly PostgresRunStore _runs;

    public PostgresStoreEngine(PostgresDatabase database, string searchPath)
    {
        Database = database;
        SearchPath = searchPath;
        _runs = new PostgresRunStore(database);
        Users = new PostgresUserStore(database);
        Datasets = new PostgresDatasetStore(database);
        Reviews = new PostgresReviewStore(database);
        Sweeps = new PostgresSweepStore(database);
        Tokens = new PostgresApiTokenStore(database);
        Checkpoints = new PostgresCheckpointStore(database);
        Journals = new PostgresJournalStore(database);
    }

    public PostgresDatabase Database { get; }

    /// <summary>The schema this engine's tables live in.</summary>
    public string SearchPath { get; }
    public override IRunStore Runs => _runs;
    public override IRunHistoryStore History => _runs;
    public override IUserStore Users { get; }
    public override IDatasetStore Datasets { get; }
    public override IReviewStore Reviews { get; }
    public override ISweepStore Sweeps { get; }
    public override IApiTokenStore Tokens { get; }
    public override IRunCheckpointStore Checkpoints { get; }
    public override IRunJournalStore Journals { get; }

    public override ValueTask DisposeAsync()
    {
        Database.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// One real PostgreSQL per test class (started by <see cref="ClusterServers"/>); every test gets an empty schema of its
/// own in it (a search path), so tests never see each other's rows and the server starts once.
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private ClusterServers? _servers;

    public ClusterServers Servers => _servers ?? throw new InvalidOperationException("the PostgreSQL fixture has not started");

    public async Task InitializeAsync() => _servers = await ClusterServers.StartAsync();

    /// <summary>Stores over a new, empty schema.</summary>
    public async Task<PostgresStoreEngine> OpenAsync()
    {
        var schema = "t" + Guid.NewGuid().ToString("N");
        // Not pooled: a fault test may have restarted the server, which kills every pooled connection.
        await using (var connection = new NpgsqlConnection(Servers.Postgres + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new PostgresStoreEngine(new PostgresDatabase(Servers.Postgres + ";Search Path=" + schema), schema);
    }

    public async Task DisposeAsync()
    {
        if (_servers is not null) await _servers.DisposeAsync();
    }
}

/// <summary>The life of a contract test: a fresh, empty engine per test.</summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    protected StoreEngine Engine { get; private set; } = null!;

    /// <summary>Opens the engine under test, empty.</summary>
    protected abstract Task<StoreEngine> OpenAsync();

    public async Task InitializeAsync() => Engine = await OpenAsync();

    public async Task DisposeAsync() => await Engine.DisposeAsync();

    /// <summary>A UTC time with whole milliseconds (LiteDB keeps milliseconds).</summary>
    protected static DateTime At(int minutes) => new DateTime(2026, 12, 1, 8, 0, 0, DateTimeKind.Utc).AddMinutes(minutes);
}
