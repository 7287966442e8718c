using MedZoo.Web.Reviews;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IReviewStore"/> must do.</summary>
public abstract class ReviewStoreContractTests : StoreContractTests
{
    private static ReviewRecord Review(string id, string runId, int minute, ReviewStatus status = ReviewStatus.Queued) => new()
    {
        Id = id, RunId = runId, RunName = "run " + runId, CheckpointKind = "best", CheckpointEpoch = 4, Source = ReviewSource.Upload, SubjectId = "u1",
        SubjectName = "scan", SubjectKey = "upload:u1", Status = status, CreatedBy = "ana", CreatedAt = At(minute), Shape = [4, 5, 6], Spacing = [1, 1, 2.5],
        Orientation = "RAS", Modalities = ["T1"], ClassNames = ["bg", "tumour"], HasGroundTruth = false, MeanDice = double.NaN,
        Metrics = [new ReviewClassMetrics { Class = 1, Name = "tumour", Presence = "PredictedOnly", PredictedVoxels = 12, PredictedVolumeMm3 = 30 }],
        DisplayRanges = [[0, 100, 5, 95]], Seconds = 2.5,
    };

    private static readonly System.Text.Json.JsonSerializerOptions NaNAllowed =
        new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, WriteIndented = true };

    private static string Json(ReviewRecord r) => System.Text.Json.JsonSerializer.Serialize(r, NaNAllowed);

    [Fact]
    public void Save_NewThenChanged_ReplacesTheReviewWithEveryFieldNaNIncluded()
    {
        var review = Review("v1", "r", 1);
        Engine.Reviews.Save(review);
        review.Status = ReviewStatus.Completed;
        review.WindowsDone = review.WindowsTotal = 8;

        Engine.Reviews.Save(review);

        var stored = Engine.Reviews.Get("v1")!;
        Assert.Equal(Json(review), Json(stored));
        Assert.True(double.IsNaN(stored.MeanDice));
        Assert.True(double.IsNaN(stored.Metrics[0].Dice));
        Assert.Single(Engine.Reviews.List());
        Assert.Null(Engine.Reviews.Get("missing"));
    }

    [Fact]
    public void Queries_SeveralReviews_NewestFirstPerRunAndOldestFirstByStatus()
    {
        Engine.Reviews.Save(Review("a", "r1", 1));
        Engine.Reviews.Save(Review("b", "r2", 2, ReviewStatus.Running));
        Engine.Reviews.Save(Review("c", "r1", 3));
        Engine.Reviews.Save(Review("d", "r1", 0, ReviewStatus.Failed));

        Assert.Equal(["c", "b", "a", "d"], Engine.Reviews.List().Select(r => r.Id));
        Assert.Equal(["c", "a", "d"], Engine.Reviews.ForRun("r1").Select(r => r.Id));
        Assert.Equal(["a", "c"], Engine.Reviews.WithStatus(ReviewStatus.Queued).Select(r => r.Id));
        Assert.Empty(Engine.Reviews.WithStatus(ReviewStatus.Interrupted));

        Assert.True(Engine.Reviews.Delete("c"));
        Assert.False(Engine.Reviews.Delete("c"));
        Assert.Equal(["a", "d"], Engine.Reviews.ForRun("r1").Select(r => r.Id));
    }

    [Fact]
    public void Uploads_SaveGetListDelete_NewestFirstAndReplacedById()
    {
        var scan = new UploadRecord
        {
            Id = "u1", Name = "scan", CreatedBy = "ana", CreatedAt = At(5), Files = [new UploadFile { Name = "t1.nii.gz", Role = "image", Bytes = 42 }],
            Images = ["t1.nii.gz"], Label = null, Shape = [4, 5, 6], Channels = 1, Orientation = "LPS", Bytes = 42,
        };
        Engine.Reviews.SaveUpload(new UploadRecord { Id = "u0", Name = "old", CreatedAt = At(1) });
        Engine.Reviews.SaveUpload(new UploadRecord { Id = "u1", Name = "draft", CreatedAt = At(5) });

        Engine.Reviews.SaveUpload(scan);

        Assert.Equal(["u1", "u0"], Engine.Reviews.Uploads().Select(u => u.Id));
        Assert.Equivalent(scan, Engine.Reviews.GetUpload("u1"), strict: true);
        Assert.True(Engine.Reviews.DeleteUpload("u1"));
        Assert.False(Engine.Reviews.DeleteUpload("u1"));
        Assert.Null(Engine.Reviews.GetUpload("u1"));
    }
}

public sealed class ReviewStoreContractTests_LiteDb : ReviewStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class ReviewStoreContractTests_Cluster(PostgresServerFixture server) : ReviewStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
