using Bunit;
using MedZoo.Tests.Web.Components;
using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Cluster;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Placement;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Cluster;

/// <summary>The Workers page on a cluster's registry (a real PostgreSQL): a worker's review slot links to the review, named by its subject.</summary>
public sealed class ClusterWorkersPageTests(PostgresServerFixture server) : ComponentTestContext, IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task Render_AWorkerRunningAReview_ListsItAsAReviewOfItsSubjectLinkedToTheReviewPage()
    {
        await using var engine = await server.OpenAsync();
        var registry = new PostgresClusterStore(engine.Database);
        engine.Reviews.Save(new ReviewRecord { Id = "rv-1", RunId = "r", SubjectName = "phantom-003 (synthetic)", Status = ReviewStatus.Running, CreatedAt = DateTime.UtcNow });
        registry.Beat(new WorkerInfo
        {
            Name = "gpu-box", Host = "h", ProcessId = 1, Devices = ["cuda:0"], Queues = [ClusterQueues.Gpu], Capacity = 1,
            Runs = [new WorkerRun(ClusterReviewJob.Slot("rv-1"), "cuda:0")],
        });
        Context.Services.AddSingleton<IWorkerStore>(registry);
        Context.Services.AddSingleton<IRunStore>(engine.Runs);
        Context.Services.AddSingleton<IReviewStore>(engine.Reviews);

        var page = Context.Render<MedZoo.Web.Cluster.Pages.Workers>();

        // The page reads the registry off the render thread.
        page.WaitForElement(".mz-worker[data-worker=gpu-box] .mz-worker-review", TimeSpan.FromSeconds(10));
        var review = page.Find(".mz-worker[data-worker=gpu-box] .mz-worker-review");
        Assert.Equal("review of phantom-003 (synthetic) on cuda:0", review.TextContent.Trim());
        Assert.Equal("/reviews/rv-1", review.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("1 / 1", page.Find(".mz-worker[data-worker=gpu-box] .mz-worker-load").TextContent.Trim());
    }
}
