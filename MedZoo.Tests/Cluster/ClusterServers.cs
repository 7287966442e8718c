using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// A real PostgreSQL and Redis from Debian's packages for cluster tests, started by
/// <c>scripts/cluster-servers.sh</c> on free ports with throw-away data (never a mock of either server).
/// Restart methods serve the fault trials; disposing stops both and deletes their data.
/// </summary>
public sealed class ClusterServers : IAsyncDisposable
{
    private readonly TempFolder _folder;

    private ClusterServers(TempFolder folder, string postgres, string redis)
    {
        _folder = folder;
        Postgres = postgres;
        Redis = redis;
    }

    /// <summary>Npgsql connection string of the database <c>medzoo</c>.</summary>
    public string Postgres { get; }

    /// <summary>Redis endpoint, <c>127.0.0.1:PORT</c>.</summary>
    public string Redis { get; }

    /// <summary>PostgreSQL's port.</summary>
    public int PostgresPort => new Npgsql.NpgsqlConnectionStringBuilder(Postgres).Port;

    /// <summary>Redis's port.</summary>
    public int RedisPort => int.Parse(Redis.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The script that starts and stops the servers (also used by scripts/cluster.sh).</summary>
    public static string Script => Path.Combine(TestPaths.RepositoryRoot, "scripts", "cluster-servers.sh");

    /// <summary>Starts both servers; fails with the script's own message when it cannot.</summary>
    public static async Task<ClusterServers> StartAsync()
    {
        var folder = TestPaths.NewTempFolder();
        var dir = Path.Combine(folder.Path, "servers");
        var output = await RunAsync("start", dir);
        string Value(string name) =>
            output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..].Trim('"')
            ?? throw new InvalidOperationException($"{Script} start printed no {name}:\n{output}");
        return new ClusterServers(folder, Value("MEDZOO_POSTGRES"), Value("MEDZOO_REDIS"));
    }

    /// <summary>Stops and starts PostgreSQL on the same port and data (what an operator's restart does).</summary>
    public Task RestartPostgresAsync() => RunAsync("restart-postgres", Dir);

    /// <summary>Stops and starts Redis on the same port (its data is not persisted, as configured for the backplane).</summary>
    public Task RestartRedisAsync() => RunAsync("restart-redis", Dir);

    /// <summary>Stops Redis (an outage that lasts until <see cref="StartRedisAsync"/>).</summary>
    public Task StopRedisAsync() => RunAsync("stop-redis", Dir);

    /// <summary>Starts Redis again on the same port after <see cref="StopRedisAsync"/>.</summary>
    public Task StartRedisAsync() => RunAsync("start-redis", Dir);

    /// <summary>Stops PostgreSQL (an outage that lasts until <see cref="StartPostgresAsync"/>).</summary>
    public Task StopPostgresAsync() => RunAsync("stop-postgres", Dir);

    /// <summary>Starts PostgreSQL again on the same port and data after <see cref="StopPostgresAsync"/>.</summary>
    public Task StartPostgresAsync() => RunAsync("start-postgres", Dir);

    /// <summary>Sends Redis a PING over its wire protocol; true when it answers PONG.</summary>
    public async Task<bool> PingRedisAsync()
    {
        var parts = Redis.Split(':');
        using var client = new TcpClient();
        await client.ConnectAsync(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[64];
        var n = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
    }

    private string Dir => Path.Combine(_folder.Path, "servers");

    /// <summary>Runs <paramref name="script"/> (default <see cref="Script"/>) with a command; its stdout then stderr, or an exception naming the exit code.</summary>
    internal static async Task<string> RunAsync(string command, string dir, string? script = null)
    {
        script ??= Script;
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(command);
        info.ArgumentList.Add(dir);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} {command} exited {p.ExitCode}: {await stderr}{await stdout}");
        return await stdout + await stderr;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("remove", Dir);
        }
        finally
        {
            _folder.Dispose();
        }
    }
}
