using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Sweeps;

namespace MedZoo.Web.Persistence;

/// <summary>
/// Registers the embedded storage: one LiteDB file in the data folder behind every store interface
/// the pages, hub, API and workers use (<see cref="IRunStore"/>, <see cref="IMetricStore"/>,
/// <see cref="IRunEventStore"/>, <see cref="IPreviewStore"/>, <see cref="IRunCheckpointStore"/>,
/// <see cref="IUserStore"/>, <see cref="IDatasetStore"/>, <see cref="IReviewStore"/>, <see cref="ISweepStore"/>, <see cref="IApiTokenStore"/>), and the importer
/// of headless runs' journals. Another storage engine is another method like this one; nothing else changes.
/// </summary>
public static class LiteDbStorageExtensions
{
    /// <summary>
    /// Adds the LiteDB stores. Call it after <c>AddMedZooRuns</c>: hosted services stop in reverse order,
    /// so the journal importer stops before the run worker and the event recorder.
    /// </summary>
    public static WebApplicationBuilder AddMedZooLiteDbStorage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<MedZooDatabase>();
        services.AddSingleton<RunRepository>();
        services.AddSingleton<IRunStore>(sp => sp.GetRequiredService<RunRepository>());
        services.AddSingleton<IMetricStore>(sp => sp.GetRequiredService<RunRepository>());
        services.AddSingleton<IRunEventStore>(sp => sp.GetRequiredService<RunRepository>());
        services.AddSingleton<IPreviewStore>(sp => sp.GetRequiredService<RunRepository>());
        services.AddSingleton<IRunHistoryStore>(sp => sp.GetRequiredService<RunRepository>());
        services.AddSingleton<LiteDbCheckpointStore>();
        services.AddSingleton<IRunCheckpointStore>(sp => sp.GetRequiredService<LiteDbCheckpointStore>());
        services.AddSingleton<ICheckpointStore>(sp => sp.GetRequiredService<LiteDbCheckpointStore>());
        services.AddSingleton<UserRepository>();
        services.AddSingleton<IUserStore>(sp => sp.GetRequiredService<UserRepository>());
        services.AddSingleton<DatasetRepository>();
        services.AddSingleton<IDatasetStore>(sp => sp.GetRequiredService<DatasetRepository>());
        services.AddSingleton<ReviewRepository>();
        services.AddSingleton<IReviewStore>(sp => sp.GetRequiredService<ReviewRepository>());
        services.AddSingleton<ISweepStore, LiteDbSweepStore>();
        services.AddSingleton<IApiTokenStore, LiteDbApiTokenStore>();
        services.AddSingleton<JournalRepository>();
        services.AddSingleton<IRunJournalStore>(sp => sp.GetRequiredService<JournalRepository>());
        services.AddHostedService<RunJournalImporter>();
        return builder;
    }
}
