using MedZoo.Tests.Web.Support;
using MedZoo.Web.Reviews;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Reviews;

/// <summary>The review worker records failures with their reason and finishes reviews a previous process left.</summary>
public sealed class ReviewWorkerTests
{
    private static ReviewDocument Review(string id, string runId, ReviewStatus status, ReviewSource source = ReviewSource.Validation, string subject = "phantom-000") => new()
    {
        Id = id, RunId = runId, RunName = runId, Status = status, Source = source, SubjectId = subject,
        CreatedAt = DateTime.UtcNow, CreatedBy = "tester",
    };

    [Fact]
    public async Task Execute_RunDeleted_RecordsFailedWithReasonAndKeepsServing()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var repo = app.Services.GetRequiredService<ReviewRepository>();
        repo.Save(Review("rv1", "gone", ReviewStatus.Queued));

        app.Services.GetRequiredService<ReviewWorker>().Execute("rv1", CancellationToken.None);

        var after = repo.Get("rv1")!;
        Assert.Equal(ReviewStatus.Failed, after.Status);
        Assert.Equal("run 'gone' no longer exists", after.Reason);
        Assert.NotNull(after.FinishedAt);
        using var client = app.CreateClient();
        Assert.True((await client.GetAsync("/account/signin")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Start_ReviewLeftRunningByAnEarlierProcess_IsTakenUpAgain()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using (var first = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor()))
        {
            first.Start();
            first.Services.GetRequiredService<ReviewRepository>().Save(Review("rv2", "gone-too", ReviewStatus.Running));
        }

        await using var second = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        second.Start();
        var repo = second.Services.GetRequiredService<ReviewRepository>();
        var deadline = DateTime.UtcNow + Waits.Timeout;
        while (repo.Get("rv2")!.Status is ReviewStatus.Running or ReviewStatus.Queued && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var after = repo.Get("rv2")!;
        Assert.Equal(ReviewStatus.Failed, after.Status); // taken up, then failed for its missing run: not left spinning
        Assert.Equal("run 'gone-too' no longer exists", after.Reason);
    }
}
