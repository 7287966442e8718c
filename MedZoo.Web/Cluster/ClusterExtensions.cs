using Hangfire;
using MedZoo.Web.Cluster.Live;
using MedZoo.Web.Datasets;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>Registrations of cluster mode: the web node's (<see cref="AddMedZooCluster"/>) and a worker process's (<see cref="AddMedZooWorker"/>).</summary>
public static class ClusterExtensions
{
    /// <summary>
    /// A web node in cluster mode: the PostgreSQL stores instead of LiteDB's, the worker registry and placements, and a
    /// Hangfire client that queues runs (no Hangfire server: web nodes train nothing, and <c>AddMedZooRuns</c> leaves
    /// the run worker out). The data-protection keys move to PostgreSQL too, so that every node reads the sign-in
    /// cookies and antiforgery tokens that another issued (a load balancer may send a user to any node).
    /// </summary>
    public static WebApplicationBuilder AddMedZooCluster(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ClusterOptions.Read(builder.Configuration);
        options.Validate();
        builder.AddMedZooPostgresStorage(options.Postgres!);
        AddClusterStores(builder.Services);
        builder.Services.AddMedZooPostgresKeyRing();
        builder.Services.AddHangfire(c => c.UseMedZooStorage(options.Postgres!));
        builder.Services.AddSingleton<IClusterRuns, ClusterRuns>();
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<ClusterQueueRepair>();
        // Reviews too are workers' jobs; their files are in PostgreSQL (AddMedZooPostgresStorage), and their progress
        // reaches this node's pages from the database.
        builder.Services.AddSingleton<IReviewQueue, ClusterReviews>();
        builder.Services.AddSingleton<ClusterReviewWatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterReviewWatcher>());
        // `medzoo train --record` journals in this node's data folder go into PostgreSQL as in embedded mode; nodes that
        // share the folder take turns per journal (IRunJournalStore.TryClaim). Registered after the recorder (AddMedZooRuns):
        // hosted services stop in reverse order, so the importer stops before the recorder writes its last batch.
        builder.Services.AddHostedService<RunJournalImporter>();
        if (LiveOptions(builder.Configuration, options) is { } live)
        {
            // Workers' updates arrive in this node's notifier (pages, hub clients, sweeps); what this node publishes
            // itself (a stop requested here, a run queued here) goes out to the other nodes.
            builder.Services.AddClusterLiveReceiving(live);
            builder.Services.AddClusterLiveForwarding(live);
        }
        return builder;
    }

    /// <summary>
    /// A <c>medzoo worker</c> process: the PostgreSQL stores, the event recorder and notifier (the live stream's source
    /// on this machine), the trainer, the review runner, and one Hangfire server per queue with one slot per device of
    /// its kind (runs and reviews share the slots).
    /// </summary>
    public static HostApplicationBuilder AddMedZooWorker(this HostApplicationBuilder builder, WorkerOptions worker)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var identity = new WorkerIdentity(worker);
        var options = ClusterOptions.Read(builder.Configuration);
        options.Validate();
        var services = builder.Services;
        services.AddSettings<DataOptions>(builder.Configuration, DataOptions.Section, o => o.Validate());
        services.AddSettings<DataAccessOptions>(builder.Configuration, DataAccessOptions.Section, o => o.Validate());
        services.AddSingleton(TimeProvider.System);
        services.AddMedZooPostgresStores(options.Postgres!);
        AddClusterStores(services);
        services.AddSingleton(identity);
        services.AddSingleton<RunEventRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<RunEventRecorder>());
        services.AddSingleton<RunNotifier>();
        services.AddSingleton<DatasetService>();
        services.AddSingleton<IRunExecutor, TrainerRunExecutor>();
        services.AddTransient<ClusterRunJob>();
        // Reviews: the same runner as the embedded mode's worker, on this worker's devices.
        services.AddSettings<ReviewOptions>(builder.Configuration, ReviewOptions.Section, o => o.Validate());
        services.AddSingleton<ReviewStorage>();
        services.AddSingleton<ReviewNotifier>();
        services.AddSingleton<ReviewRunner>();
        services.AddTransient<ClusterReviewJob>();
        services.AddHostedService<WorkerHeartbeat>();
        if (LiveOptions(builder.Configuration, options) is { } live) services.AddClusterLiveForwarding(live);
        services.AddHangfire(c => c.UseMedZooStorage(options.Postgres!));
        foreach (var queue in worker.Queues)
        {
            var slots = worker.Devices.Count(d => ClusterQueues.Of(d) == queue) * worker.RunsPerDevice;
            services.AddHangfireServer(o =>
            {
                o.ServerName = $"{identity.Name}:{queue}";
                o.Queues = [queue];
                o.WorkerCount = slots;
                // Runs stop at a batch boundary and record their end before the process exits.
                o.ShutdownTimeout = TimeSpan.FromSeconds(60);
            });
        }
        // Hosted services stop in reverse order: the Hangfire servers (added last) stop their runs before the recorder writes the last events.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
        return builder;
    }

    /// <summary>
    /// The live stream's settings (<c>MedZoo:Cluster:Live</c>, with <c>MedZoo:Cluster:Redis</c> as its server), or null
    /// when no Redis is set: then the cluster works, but pages show a worker's progress only when they read it again.
    /// </summary>
    private static Action<ClusterLiveOptions>? LiveOptions(IConfiguration configuration, ClusterOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            Console.Error.WriteLine($"warning: {ClusterOptions.Section}:Redis (or ${ClusterOptions.RedisVariable}) is not set: " +
                                    "viewers will see workers' runs when a page loads, not live");
            return null;
        }
        return o =>
        {
            configuration.GetSection(ClusterOptions.Section + ":Live").Bind(o);
            o.Redis = options.Redis!;
        };
    }

    private static void AddClusterStores(IServiceCollection services)
    {
        services.AddSingleton<PostgresClusterStore>();
        services.AddSingleton<IWorkerStore>(sp => sp.GetRequiredService<PostgresClusterStore>());
        services.AddSingleton<IRunPlacementStore>(sp => sp.GetRequiredService<PostgresClusterStore>());
    }
}
