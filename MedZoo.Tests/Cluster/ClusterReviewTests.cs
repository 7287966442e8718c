using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Cluster;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Reviews in cluster mode on real servers and processes: a review requested on web node A is run by a
/// <c>medzoo worker</c> process (web nodes run none), its files go to PostgreSQL, and web node B serves exactly what
/// node A serves and hears of its completion; an upload made through node A is read by the worker; a review left running
/// by a vanished worker is run again once, then marked interrupted.
/// </summary>
public sealed class ClusterReviewTests(ClusterReviewTests.Cluster cluster) : IClassFixture<ClusterReviewTests.Cluster>
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Every file of a review that the review page and the API read.</summary>
    private static IEnumerable<string> Paths(ReviewRecord r)
    {
        yield return "prediction.nii.gz";
        yield return "metrics.csv";
        if (r.Source == ReviewSource.Validation) yield return "input.nii.gz";
        yield return "data/prediction.u8";
        yield return "data/entropy.u8";
        if (r.HasGroundTruth) yield return "data/truth.u8";
        for (var c = 0; c < r.Modalities.Count; c++) yield return $"data/image-{c}.u16";
        for (var c = 0; c < r.ClassNames.Count; c++) yield return $"data/probability-{c}.u8";
    }

    private async Task AssertNodesServeTheSameFilesAsync(ReviewRecord review)
    {
        foreach (var path in Paths(review))
        {
            var a = await cluster.ClientA.GetAsync($"/api/reviews/{review.Id}/{path}");
            var b = await cluster.ClientB.GetAsync($"/api/reviews/{review.Id}/{path}");
            Assert.True(a.StatusCode == HttpStatusCode.OK, $"node A answered {a.StatusCode} for {path}: {await a.Content.ReadAsStringAsync()}");
            Assert.True(b.StatusCode == HttpStatusCode.OK, $"node B answered {b.StatusCode} for {path}: {await b.Content.ReadAsStringAsync()}");
            var bytesA = await a.Content.ReadAsByteArrayAsync();
            Assert.NotEmpty(bytesA);
            Assert.Equal(bytesA, await b.Content.ReadAsByteArrayAsync());
        }
        // Made on request from the stored maps: the same volume from either node (compared unzipped: gzip stamps the time).
        Assert.Equal(Unzip(await cluster.ClientA.GetByteArrayAsync($"/api/reviews/{review.Id}/probabilities.nii.gz")),
            Unzip(await cluster.ClientB.GetByteArrayAsync($"/api/reviews/{review.Id}/probabilities.nii.gz")));
    }

    private static byte[] Unzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private async Task<ReviewInfo> StartReviewAsync(ReviewSource source, string subjectId)
    {
        using var response = await cluster.ClientA.PostAsJsonAsync("/api/reviews",
            new StartReviewRequest(cluster.RunId, "last", source, subjectId), ApiJson);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/reviews on node A answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ReviewInfo>(ApiJson))!;
    }

    [Fact]
    public async Task Review_RequestedOnNodeA_IsRunByAWorkerAndNodeBServesTheSameFilesAndHearsItFinish()
    {
        // Web nodes run no review: no review worker, and the queue is Hangfire's.
        Assert.DoesNotContain(cluster.NodeA.App.Services.GetServices<IHostedService>(), s => s is ReviewWorker);
        Assert.IsType<ClusterReviews>(cluster.NodeA.App.Services.GetRequiredService<IReviewQueue>());
        var subject = (await cluster.ClientA.GetFromJsonAsync<List<string>>($"/api/runs/{cluster.RunId}/validation-subjects"))![0];
        var heardOnB = new TaskCompletionSource<ReviewRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? id = null;
        using var sub = cluster.NodeB.Services.GetRequiredService<ReviewNotifier>().Subscribe(r =>
        {
            if (r.Id == Volatile.Read(ref id) && r.Status is ReviewStatus.Completed or ReviewStatus.Failed) heardOnB.TrySetResult(r);
        });

        var started = await StartReviewAsync(ReviewSource.Validation, subject);
        Volatile.Write(ref id, started.Id);

        var done = await cluster.WaitForReviewAsync(started.Id);
        Assert.True(done.Status == ReviewStatus.Completed, $"review ended {done.Status} ({done.Reason})\n{cluster.Worker.Output}");
        Assert.Equal(cluster.Worker.Name, done.Worker);
        Assert.True(done.HasGroundTruth && done.HasProbabilities);
        // Node B's pages hear of it from the database (its notifier is what the Reviews pages follow).
        var heard = await Waits.For(heardOnB.Task, "node B's review notifier to publish the completed review");
        Assert.Equal(ReviewStatus.Completed, heard.Status);
        await AssertNodesServeTheSameFilesAsync(done);
        // Neither node wrote review files into its own data folder: they are in PostgreSQL.
        Assert.False(Directory.Exists(cluster.NodeA.App.Services.GetRequiredService<ReviewStorage>().ReviewFolder(done.Id)));
        Assert.False(Directory.Exists(cluster.NodeB.Services.GetRequiredService<ReviewStorage>().ReviewFolder(done.Id)));
    }

    [Fact]
    public async Task Upload_MadeOnNodeA_IsReviewedByAWorkerAndNodeBServesItsFiles()
    {
        using var folder = TestPaths.NewTempFolder();
        var geometry = VolumeGeometry.FromSpacing(1.25, 1.0, 1.5);
        var random = new Random(7);
        var t1 = Enumerable.Range(0, 24 * 24 * 24).Select(_ => (float)random.NextDouble()).ToArray();
        var t2 = t1.Select(v => 1 - v).ToArray();
        var label = Enumerable.Range(0, 24 * 24 * 24).Select(i => (byte)(i % 4)).ToArray();
        VolumeIO.Write(Volume.FromArray(t1, [24, 24, 24], geometry), Path.Combine(folder.Path, "t1.nii.gz"));
        VolumeIO.Write(Volume.FromArray(t2, [24, 24, 24], geometry), Path.Combine(folder.Path, "t2.nii.gz"));
        VolumeIO.Write(Volume.FromArray(label, [24, 24, 24], geometry), Path.Combine(folder.Path, "seg.nii.gz"));
        using var form = new MultipartFormDataContent();
        foreach (var (field, file) in new[] { ("images", "t1.nii.gz"), ("images", "t2.nii.gz"), ("label", "seg.nii.gz") })
        {
            var part = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(folder.Path, file)));
            part.Headers.ContentType = MediaTypeHeaderValue.Parse("application/gzip");
            form.Add(part, field, file);
        }
        form.Add(new StringContent("scan from node A"), "name");

        using var uploaded = await cluster.ClientA.PostAsync("/api/uploads", form);
        Assert.True(uploaded.StatusCode == HttpStatusCode.Created, $"POST /api/uploads on node A answered {uploaded.StatusCode}: {await uploaded.Content.ReadAsStringAsync()}");
        var upload = (await uploaded.Content.ReadFromJsonAsync<UploadInfo>(ApiJson))!;
        // Stored in PostgreSQL, not in node A's data folder: node B lists it and a worker can read it.
        Assert.False(Directory.Exists(cluster.NodeA.App.Services.GetRequiredService<ReviewStorage>().UploadFolder(upload.Id)));
        Assert.Contains(await cluster.ClientB.GetFromJsonAsync<List<UploadInfo>>("/api/uploads", ApiJson) ?? [], u => u.Id == upload.Id);

        var started = await StartReviewAsync(ReviewSource.Upload, upload.Id);
        var done = await cluster.WaitForReviewAsync(started.Id);

        Assert.True(done.Status == ReviewStatus.Completed, $"review ended {done.Status} ({done.Reason})\n{cluster.Worker.Output}");
        Assert.Equal([24, 24, 24], done.Shape);
        Assert.Equal([1.25, 1.0, 1.5], done.Spacing); // exact in float32, as NIfTI stores it
        Assert.True(done.HasGroundTruth);
        await AssertNodesServeTheSameFilesAsync(done);
        // The prediction is on the upload's grid, as node B serves it.
        var prediction = Path.Combine(folder.Path, "prediction.nii.gz");
        await File.WriteAllBytesAsync(prediction, await cluster.ClientB.GetByteArrayAsync($"/api/reviews/{done.Id}/prediction.nii.gz"));
        Assert.True(VolumeIO.ReadHeader(prediction).Geometry.ApproximatelyEquals(geometry, 1e-5));
    }

    [Fact]
    public async Task Job_ReviewLeftRunningByAVanishedWorker_IsRunAgainOnceThenMarkedInterrupted()
    {
        var subject = (await cluster.ClientA.GetFromJsonAsync<List<string>>($"/api/runs/{cluster.RunId}/validation-subjects"))![0];
        var store = cluster.NodeA.App.Services.GetRequiredService<IReviewStore>();
        var jobs = cluster.NodeA.App.Services.GetRequiredService<IBackgroundJobClient>();
        ReviewRecord Left(string id, int attempts) => new()
        {
            Id = id, RunId = cluster.RunId, RunName = "trained", CheckpointKind = "last", Source = ReviewSource.Validation, SubjectId = subject,
            SubjectName = subject, SubjectKey = "k", CreatedAt = DateTime.UtcNow, CreatedBy = "tester",
            // What a worker killed mid-review leaves: running, started, and its name.
            Status = ReviewStatus.Running, Attempts = attempts, Worker = "ghost", WindowsDone = 3, WindowsTotal = 8,
        };
        store.Save(Left("left-once", attempts: 1));
        store.Save(Left("left-twice", attempts: ClusterReviewJob.MaxAttempts));

        // What Hangfire does once the dead worker stops renewing the job: it hands the same job to another worker.
        foreach (var id in new[] { "left-once", "left-twice" })
            jobs.Enqueue<ClusterReviewJob>(ClusterQueues.Cpu, j => j.Run(id, ClusterQueues.Cpu, CancellationToken.None));

        var again = await cluster.WaitForReviewAsync("left-once");
        Assert.True(again.Status == ReviewStatus.Completed, $"review ended {again.Status} ({again.Reason})\n{cluster.Worker.Output}");
        Assert.Equal(2, again.Attempts);
        Assert.Equal(cluster.Worker.Name, again.Worker);
        Assert.Contains("worker ghost vanished", again.Reason);
        var interrupted = await cluster.WaitForReviewAsync("left-twice");
        Assert.Equal(ReviewStatus.Interrupted, interrupted.Status);
        Assert.Equal(ClusterReviewJob.InterruptedReason("ghost"), interrupted.Reason);
        Assert.False(cluster.NodeA.App.Services.GetRequiredService<IReviewFiles>().Exists(ReviewFileArea.Reviews, "left-twice", "prediction.u8"));
    }

    /// <summary>Web nodes A and B on real PostgreSQL and Redis, a CPU worker process, and one run it trained (the smoke preset).</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private TempFolder? _dataB;

        public ClusterNode NodeA { get; } = new();
        public MedZooAppFactory NodeB { get; private set; } = null!;
        public HttpClient ClientA { get; private set; } = null!;
        public HttpClient ClientB { get; private set; } = null!;
        public WorkerProcess Worker { get; private set; } = null!;
        public string RunId { get; private set; } = "";

        public async Task InitializeAsync()
        {
            await NodeA.InitializeAsync();
            _dataB = TestPaths.NewTempFolder();
            NodeB = new MedZooAppFactory(_dataB.Path, executor: null);
            NodeB.Settings["MedZoo:Cluster:Enabled"] = "true";
            NodeB.Settings["MedZoo:Cluster:Postgres"] = NodeA.Servers.Postgres;
            NodeB.Settings["MedZoo:Cluster:Redis"] = NodeA.Servers.Redis;
            var addressB = NodeB.Start();
            ClientA = (await SignIn.AsAsync(NodeA.Address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword)).Client;
            ClientB = (await SignIn.AsAsync(addressB, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword)).Client;
            Worker = WorkerProcess.Start(NodeA.Servers, "review-worker", "--devices", "cpu");
            using var response = await ClientA.PostAsync("/api/runs",
                new StringContent($"{{\"name\":\"reviewed\",\"config\":{ClusterNode.SmokeConfig("cpu")}}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/runs answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            RunId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            var run = await NodeA.WaitForRunAsync(RunId, r => r.Status.IsFinished(), "the run to train", Worker);
            Assert.True(run.Status == RunStatus.Completed, $"run ended {run.Status} ({run.Reason})\n{Worker.Output}");
        }

        /// <summary>Polls the shared database until the review is completed, failed or interrupted.</summary>
        public async Task<ReviewRecord> WaitForReviewAsync(string id)
        {
            var store = NodeA.App.Services.GetRequiredService<IReviewStore>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (true)
            {
                var review = store.Get(id);
                if (review?.Status is ReviewStatus.Completed or ReviewStatus.Failed or ReviewStatus.Interrupted) return review;
                if (DateTime.UtcNow > deadline || Worker.HasExited)
                    throw new TimeoutException($"{(Worker.HasExited ? "the worker exited" : "timed out")} waiting for review {id}: {review?.Status} ({review?.Reason})\n{Worker.Output}");
                await Task.Delay(100);
            }
        }

        public async Task DisposeAsync()
        {
            ClientA?.Dispose();
            ClientB?.Dispose();
            if (Worker is not null) await Worker.DisposeAsync();
            if (NodeB is not null) await NodeB.DisposeAsync();
            _dataB?.Dispose();
            await NodeA.DisposeAsync();
        }
    }
}
