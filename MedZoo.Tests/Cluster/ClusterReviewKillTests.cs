using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// A worker SIGKILLed in the middle of a review (real processes, real PostgreSQL): the review does not stay running;
/// Hangfire hands its job to another worker once the dead one stops renewing it, and that worker runs it again to
/// completion, saying which worker vanished.
/// </summary>
public sealed class ClusterReviewKillTests(ClusterNode node, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ClusterNode>
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task Review_WorkerKilledMidReview_IsRunAgainByAnotherWorkerToCompleted()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var client = (await SignIn.AsAsync(node.Address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword)).Client;
        await using var first = WorkerProcess.Start(node.Servers, "doomed", "--devices", "cpu");
        using var started = await client.PostAsync("/api/runs",
            new StringContent($"{{\"name\":\"to review\",\"config\":{ClusterNode.SmokeConfig("cpu")}}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(started.StatusCode == HttpStatusCode.Created, await started.Content.ReadAsStringAsync());
        var runId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        var run = await node.WaitForRunAsync(runId, r => r.Status.IsFinished(), "the run to train", first);
        Assert.True(run.Status == RunStatus.Completed, $"run ended {run.Status} ({run.Reason})\n{first.Output}");
        output.WriteLine($"run trained at {clock.Elapsed.TotalSeconds:F1} s");

        // A volume large enough (56³, two modalities: 216 windows) that its review takes seconds on these cores.
        using var folder = TestPaths.NewTempFolder();
        using var form = new MultipartFormDataContent();
        foreach (var m in new[] { "t1", "t2" })
        {
            var values = Enumerable.Range(0, 56 * 56 * 56).Select(i => (float)Math.Sin(i * (m == "t1" ? 0.01 : 0.02))).ToArray();
            var path = Path.Combine(folder.Path, m + ".nii.gz");
            VolumeIO.Write(Volume.FromArray(values, [56, 56, 56]), path);
            var part = new ByteArrayContent(await File.ReadAllBytesAsync(path));
            part.Headers.ContentType = MediaTypeHeaderValue.Parse("application/gzip");
            form.Add(part, "images", m + ".nii.gz");
        }
        using var uploaded = await client.PostAsync("/api/uploads", form);
        Assert.True(uploaded.StatusCode == HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync());
        var upload = (await uploaded.Content.ReadFromJsonAsync<UploadInfo>(ApiJson))!;
        using var requested = await client.PostAsJsonAsync("/api/reviews",
            new StartReviewRequest(runId, "last", ReviewSource.Upload, upload.Id), ApiJson);
        Assert.True(requested.StatusCode == HttpStatusCode.Created, await requested.Content.ReadAsStringAsync());
        var reviewId = (await requested.Content.ReadFromJsonAsync<ReviewInfo>(ApiJson))!.Id;
        var store = node.App.Services.GetRequiredService<IReviewStore>();

        var midway = await WaitAsync(store, reviewId, r => r.Status == ReviewStatus.Running && r.WindowsDone > 0 && r.WindowsDone < r.WindowsTotal,
            "the review to be running, partly done", first);
        await first.KillAsync();
        var killedAt = clock.Elapsed;
        output.WriteLine($"worker killed at {killedAt.TotalSeconds:F1} s, {midway.WindowsDone}/{midway.WindowsTotal} windows done");
        Assert.Equal(ReviewStatus.Running, store.Get(reviewId)!.Status); // what the dead worker left
        await using var second = WorkerProcess.Start(node.Servers, "survivor", "--devices", "cpu");
        var done = await WaitAsync(store, reviewId, r => r.Status is not (ReviewStatus.Queued or ReviewStatus.Running), "the review to end on the other worker", second,
            TimeSpan.FromSeconds(240));

        Assert.True(done.Status == ReviewStatus.Completed, $"review ended {done.Status} ({done.Reason})\n{second.Output}");
        output.WriteLine($"review completed on the other worker {(clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill, its run there took {done.Seconds:F1} s");
        Assert.Equal("survivor", done.Worker);
        Assert.Equal(2, done.Attempts);
        Assert.Contains("worker doomed vanished", done.Reason);
        Assert.Equal(midway.WindowsTotal, done.WindowsDone);
        using var prediction = await client.GetAsync($"/api/reviews/{reviewId}/data/prediction.u8");
        Assert.Equal(56 * 56 * 56, (await prediction.Content.ReadAsByteArrayAsync()).Length);
    }

    private static async Task<ReviewRecord> WaitAsync(IReviewStore store, string id, Func<ReviewRecord, bool> condition, string what, WorkerProcess worker,
        TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var review = store.Get(id);
            if (review is not null && condition(review)) return review;
            if (DateTime.UtcNow > deadline || worker.HasExited)
                throw new TimeoutException($"waiting for {what}: review is {review?.Status} ({review?.Reason}), {review?.WindowsDone}/{review?.WindowsTotal} windows\n" +
                                           $"worker {worker.Name}:\n{worker.Output}");
            await Task.Delay(50);
        }
    }
}
