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

    /// <summary>
    /// The race itself: the port chosen for each server is taken before the server binds it. The script is run from a
    /// copy whose free-port.py hands out a squatted port first, then a free one; start retries and both servers come up.
    /// </summary>
    [Fact]
    public async Task Start_PortTakenBetweenChoiceAndBind_EachServerRetriesOnAnotherPort()
    {
        using var work = TestSupport.TestPaths.NewTempFolder();
        File.Copy(ClusterServers.Script, Path.Combine(work.Path, "cluster-servers.sh"));
        using var takenPostgres = new TcpListener(IPAddress.Loopback, ListenPorts.Free());
        takenPostgres.Start();
        using var takenRedis = new TcpListener(IPAddress.Loopback, ListenPorts.Free());
        takenRedis.Start();
        int Port(TcpListener l) => ((IPEndPoint)l.LocalEndpoint).Port;
        var free = new[] { ListenPorts.Free(), ListenPorts.Free() };
        // PostgreSQL is started first: it is offered its taken port, then a free one; Redis likewise.
        var queue = Path.Combine(work.Path, "ports");
        File.WriteAllText(queue, $"{Port(takenPostgres)} {free[0]} {Port(takenRedis)} {free[1]}");
        File.WriteAllText(Path.Combine(work.Path, "free-port.py"),
            $"ports = open({System.Text.Json.JsonSerializer.Serialize(queue)}).read().split()\nprint(ports[0])\nopen({System.Text.Json.JsonSerializer.Serialize(queue)}, 'w').write(' '.join(ports[1:]))\n");
        var dir = Path.Combine(work.Path, "servers");
        var script = Path.Combine(work.Path, "cluster-servers.sh");
        try
        {
            var output = await ClusterServers.RunAsync("start", dir, script); // throws with the script's output unless it exits 0
            Assert.Contains($"port {Port(takenPostgres)} was taken before pg_start could bind it (try 1 of 5)", output);
            Assert.Contains($"port {Port(takenRedis)} was taken before redis_start could bind it (try 1 of 5)", output);
            Assert.Contains($"Port={free[0]};", output);
            Assert.Contains($"MEDZOO_REDIS=\"127.0.0.1:{free[1]}\"", output);
        }
        finally
        {
            await ClusterServers.RunAsync("remove", dir, script);
        }
    }

    [Fact]
    public async Task Servers_PortTakenWhileStopped_StartFailsAtOnceNamingThePort_AndWorksOnceFree()
    {
        await using var servers = await ClusterServers.StartAsync();
        AssertOutsideEphemeral(servers.PostgresPort);
        AssertOutsideEphemeral(servers.RedisPort);

        // The start fails on the spot, read from the server's log (before, the script waited 10 s for Redis and said
        // only "did not answer"), and succeeds once the port is free again.
        static async Task HeldWhileStopped(Func<Task> stop, Func<Task> start, int port)
        {
            await stop();
            using (var squatter = new TcpListener(IPAddress.Loopback, port))
            {
                squatter.Start();
                var e = await Assert.ThrowsAsync<InvalidOperationException>(start);
                Assert.Contains($"port {port} is now held by another process", e.Message);
            }
            await start();
        }

        await HeldWhileStopped(servers.StopRedisAsync, servers.StartRedisAsync, servers.RedisPort);
        Assert.True(await servers.PingRedisAsync());

        await HeldWhileStopped(servers.StopPostgresAsync, servers.StartPostgresAsync, servers.PostgresPort);
        await using var db = new Npgsql.NpgsqlConnection(servers.Postgres + ";Pooling=false");
        await db.OpenAsync();
    }
}
