using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Cluster;
using Npgsql;

namespace MedZoo.Tests.Cluster;

/// <summary>Hangfire's tables in the cluster's database, installed by processes that start at the same time.</summary>
public sealed class ClusterHangfireTests(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task InstallSchema_EightProcessesAtOnce_AllSucceedAndTheTablesExistOnce()
    {
        var database = "hf" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(server.Servers.Postgres + ";Pooling=false"))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connection = new NpgsqlConnectionStringBuilder(server.Servers.Postgres) { Database = database, Pooling = false }.ConnectionString;

        // As eight web nodes and workers starting together do (each is a separate connection).
        using var start = new Barrier(8);
        var installs = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            ClusterHangfire.InstallSchema(connection);
        })).ToArray();
        await Task.WhenAll(installs).WaitAsync(TimeSpan.FromMinutes(2));

        await using var check = new NpgsqlConnection(connection);
        await check.OpenAsync();
        await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hangfire' AND table_name IN ('job', 'jobqueue', 'server', 'lock')", check);
        Assert.Equal(4L, await tables.ExecuteScalarAsync());
        // Installing again (a node restarting) changes nothing and does not fail.
        ClusterHangfire.InstallSchema(connection);
    }
}
