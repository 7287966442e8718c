using MedZoo.Engine.Checkpoints;
using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Sweeps;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Persistence.Postgres;

/// <summary>AddMedZooPostgresStorage puts every store interface on one PostgreSQL database, as AddMedZooLiteDbStorage does on LiteDB.</summary>
public sealed class PostgresStorageExtensionsTests_Cluster(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task AddMedZooPostgresStorage_EveryStoreInterface_ResolvesToOneDatabase()
    {
        await using var engine = await server.OpenAsync(); // an empty schema for this test
        var builder = WebApplication.CreateBuilder();
        builder.AddMedZooPostgresStorage(server.Servers.Postgres + ";Search Path=" + engine.SearchPath);
        await using var services = builder.Services.BuildServiceProvider();

        var runs = services.GetRequiredService<IRunStore>();
        Assert.IsType<PostgresRunStore>(runs);
        Assert.Same(runs, services.GetRequiredService<IMetricStore>());
        Assert.Same(runs, services.GetRequiredService<IRunEventStore>());
        Assert.Same(runs, services.GetRequiredService<IPreviewStore>());
        Assert.Same(runs, services.GetRequiredService<IRunHistoryStore>());
        Assert.Same(services.GetRequiredService<IRunCheckpointStore>(), services.GetRequiredService<ICheckpointStore>());
        Assert.IsType<PostgresCheckpointStore>(services.GetRequiredService<IRunCheckpointStore>());
        Assert.IsType<PostgresJournalStore>(services.GetRequiredService<IRunJournalStore>());
        Assert.IsType<PostgresUserStore>(services.GetRequiredService<IUserStore>());
        Assert.IsType<PostgresDatasetStore>(services.GetRequiredService<IDatasetStore>());
        Assert.IsType<PostgresReviewStore>(services.GetRequiredService<IReviewStore>());
        Assert.IsType<PostgresSweepStore>(services.GetRequiredService<ISweepStore>());
        Assert.IsType<PostgresApiTokenStore>(services.GetRequiredService<IApiTokenStore>());

        // What the registered stores write, the test engine's stores on the same schema read.
        runs.Insert(new RunRecord { Id = "r", Name = "from DI", CreatedAt = DateTime.UtcNow });
        Assert.Equal("from DI", engine.Runs.Get("r")!.Name);
    }
}
