using Npgsql;

namespace MedZoo.Tests.Cluster;

/// <summary>The real servers the cluster tests stand on: they start, answer, survive a restart and leave nothing behind.</summary>
public sealed class ClusterServersTests
{
    [Fact]
    public async Task StartRestartRemove_BothServersAnswerThroughoutAndStopAfter()
    {
        await using var servers = await ClusterServers.StartAsync();
        await using (var db = new NpgsqlConnection(servers.Postgres))
        {
            await db.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE t (v int); INSERT INTO t VALUES (42)", db);
            await create.ExecuteNonQueryAsync();
        }
        Assert.True(await servers.PingRedisAsync());

        await servers.RestartPostgresAsync();
        await servers.RestartRedisAsync();

        // Data written before the restart is still there (a fast shutdown is clean). A new physical connection:
        // Npgsql's pool hands out connections the restart killed (57P01) — the cluster store must retry on those.
        await using (var db = new NpgsqlConnection(servers.Postgres + ";Pooling=false"))
        {
            await db.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT v FROM t", db);
            Assert.Equal(42, (int)(await read.ExecuteScalarAsync())!);
        }
        Assert.True(await servers.PingRedisAsync());

        var postgres = servers.Postgres;
        await servers.DisposeAsync();
        await using var gone = new NpgsqlConnection(postgres + ";Pooling=false;Timeout=5");
        await Assert.ThrowsAnyAsync<Exception>(() => gone.OpenAsync());
    }
}
