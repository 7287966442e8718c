using System.Net;
using System.Net.Sockets;
using MedZoo.Reliability.Server;
using MedZoo.Tests.Benchmarks;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Ports for the servers tests start and restart lie outside the kernel's ephemeral range, so that no outgoing
/// connection takes one as its source port between the choice and the server's bind (CI once lost Redis's port
/// that way while PostgreSQL was starting), and a server that finds its port taken says so at once.
/// </summary>
public sealed class ListenPortsTests
{
    private static void AssertOutsideEphemeral(int port)
    {
        var (low, high) = ListenPorts.Ephemeral();
        Assert.InRange(port, ListenPorts.Lowest, 65535);
        Assert.False(port >= low && port <= high, $"port {port} lies in the ephemeral range {low}-{high}");
    }

    [Fact]
    public void Free_IsOutsideTheEphemeralRangeAndBindable()
    {
        var ports = Enumerable.Range(0, 50).Select(_ => ListenPorts.Free()).ToArray();
        foreach (var port in ports) AssertOutsideEphemeral(port);
        Assert.True(ports.Distinct().Count() > 40, "the choice is spread over the range, not one port again and again");
        var port0 = ports[0];
        using var listener = new TcpListener(IPAddress.Loopback, port0);
        listener.Start();
        Assert.False(ListenPorts.IsFree(port0));
    }

    [Fact]
    public void Ephemeral_ReadsTheKernelsRange()
    {
        var (low, high) = ListenPorts.Ephemeral();
        var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal((int.Parse(text[0]), int.Parse(text[1])), (low, high));
    }

    [Fact]
    public void Script_PrintsDistinctPortsOutsideTheEphemeralRange_AndRefusesABadCount()
    {
        var (code, output) = BenchmarkScript.Run("../scripts/free-port.py", "20");
        Assert.True(code == 0, output);
        var ports = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.Equal(20, ports.Length);
        Assert.Equal(20, ports.Distinct().Count());
        foreach (var port in ports) AssertOutsideEphemeral(port);

        var (bad, message) = BenchmarkScript.Run("../scripts/free-port.py", "many");
        Assert.Equal(2, bad);
        Assert.Contains("usage:", message);
        Assert.DoesNotContain("Traceback", message);
    }

    [Fact]
    public async Task Servers_PortTakenWhileStopped_StartFailsAtOnceNamingThePort_AndWorksOnceFree()
    {
        await using var servers = await ClusterServers.StartAsync();
        AssertOutsideEphemeral(servers.PostgresPort);
        AssertOutsideEphemeral(servers.RedisPort);

        await servers.StopRedisAsync();
        using (var squatter = new TcpListener(IPAddress.Loopback, servers.RedisPort))
        {
            squatter.Start();
            var e = await Assert.ThrowsAsync<InvalidOperationException>(servers.StartRedisAsync);
            // Read from Redis's log on the spot (before, the script waited 10 s and said only "did not answer").
            Assert.Contains($"port {servers.RedisPort} is now held by another process", e.Message);
        }
        await servers.StartRedisAsync();
        Assert.True(await servers.PingRedisAsync());

        await servers.StopPostgresAsync();
        using (var squatter = new TcpListener(IPAddress.Loopback, servers.PostgresPort))
        {
            squatter.Start();
            var e = await Assert.ThrowsAsync<InvalidOperationException>(servers.StartPostgresAsync);
            Assert.Contains($"port {servers.PostgresPort} is now held by another process", e.Message);
        }
        await servers.StartPostgresAsync();
        await using var db = new Npgsql.NpgsqlConnection(servers.Postgres + ";Pooling=false");
        await db.OpenAsync();
    }
}
