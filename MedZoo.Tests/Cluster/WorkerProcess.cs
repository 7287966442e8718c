using System.Collections.Concurrent;
using System.Diagnostics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// A real <c>medzoo worker</c> process (the built <c>medzoo.dll</c>) on the cluster's PostgreSQL, with its own data
/// folder; its output is kept for failure messages. Dispose stops it gracefully (SIGTERM) or <see cref="KillAsync"/> ends it
/// with SIGKILL, as a crashed machine would.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempFolder _data;
    private readonly ConcurrentQueue<string> _output = new();

    private WorkerProcess(string name, Process process, TempFolder data)
    {
        Name = name;
        _process = process;
        _data = data;
    }

    /// <summary>The worker's name (<c>--name</c>).</summary>
    public string Name { get; }

    /// <summary>The worker's own data folder (<c>MedZoo:DataDirectory</c>: relative folders a run writes land here).</summary>
    public string DataFolder => _data.Path;

    /// <summary>Everything it printed so far.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>medzoo worker --name NAME ARGS</c> against <paramref name="postgres"/>.</summary>
    public static WorkerProcess Start(string postgres, string name, params string[] args) => Start(postgres, redis: null, name, args);

    /// <summary>Starts a worker against the cluster's PostgreSQL and Redis: it also streams its runs live to the web nodes.</summary>
    public static WorkerProcess Start(ClusterServers servers, string name, params string[] args) => Start(servers.Postgres, servers.Redis, name, args);

    private static WorkerProcess Start(string postgres, string? redis, string name, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is built with the tests");
        var data = TestPaths.NewTempFolder();
        var start = new ProcessStartInfo("dotnet", [dll, "worker", "--name", name, .. args])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["MEDZOO_POSTGRES"] = postgres, ["MedZoo__DataDirectory"] = data.Path, ["DOTNET_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Information", ["Logging__LogLevel__Hangfire"] = "Warning",
            },
        };
        if (redis is not null) start.Environment["MEDZOO_REDIS"] = redis;
        else start.Environment.Remove("MEDZOO_REDIS");
        var process = Process.Start(start)!;
        var worker = new WorkerProcess(name, process, data);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) worker._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) worker._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGKILL: no shutdown code runs, the worker's runs are left as they were.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait for the process to exit (its runs go back to the queue).</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
            await term!.WaitForExitAsync();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            await KillAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _process.Dispose();
            _data.Dispose();
        }
    }
}
