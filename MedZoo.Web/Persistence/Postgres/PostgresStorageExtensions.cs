using MedZoo.Engine.Checkpoints;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Sweeps;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// Registers cluster mode's storage: one PostgreSQL database behind the store interfaces, as
/// <see cref="LiteDbStorageExtensions.AddMedZooLiteDbStorage"/> does with LiteDB. Registered: <see cref="IRunStore"/>,
/// <see cref="IMetricStore"/>, <see cref="IRunEventStore"/>, <see cref="IPreviewStore"/>, <see cref="IRunHistoryStore"/>,
/// <see cref="IUserStore"/>, <see cref="IDatasetStore"/>, <see cref="IReviewStore"/> and its files (<see cref="IReviewFiles"/>), <see cref="ISweepStore"/>,
/// <see cref="IApiTokenStore"/>, <see cref="IRunCheckpointStore"/> (and the engine's <see cref="ICheckpointStore"/>) and
/// <see cref="IRunJournalStore"/>. The journal importer (a hosted service reading this machine's journal folder) is not
/// added here: web nodes add it (<c>AddMedZooCluster</c>), workers do not.
/// </summary>
public static class PostgresStorageExtensions
{
    /// <summary>Adds the PostgreSQL stores over <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    public static WebApplicationBuilder AddMedZooPostgresStorage(this WebApplicationBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMedZooPostgresStores(connectionString);
        return builder;
    }

    /// <summary>The same stores on a service collection (a <c>medzoo worker</c> process has no web host).</summary>
    public static IServiceCollection AddMedZooPostgresStores(this IServiceCollection services, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.AddSingleton(_ => new PostgresDatabase(connectionString));
        services.AddSingleton<PostgresRunStore>();
        services.AddSingleton<IRunStore>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<IMetricStore>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<IRunEventStore>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<IPreviewStore>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<IRunHistoryStore>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<PostgresCheckpointStore>();
        services.AddSingleton<IRunCheckpointStore>(sp => sp.GetRequiredService<PostgresCheckpointStore>());
        services.AddSingleton<ICheckpointStore>(sp => sp.GetRequiredService<PostgresCheckpointStore>());
        services.AddSingleton<IRunJournalStore, PostgresJournalStore>();
        services.AddSingleton<IUserStore, PostgresUserStore>();
        services.AddSingleton<IDatasetStore, PostgresDatasetStore>();
        services.AddSingleton<PostgresReviewStore>();
        services.AddSingleton<IReviewStore>(sp => sp.GetRequiredService<PostgresReviewStore>());
        services.AddSingleton<IReviewFiles, PostgresReviewFiles>();
        services.AddSingleton<ISweepStore, PostgresSweepStore>();
        services.AddSingleton<IApiTokenStore, PostgresApiTokenStore>();
        return services;
    }
}
