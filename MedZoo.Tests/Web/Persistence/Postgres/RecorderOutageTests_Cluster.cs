using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MedZoo.Tests.Web.Persistence.Postgres;

/// <summary>
/// PostgreSQL is down for longer than a store retries (a real server, stopped and started): the event recorder keeps
/// the run's updates and writes every one of them once the server is back, instead of dropping them. Before, each
/// update of the batch was tried alone, failed, and was lost from the run's history.
/// </summary>
public sealed class RecorderOutageTests_Cluster(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task Record_PostgresDownLongerThanTheRetries_WritesEveryUpdateWhenItIsBack()
    {
        var engine = await server.OpenAsync();
        // A short retry budget (the product's is 30 s), so that the outage outlasts it in a test of seconds.
        using var database = new PostgresDatabase(server.Servers.Postgres + ";Search Path=" + engine.SearchPath + ";Timeout=2")
        {
            RetryFor = TimeSpan.FromSeconds(1),
        };
        var runs = new PostgresRunStore(database);
        runs.Insert(new RunRecord
        {
            Id = "r", Name = "r", Status = RunStatus.Running, Source = RunSource.Dashboard, CreatedBy = "ana", CreatedAt = DateTime.UtcNow,
            Model = "unet3d", Dataset = "synthetic", Device = "cpu", ConfigJson = """{"epochs":20}""", Epochs = 20,
        });
        var recorder = new RunEventRecorder(runs, runs, runs, runs, NullLogger<RunEventRecorder>.Instance);
        await recorder.StartAsync(CancellationToken.None);
        try
        {
            recorder.Enqueue(new RunUpdate(1, Epoch(1)));
            await recorder.FlushAsync();

            await server.Servers.StopPostgresAsync();
            for (var e = 2; e <= 20; e++) recorder.Enqueue(new RunUpdate(e, Epoch(e)));
            var flushed = recorder.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(4)); // several retry budgets: each ends in StoreUnavailableException
            Assert.False(flushed.IsCompleted, "the recorder finished its work although the database was down");
            await server.Servers.StartPostgresAsync();
            await flushed.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await recorder.StopAsync(CancellationToken.None);
            recorder.Dispose();
        }

        Assert.Equal(0, recorder.FailedUpdates("r"));
        Assert.Equal(Enumerable.Range(1, 20), engine.History.Metrics("r", MetricKind.Epoch).Select(m => m.Epoch));
        Assert.Equal(20, engine.Runs.Get("r")!.LastSeq);
        NpgsqlConnection.ClearAllPools();
    }

    private static EpochCompleted Epoch(int e) => new() { RunId = "r", Epoch = e, Epochs = 20, TrainLoss = 1.0 / e, LearningRate = 0.01, Seconds = 1 };
}
