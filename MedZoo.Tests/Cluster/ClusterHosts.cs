using MedZoo.Tests.E2E;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Cluster;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// One cluster of a browser test: a database of the shared PostgreSQL of its own (so tests stay isolated on one
/// server), the shared Redis, and a channel prefix of its own on that Redis (so one test's live stream never reaches
/// another's web node).
/// </summary>
public sealed record ClusterDatabase(string Postgres, string Redis, string Name)
{
    /// <summary>The configuration that makes a web node or a worker a member of this cluster.</summary>
    public IEnumerable<KeyValuePair<string, string>> Settings() =>
    [
        new($"{ClusterOptions.Section}:{nameof(ClusterOptions.Enabled)}", "true"),
        new($"{ClusterOptions.Section}:{nameof(ClusterOptions.Postgres)}", Postgres),
        new($"{ClusterOptions.Section}:{nameof(ClusterOptions.Redis)}", Redis),
        new($"{ClusterOptions.Section}:Live:ChannelPrefix", "MedZoo-" + Name),
    ];
}

/// <summary>
/// The end-to-end tests' cluster mode (a collection fixture): one real PostgreSQL and Redis (<see cref="ClusterServers"/>)
/// for every cluster browser test of the run, a fresh database for each data folder a test hosts the dashboard on (the
/// same folder again, as a restart does, gets the same database back), and each dashboard a web node in cluster mode
/// with an in-process <see cref="InProcessWorker"/> that trains its runs through the test's executor.
/// </summary>
public sealed class ClusterHosts : IDashboardHosts, IAsyncLifetime
{
    /// <summary>The xunit collection of the cluster browser tests (they share this fixture's servers).</summary>
    public const string Collection = "Cluster E2E";

    private readonly Dictionary<string, ClusterDatabase> _databases = new(StringComparer.Ordinal);
    private ClusterServers? _servers;

    /// <inheritdoc />
    public bool IsCluster => true;

    /// <summary>The shared servers.</summary>
    public ClusterServers Servers => _servers ?? throw new InvalidOperationException("the cluster servers are not started");

    public async Task InitializeAsync() => _servers = await ClusterServers.StartAsync();

    /// <inheritdoc />
    public MedZooAppFactory NewApp(string dataDirectory, IRunExecutor? executor, bool configureAdmin = true) =>
        new(dataDirectory, executor, configureAdmin) { Cluster = Database(dataDirectory) };

    /// <summary>The database of <paramref name="dataDirectory"/>'s dashboard, created on first use.</summary>
    public ClusterDatabase Database(string dataDirectory)
    {
        lock (_databases)
        {
            if (_databases.TryGetValue(dataDirectory, out var known)) return known;
            var name = $"e2e_{_databases.Count + 1}";
            using (var connection = new NpgsqlConnection(Servers.Postgres))
            {
                connection.Open();
                using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
                create.ExecuteNonQuery();
            }
            var database = new ClusterDatabase(new NpgsqlConnectionStringBuilder(Servers.Postgres) { Database = name }.ConnectionString, Servers.Redis, name);
            _databases[dataDirectory] = database;
            return database;
        }
    }

    public async Task DisposeAsync()
    {
        if (_servers is not null) await _servers.DisposeAsync();
    }
}

/// <summary>The collection that shares <see cref="ClusterHosts"/> among the cluster browser test classes.</summary>
[CollectionDefinition(ClusterHosts.Collection)]
public sealed class ClusterHostsCollection : ICollectionFixture<ClusterHosts>;

/// <summary>
/// A <c>medzoo worker</c> inside the test process: the host <see cref="ClusterExtensions.AddMedZooWorker"/> builds, as
/// the worker verb does, except that the test's executor (scripted, with its gates, or the real trainer when null)
/// trains the runs, so a test holds a run step by step across the queue. Its data folder is its own, as on another machine.
/// </summary>
public sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TestSupport.TempFolder _data;

    private InProcessWorker(IHost host, TestSupport.TempFolder data, string name)
    {
        _host = host;
        _data = data;
        Name = name;
    }

    /// <summary>The worker's name (what the dashboard shows for the runs it trains).</summary>
    public string Name { get; }

    /// <summary>The worker's services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// Builds and starts a CPU worker of <paramref name="cluster"/>, one run at a time (the embedded default), configured
    /// also with <paramref name="settings"/> (the web node's own, as one medzoo.json on every machine would).
    /// </summary>
    public static async Task<InProcessWorker> StartAsync(ClusterDatabase cluster, IRunExecutor? executor, string name,
        IEnumerable<KeyValuePair<string, string>>? settings = null)
    {
        var data = TestSupport.TestPaths.NewTempFolder();
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production", Args = [], DisableDefaults = true,
            });
            builder.Configuration.AddInMemoryCollection((settings ?? []).Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
            builder.Configuration.AddInMemoryCollection(cluster.Settings().Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
            builder.Configuration["MedZoo:DataDirectory"] = data.Path;
            builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
            builder.AddMedZooWorker(new WorkerOptions { Name = name, Devices = ["cpu"], Queues = [ClusterQueues.Cpu] });
            if (executor is not null)
            {
                builder.Services.RemoveAll<IRunExecutor>();
                builder.Services.AddSingleton(executor);
            }
            var host = builder.Build();
            await host.StartAsync();
            return new InProcessWorker(host, data, name);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Stops the worker (its runs stop at their next step and go back to the queue) and removes its data folder.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync();
        }
        finally
        {
            _host.Dispose();
            _data.Dispose();
        }
    }
}
