using MedZoo.Tests.Web.Support;
using MedZoo.Web.Cluster;
using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Real PostgreSQL and Redis (<see cref="ClusterServers"/>) and one web node in cluster mode on them (the dashboard on a
/// real port, its own data folder, a configured admin and the production trainer behind it), shared by a test class.
/// </summary>
public class ClusterNode : IAsyncLifetime
{
    private Web.Support.MedZooAppFactory? _app;
    private TestSupport.TempFolder? _data;

    public ClusterServers Servers { get; private set; } = null!;

    public Web.Support.MedZooAppFactory App => _app!;

    public Uri Address { get; private set; } = null!;

    /// <summary>Settings a derived fixture adds to the web node's (read at start).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> ExtraSettings => [];
    /// <summary>The node's data folder (its <c>journal/</c> is where <c>medzoo train --record</c> writes for it).</summary>
    public string DataDirectory => _data!.Path;

    public IRunStore Runs => App.Services.GetRequiredService<IRunStore>();

    public IWorkerStore Workers => App.Services.GetRequiredService<IWorkerStore>();

    public async Task InitializeAsync()
    {
        Servers = await ClusterServers.StartAsync();
        _data = TestSupport.TestPaths.NewTempFolder();
        _app = new Web.Support.MedZooAppFactory(_data.Path, executor: null);
        _app.Settings["MedZoo:Cluster:Enabled"] = "true";
        _app.Settings["MedZoo:Cluster:Postgres"] = Servers.Postgres;
        _app.Settings["MedZoo:Cluster:Redis"] = Servers.Redis;
        foreach (var (key, value) in ExtraSettings) _app.Settings[key] = value;
        Address = _app.Start();
    }

    /// <summary>The smoke preset's configuration (seconds of training) with the device, epochs and synthetic size given.</summary>
    public static string SmokeConfig(string device, int epochs = 2)
    {
        var o = TrainerRunExecutor.Smoke();
        o.Device = device;
        o.Epochs = epochs;
        return RunConfigJson.Serialize(o);
    }

    /// <summary>Polls the shared database (worker processes' changes reach this node only through it) until the run satisfies <paramref name="condition"/>.</summary>
    public async Task<RunRecord> WaitForRunAsync(string runId, Func<RunRecord, bool> condition, string what, WorkerProcess? worker = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var run = Runs.Get(runId);
            if (run is not null && condition(run)) return run;
            if (DateTime.UtcNow > deadline || worker?.HasExited == true)
                throw new TimeoutException($"{(worker?.HasExited == true ? "the worker exited" : "timed out")} waiting for {what}: run is {run?.Status} ({run?.Reason}), epoch {run?.EpochsCompleted}" +
                                           (worker is null ? "" : $"\nworker {worker.Name} output:\n{worker.Output}"));
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until <paramref name="worker"/>'s heartbeat is in the registry.</summary>
    public Task<WorkerInfo> WaitForWorkerAsync(WorkerProcess worker) => WaitForHeartbeatAsync(worker, _ => true, "it to register");

    /// <summary>Waits until <paramref name="worker"/>'s heartbeat satisfies <paramref name="condition"/> (it beats every 2 s).</summary>
    public async Task<WorkerInfo> WaitForHeartbeatAsync(WorkerProcess worker, Func<WorkerInfo, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (Workers.List().FirstOrDefault(w => w.Name == worker.Name) is { } info && condition(info)) return info;
            if (worker.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"worker {worker.Name}: timed out waiting for {what} (exited: {worker.HasExited}):\n{worker.Output}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _data?.Dispose();
        if (Servers is not null) await Servers.DisposeAsync();
    }
}
