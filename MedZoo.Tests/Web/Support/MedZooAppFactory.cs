using MedZoo.Tests.Cluster;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Runs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MedZoo.Tests.Web.Support;

/// <summary>
/// The dashboard on a real Kestrel port (port 0: any free one) with its own data folder, a
/// configured admin and, unless told otherwise, the scripted executor. Dispose and create another
/// on the same folder to test a restart.
/// </summary>
public sealed class MedZooAppFactory : WebApplicationFactory<Program>
{
    public const string AdminName = "admin";
    public const string AdminPassword = "admin-password-1";

    private readonly string _dataDirectory;
    private readonly IRunExecutor? _executor;

    /// <param name="dataDirectory">The data folder (reuse it to simulate a restart).</param>
    /// <param name="executor">The executor to host; null keeps the production one (the real trainer).</param>
    /// <param name="configureAdmin">False leaves the admin unconfigured (first-run setup).</param>
    public MedZooAppFactory(string dataDirectory, IRunExecutor? executor, bool configureAdmin = true)
    {
        _dataDirectory = dataDirectory;
        _executor = executor;
        ConfigureAdmin = configureAdmin;
        UseKestrel(0);
    }

    public bool ConfigureAdmin { get; }

    /// <summary>Extra configuration (key → value) for this server only; set before <see cref="Start"/>.</summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    /// <summary>Extra service registrations for this server only (e.g. a cluster role); set before <see cref="Start"/>.</summary>
    public Action<IServiceCollection>? ExtraServices { get; set; }

    /// <summary>
    /// When set (before <see cref="Start"/>), the dashboard is a web node of this cluster (it trains nothing) and
    /// <see cref="Start"/> also starts an in-process worker of it that trains the runs with this factory's executor.
    /// </summary>
    public ClusterDatabase? Cluster { get; init; }

    /// <summary>The cluster's worker, once started (null in embedded mode).</summary>
    public InProcessWorker? Worker { get; private set; }

    /// <summary>Starts the server (and the cluster's worker) and returns its address (http://127.0.0.1:PORT/).</summary>
    public Uri Start()
    {
        if (Cluster is { } cluster)
            foreach (var (key, value) in cluster.Settings()) Settings.TryAdd(key, value);
        StartServer();
        // After the web node, which created the database's tables: the worker finds them there.
        // (On the thread pool: xunit's synchronization context must not be the one this call blocks.)
        // The worker gets this server's extra settings too (a review's Overlap, say, is the worker's to apply).
        if (Cluster is { } c) Worker = Task.Run(() => InProcessWorker.StartAsync(c, _executor, $"worker-{c.Name}", Settings)).GetAwaiter().GetResult();
        return ClientOptions.BaseAddress;
    }

    /// <summary>Stops the worker first (its runs end while the web node still hears of it), then the server.</summary>
    public override async ValueTask DisposeAsync()
    {
        try
        {
            if (Worker is not null) await Worker.DisposeAsync();
        }
        finally
        {
            await base.DisposeAsync();
            // Hangfire's connections come from Npgsql's process-wide pool of this connection string, which outlives the
            // hosts: idle, they would hold about six of the shared server's connections per test for five minutes.
            if (Cluster is not null)
            {
                using var connection = new Npgsql.NpgsqlConnection(Cluster.Postgres);
                Npgsql.NpgsqlConnection.ClearPool(connection);
            }
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("MedZoo:DataDirectory", _dataDirectory);
        if (ConfigureAdmin)
        {
            builder.UseSetting("MedZoo:Admin:UserName", AdminName);
            builder.UseSetting("MedZoo:Admin:Password", AdminPassword);
        }
        // Where server-side navigations and circuit disconnects go (a few lines per browser test):
        // what a browser test's failure needs to tell a lost navigation from a lost connection.
        builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Components.Server.Circuits.RemoteNavigationManager", "Debug");
        builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Components.Server.Circuits.CircuitRegistry", "Debug");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            ExtraServices?.Invoke(services);
            if (_executor is null) return;
            services.RemoveAll<IRunExecutor>();
            services.AddSingleton(_executor);
        });
    }

    /// <summary>A data folder for one test, removed on dispose.</summary>
    public static TempFolder NewDataFolder() => TestPaths.NewTempFolder();
}
