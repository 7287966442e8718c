using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Cluster;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;
using Microsoft.Extensions.Logging.Abstractions;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// A web node hears of every review a worker saves in the shared PostgreSQL (a real server): what changed between two
/// looks is published once, in its latest state, including a review queued and finished between them.
/// </summary>
public sealed class ClusterReviewWatcherTests(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>
{
    private static ReviewRecord Review(string id, ReviewStatus status) => new()
    {
        Id = id, RunId = "r", RunName = "r", Status = status, SubjectId = "s", CreatedAt = DateTime.UtcNow, CreatedBy = "tester",
    };

    [Fact]
    public async Task Poll_ReviewsSavedByAnotherProcess_PublishesEachChangedOneOnceInItsLatestState()
    {
        await using var engine = await server.OpenAsync();
        var store = new PostgresReviewStore(engine.Database);
        store.Save(Review("before", ReviewStatus.Completed));
        var notifier = new ReviewNotifier();
        var published = new List<(string Id, ReviewStatus Status)>();
        using var sub = notifier.Subscribe(r => published.Add((r.Id, r.Status)));
        var watcher = new ClusterReviewWatcher(store, notifier, NullLogger<ClusterReviewWatcher>.Instance);
        watcher.Poll(); // the first look publishes nothing that was there before

        // Another process (a worker, over its own connection pool) queues, runs and finishes one review between two looks.
        using (var other = new PostgresDatabase(server.Servers.Postgres + ";Search Path=" + engine.SearchPath))
        {
            var workerStore = new PostgresReviewStore(other);
            workerStore.Save(Review("fast", ReviewStatus.Queued));
            workerStore.Save(Review("fast", ReviewStatus.Running));
            workerStore.Save(Review("fast", ReviewStatus.Completed));
            workerStore.Save(Review("slow", ReviewStatus.Running));
        }
        watcher.Poll();
        watcher.Poll(); // nothing new: nothing published again

        Assert.Equal([("fast", ReviewStatus.Completed), ("slow", ReviewStatus.Running)], published);
        store.Save(Review("slow", ReviewStatus.Failed));
        watcher.Poll();
        Assert.Equal(("slow", ReviewStatus.Failed), published[^1]);
        Assert.Equal(3, published.Count);
    }
}
