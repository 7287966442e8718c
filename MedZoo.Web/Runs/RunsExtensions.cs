using MedZoo.Web.Live;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Settings;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Runs;

/// <summary>Registers persistence, live streaming and run hosting.</summary>
public static class RunsExtensions
{
    /// <summary>
    /// The event recorder, the notifier and hub bridge, the run worker and service, and the trainer
    /// that executes runs (the stores they use are registered by the storage, e.g. <c>AddMedZooLiteDbStorage</c>). Hosted services stop in reverse order, so the worker (registered after
    /// the recorder) stops its runs before the recorder writes the last events.
    /// </summary>
    public static WebApplicationBuilder AddMedZooRuns(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<DataOptions>(builder.Configuration, DataOptions.Section, o => o.Validate());
        // Sign-in cookies are encrypted with data-protection keys; keeping them in the data folder
        // (a Docker volume) means users stay signed in across restarts and container rebuilds.
        // Bound through options so that the folder is read when the app starts, after every configuration source.
        services.AddDataProtection().SetApplicationName("MedZoo");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<DataOptions>, ILoggerFactory>((o, data, logs) =>
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(data.Value.DataDirectory, "keys")), logs));
        services.AddSettings<RunsOptions>(builder.Configuration, RunsOptions.Section, o => o.Validate());
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<RunEventRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<RunEventRecorder>());
        services.AddSingleton<RunNotifier>();
        services.AddSettings<LiveOptions>(builder.Configuration, LiveOptions.Section, o => o.Validate());
        services.AddSingleton<HubBridge>();
        services.AddHostedService(sp => sp.GetRequiredService<HubBridge>());
        services.AddSingleton<RunWorker>();
        // In cluster mode web nodes train nothing: `medzoo worker` processes take the runs (MedZoo.Web.Cluster).
        if (!ClusterOptions.IsEnabled(builder.Configuration))
            services.AddHostedService(sp => sp.GetRequiredService<RunWorker>());
        services.AddSingleton<RunService>();
        // The engine's trainer; tests replace it with a scripted executor where they test hosting rather than training.
        services.AddSingleton<IRunExecutor, TrainerRunExecutor>();
        services.AddSignalR().AddJsonProtocol(o => LiveJson.Configure(o.PayloadSerializerOptions));
        services.ConfigureHttpJsonOptions(o => LiveJson.Configure(o.SerializerOptions));
        return builder;
    }
}
