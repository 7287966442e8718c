using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Cluster;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Runs.Placement;
using Npgsql;

namespace MedZoo.Tests.Web.Cluster;

/// <summary>Run placements in a real PostgreSQL: a stop carries its reason to the worker, and a new request or queueing clears it.</summary>
public sealed class PostgresClusterStoreTests_Cluster(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>, IAsyncLifetime
{
    private PostgresStoreEngine _engine = null!;
    private PostgresClusterStore _store = null!;

    public async Task InitializeAsync()
    {
        _engine = await server.OpenAsync();
        _store = new PostgresClusterStore(_engine.Database);
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public void Request_StopWithAReason_IsReadBackAndClearedByTheNextRequestOrQueueing()
    {
        _store.Queued("r1");
        Assert.Null(_store.Get("r1")!.Reason);

        _store.Request("r1", RequestedState.Stopped, "stopped by successive halving at epoch 1");
        var stopped = _store.Get("r1")!;
        Assert.Equal(RequestedState.Stopped, stopped.Requested);
        Assert.Equal("stopped by successive halving at epoch 1", stopped.Reason);

        _store.Request("r1", RequestedState.Paused);
        Assert.Null(_store.Get("r1")!.Reason);

        _store.Request("r1", RequestedState.Stopped, "again");
        _store.Queued("r1"); // resumed: a new session starts without the old stop
        Assert.Equal((RequestedState.Running, (string?)null), (_store.Get("r1")!.Requested, _store.Get("r1")!.Reason));
    }

    [Fact]
    public void Open_ATableFromBeforeReasons_GainsTheColumn()
    {
        using (var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = _engine.SearchPath, Pooling = false }.ConnectionString))
        {
            c.Open();
            using var drop = new NpgsqlCommand("ALTER TABLE cluster_placements DROP COLUMN reason", c);
            drop.ExecuteNonQuery();
        }

        var reopened = new PostgresClusterStore(_engine.Database);
        reopened.Request("r2", RequestedState.Stopped, "why");
        Assert.Equal("why", reopened.Get("r2")!.Reason);
    }
}
