using System.Net;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Imaging;
using MedZoo.Web.Reviews;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Reviews;

/// <summary>
/// The probability and entropy downloads of a review: float32 NIfTI on the input's exact grid, made
/// from the stored one-byte maps, read back with MedZoo's own reader.
/// </summary>
public sealed class ReviewMapEndpointsTests
{
    private static readonly VolumeGeometry Oblique = new([0, -1.2, 0.1, 40, 0.9, 0, 0, -20, 0, 0.05, 2.5, 7, 0, 0, 0, 1]);
    private static readonly int[] Shape = [5, 4, 3];
    private const int Classes = 3;

    /// <summary>A completed review whose worker output is written by hand: random probabilities (class by class) and a prediction file.</summary>
    private static float[] SaveReview(MedZooAppFactory app, string id, bool hasProbabilities = true)
    {
        var voxels = Shape[0] * Shape[1] * Shape[2];
        var random = new Random(5);
        var p = new float[Classes * voxels];
        for (var i = 0; i < voxels; i++)
        {
            var raw = Enumerable.Range(0, Classes).Select(_ => random.NextDouble() + 0.01).ToArray();
            for (var c = 0; c < Classes; c++) p[c * voxels + i] = (float)(raw[c] / raw.Sum());
        }
        // Through the files seam, as the review runner stores its output, whichever mode holds them.
        using (var staged = app.Services.GetRequiredService<IReviewFiles>().Stage(ReviewFileArea.Reviews, id))
        {
            VolumeIO.Write(Volume.FromArray<byte>(new byte[voxels], Shape, Oblique), staged.File("prediction.nii.gz"));
            for (var c = 0; c < Classes; c++)
                File.WriteAllBytes(staged.File($"probability-{c}.u8"), ProbabilityMaps.Quantize(p.AsSpan(c * voxels, voxels)));
            File.WriteAllBytes(staged.File("entropy.u8"), ProbabilityMaps.Entropy(p, Classes));
            staged.Commit();
        }
        app.Services.GetRequiredService<IReviewStore>().Save(new ReviewRecord
        {
            Id = id, RunId = "r", RunName = "run", SubjectName = "subject", Status = ReviewStatus.Completed, Shape = Shape,
            ClassNames = ["Background", "A", "B"], HasProbabilities = hasProbabilities, CreatedAt = DateTime.UtcNow,
        });
        return p;
    }

    private static async Task<Volume> DownloadAsync(HttpClient client, string path, TempFolder folder)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/gzip", response.Content.Headers.ContentType?.MediaType);
        var file = folder.File(Path.GetFileName(path));
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync());
        return VolumeIO.Read(file);
    }

    [Fact]
    public async Task GetProbabilitiesAndEntropy_CompletedReview_Float32NiftiOnTheInputsGrid()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        using var downloads = TestPaths.NewTempFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var p = SaveReview(app, "rv-maps");
        var (client, _) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);

        var probabilities = await DownloadAsync(client, "/api/reviews/rv-maps/probabilities.nii.gz", downloads);
        Assert.Equal([5, 4, 3, Classes], probabilities.Shape);
        Assert.Equal(VoxelType.Float32, probabilities.DataType);
        Assert.True(probabilities.Geometry.ApproximatelyEquals(Oblique, 1e-5), probabilities.Geometry.ToString());
        var read = probabilities.ToFloatArray();
        for (var i = 0; i < p.Length; i++) Assert.InRange(Math.Abs(read[i] - p[i]), 0, 0.5 / 255 + 1e-6);

        var entropy = await DownloadAsync(client, "/api/reviews/rv-maps/entropy.nii.gz", downloads);
        Assert.Equal([5, 4, 3], entropy.Shape);
        Assert.True(entropy.Geometry.ApproximatelyEquals(Oblique, 1e-5));
        var nats = entropy.ToFloatArray();
        var voxels = nats.Length;
        for (var i = 0; i < voxels; i++)
        {
            var exact = -Enumerable.Range(0, Classes).Sum(c => p[c * voxels + i] * Math.Log(p[c * voxels + i]));
            Assert.InRange(Math.Abs(nats[i] - exact), 0, Math.Log(Classes) / 510 + 1e-5);
        }
        // The temporary files the downloads were written to go once sent (the server closes them after the last byte: poll).
        var reviewFolder = app.Services.GetRequiredService<ReviewStorage>().ReviewFolder("rv-maps");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Directory.GetFiles(reviewFolder, "download-*").Length > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Empty(Directory.GetFiles(reviewFolder, "download-*"));
    }

    [Fact]
    public async Task GetProbabilities_ReviewWithoutProbabilitiesOrUnknown_NotFound()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        SaveReview(app, "rv-old", hasProbabilities: false);
        var (client, _) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/reviews/rv-old/probabilities.nii.gz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/reviews/nothing/entropy.nii.gz")).StatusCode);
    }

    [Theory]
    [InlineData("probability-0.u8", true)]
    [InlineData("probability-12.u8", true)]
    [InlineData("entropy.u8", true)]
    [InlineData("image-1.u16", true)]
    [InlineData("probability-.u8", false)]
    [InlineData("probability--1.u8", false)]
    [InlineData("probability-1x.u8", false)]
    [InlineData("probability-0.u16", false)]
    [InlineData("prediction.nii.gz", false)]
    public void IsDisplayFile_Names_OnlyTheViewersArrays(string name, bool expected) =>
        Assert.Equal(expected, ReviewEndpoints.IsDisplayFile(name));
}
