using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using static MedZoo.Tests.Web.Support.AppTestHelpers;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Reviews;

/// <summary>The review worker records failures with their reason, marks reviews a crashed process left interrupted, and keeps reviews within the memory budget.</summary>
public sealed class ReviewWorkerTests
{
    private static ReviewRecord Review(string id, string runId, ReviewStatus status, ReviewSource source = ReviewSource.Validation, string subject = "phantom-000") => new()
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
    public async Task Start_ReviewLeftRunningByAnEarlierProcess_IsMarkedInterruptedAndNotRunAgain()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using (var first = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor()))
        {
            first.Start();
            var repo = first.Services.GetRequiredService<ReviewRepository>();
            repo.Save(Review("rv2", "gone-too", ReviewStatus.Running)); // what a process killed mid-review (say, out of memory) leaves
        }

        await using var second = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        second.Start();
        var repo2 = second.Services.GetRequiredService<ReviewRepository>();
        // Marked before the server serves, and not queued: Execute (what the queue calls) leaves it alone.
        var after = repo2.Get("rv2")!;
        Assert.Equal(ReviewStatus.Interrupted, after.Status);
        Assert.Equal(ReviewWorker.InterruptedReason, after.Reason);
        Assert.NotNull(after.FinishedAt);
        second.Services.GetRequiredService<ReviewWorker>().Execute("rv2", CancellationToken.None);
        Assert.Equal(ReviewStatus.Interrupted, repo2.Get("rv2")!.Status);
    }

    [Fact]
    public async Task Rerun_InterruptedReview_IsQueuedAndRunByTheWorker()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var repo = app.Services.GetRequiredService<ReviewRepository>();
        var service = app.Services.GetRequiredService<ReviewService>();
        repo.Save(Review("rv3", "gone-again", ReviewStatus.Interrupted));
        Assert.Throws<UnauthorizedAccessException>(() => service.Rerun(Principal("v", Roles.Viewer), "rv3"));

        var done = new TaskCompletionSource<ReviewRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = app.Services.GetRequiredService<ReviewNotifier>().Subscribe(r =>
        {
            if (r.Id == "rv3" && r.Status == ReviewStatus.Failed) done.TrySetResult(r);
        });
        Assert.Equal(ReviewStatus.Queued, service.Rerun(Admin, "rv3").Status);
        var failed = await Waits.For(done.Task, "the re-run review to be run (and fail for its missing run)");
        Assert.Equal("run 'gone-again' no longer exists", failed.Reason);
        repo.Save(Review("rv4", "gone-again", ReviewStatus.Completed));
        Assert.Throws<InvalidOperationException>(() => service.Rerun(Admin, "rv4"));
    }

    [Fact]
    public async Task Start_VolumeOverTheMemoryBudget_IsRefusedBeforeItIsQueued()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Settings["MedZoo:Data:MemoryBudgetBytes"] = (512 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        app.Start();
        var runs = app.Services.GetRequiredService<RunRepository>();
        var repo = app.Services.GetRequiredService<ReviewRepository>();
        var service = app.Services.GetRequiredService<ReviewService>();
        // A run of the smoke preset (24³ phantoms) with a checkpoint.
        runs.Insert(new RunRecord
        {
            Id = "r1", Name = "r1", Status = RunStatus.Completed, CreatedAt = DateTime.UtcNow, CreatedBy = "tester",
            ConfigJson = RunConfigJson.Serialize(TrainerRunExecutor.Smoke()), ClassNames = ["background", "csf", "gm", "wm"], Modalities = ["T1", "T2"],
        });
        app.Services.GetRequiredService<LiteDbCheckpointStore>().Save("r1", "best", 1, s => s.WriteByte(1));
        repo.SaveUpload(new UploadRecord { Id = "u1", Name = "big", Images = ["big.nii.gz"], Shape = [256, 256, 256], Channels = 1, CreatedAt = DateTime.UtcNow });

        var e = Assert.Throws<ArgumentException>(() => service.Start(Admin, "r1", "best", ReviewSource.Upload, "u1"));
        Assert.Contains("MedZoo:Data:MemoryBudgetBytes", e.Message);
        Assert.Contains("512 KiB", e.Message);
        // A validation subject (24³, 2 channels, 4 classes: about 1.1 MB) is over this budget too.
        var subject = ReviewService.ValidationSubjects(runs.Get("r1")!)[0];
        Assert.Throws<ArgumentException>(() => service.Start(Admin, "r1", "best", ReviewSource.Validation, subject));
        Assert.Empty(repo.List());
    }

    [Fact]
    public async Task Start_ValidationSubjectOfADatasetOutsideTheRoots_IsRefused()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        using var outside = MedZooAppFactory.NewDataFolder();
        MedZoo.Tests.Engine.Data.DatasetMemoryTests.WriteDecathlon(outside.Path);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var options = TrainerRunExecutor.Smoke();
        options.Dataset.Name = "decathlon";
        options.Dataset.Path = outside.Path; // e.g. queued before an admin removed its root
        app.Services.GetRequiredService<RunRepository>().Insert(new RunRecord
        {
            Id = "r2", Name = "r2", Status = RunStatus.Completed, Source = RunSource.Dashboard, CreatedAt = DateTime.UtcNow, CreatedBy = "tester",
            ConfigJson = RunConfigJson.Serialize(options), ClassNames = ["background", "thing"], Modalities = ["M0", "M1"],
        });
        app.Services.GetRequiredService<LiteDbCheckpointStore>().Save("r2", "best", 1, s => s.WriteByte(1));
        var e = Assert.ThrowsAny<ArgumentException>(() =>
            app.Services.GetRequiredService<ReviewService>().Start(Admin, "r2", "best", ReviewSource.Validation, "S_001"));
        Assert.Contains("outside the data roots", e.Message);
        Assert.DoesNotContain(outside.Path, e.Message);
    }

    [Theory]
    [InlineData(64L * 64 * 64, 1, 2, 64L * 64 * 64 * (16 + 34 + 17))]
    [InlineData(512L * 512 * 512, 4, 4, 512L * 512 * 512 * (64 + 68 + 17))]
    public void EstimateBytes_Volume_CountsInputsCopiesAccumulatorsProbabilityMapsAndLabels(long voxels, int channels, int classes, long expected) =>
        Assert.Equal(expected, ReviewRunner.EstimateBytes(voxels, channels, classes));

    [Fact]
    public async Task CheckBudget_DefaultBudget_AllowsADemoVolumeAndRefusesAnAbsurdOne()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var worker = app.Services.GetRequiredService<ReviewRunner>();
        worker.CheckBudget(64L * 64 * 64, 2, 4);
        var e = Assert.Throws<InvalidOperationException>(() => worker.CheckBudget(4096L * 4096 * 4096, 16, 255));
        Assert.Contains("more than the server's budget", e.Message);
    }
}
