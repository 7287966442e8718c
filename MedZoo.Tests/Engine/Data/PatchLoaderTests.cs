using MedZoo.Engine;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;
using TorchSharp;
using Xunit.Abstractions;

namespace MedZoo.Tests.Engine.Data;

public class PatchLoaderTests(ITestOutputHelper output)
{
    private static readonly Subject[] Subjects =
    [
        TestSubjects.Blocks("a", SpatialSize.Cube(28), seed: 0),
        TestSubjects.Blocks("b", new SpatialSize(24, 30, 26), seed: 1),
        TestSubjects.Blocks("c", SpatialSize.Cube(20), seed: 2),
    ];

    private static SamplingOptions Sampling(int workers, int prefetch = 3) => new()
    {
        PatchSize = [12, 12, 12], BatchSize = 3, SamplesTrain = 30, Sampler = "balanced", Workers = workers, Prefetch = prefetch,
    };

    [Fact]
    public void StartEpoch_SameSeed_SameBatchesWhateverTheWorkerCount()
    {
        var augmentation = new AugmentationOptions { AffineProbability = 0.5, ElasticProbability = 0.5, NoiseProbability = 0.5 };
        var runs = new[] { 1, 2, 4 }.Select(workers =>
        {
            using var loader = new PatchLoader(Subjects, Sampling(workers), augmentation, seed: 99);
            using var epoch = loader.StartEpoch(3);
            return epoch.ToList();
        }).ToArray();
        Assert.Equal(10, runs[0].Count);
        foreach (var other in runs.Skip(1))
            for (var b = 0; b < runs[0].Count; b++)
            {
                Assert.Equal(runs[0][b].Images, other[b].Images);
                Assert.Equal(runs[0][b].Labels, other[b].Labels);
                Assert.Equal(runs[0][b].Origins, other[b].Origins);
            }
    }

    [Fact]
    public void StartEpoch_DifferentEpochOrSeed_DifferentBatches()
    {
        using var loader = new PatchLoader(Subjects, Sampling(1), null, seed: 1);
        using var other = new PatchLoader(Subjects, Sampling(1), null, seed: 2);
        Assert.NotEqual(loader.CreateBatch(0, 0).Origins, loader.CreateBatch(1, 0).Origins);
        Assert.NotEqual(loader.CreateBatch(0, 0).Origins, other.CreateBatch(0, 0).Origins);
    }

    [Fact]
    public void StartEpoch_Batch_HasDocumentedShapesAndOrigins()
    {
        using var loader = new PatchLoader(Subjects, Sampling(2), null, seed: 5);
        using var epoch = loader.StartEpoch(0);
        var batch = epoch.Take()!;
        Assert.Equal([3L, 2, 12, 12, 12], batch.ImageShape);
        Assert.Equal([3L, 12, 12, 12], batch.LabelShape);
        Assert.Equal(3 * 2 * 12 * 12 * 12, batch.Images.Length);
        Assert.Equal(3 * 12 * 12 * 12, batch.Labels!.Length);
        Assert.All(batch.Origins, o => Assert.Contains(o.SubjectId, new[] { "a", "b", "c" }));
        // Without augmentation a patch is a plain crop: label = modality A (the Blocks relationship).
        for (var i = 0; i < batch.Labels.Length; i++)
            Assert.Equal(batch.Labels[i], (byte)batch.Images[(i / 1728) * 2 * 1728 + i % 1728]);
    }

    [Fact]
    public void Take_AfterLastBatch_ReturnsNullAndCountsWaits()
    {
        using var loader = new PatchLoader(Subjects, Sampling(1, prefetch: 1), null, seed: 5);
        using var epoch = loader.StartEpoch(0);
        var n = 0;
        while (epoch.Take() is not null) n++;
        Assert.Equal(loader.BatchesPerEpoch, n);
        Assert.Null(epoch.Take());
        Assert.Equal(n, epoch.Delivered);
        Assert.InRange(epoch.WaitFraction, 0, 1);
        Assert.True(loader.TotalBuildTime > TimeSpan.Zero);
    }

    [Fact]
    public void StartEpoch_Cancelled_TakeThrowsAndWorkersStop()
    {
        using var cts = new CancellationTokenSource();
        using var loader = new PatchLoader(Subjects, Sampling(2, prefetch: 1), null, seed: 5);
        var epoch = loader.StartEpoch(0, cts.Token);
        Assert.NotNull(epoch.Take());
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => { while (epoch.Take() is not null) { } });
        epoch.Dispose(); // returns: the workers observed the cancellation
    }

    [Fact]
    public void Dispose_MidEpoch_StopsWorkersAndRejectsNewEpochs()
    {
        var loader = new PatchLoader(Subjects, Sampling(2, prefetch: 2), null, seed: 5);
        var epoch = loader.StartEpoch(0);
        Assert.NotNull(epoch.Take());
        loader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => epoch.Take());
        Assert.Throws<ObjectDisposedException>(() => loader.StartEpoch(1));
    }

    [Fact]
    public void Constructor_SubjectSmallerThanPatchWithoutPadding_NamesSubject()
    {
        var options = Sampling(1);
        options.PatchSize = [22, 22, 22];
        options.PadToPatch = false;
        var e = Assert.Throws<DatasetException>(() => new PatchLoader(Subjects, options));
        Assert.Contains("subject 'c'", e.Message);
        Assert.DoesNotContain("subject 'a'", e.Message);
    }

    [Fact]
    public void Constructor_PaddingOn_SmallSubjectGivesPaddedPatches()
    {
        var small = TestSubjects.Cube("tiny", SpatialSize.Cube(6), (0, 0, 0), 6); // every voxel: image 1, class 1
        var options = Sampling(1);
        options.Sampler = "random";
        using var loader = new PatchLoader([small], options);
        var batch = loader.CreateBatch(0, 0);
        var p = 12 * 12 * 12;
        // The whole 6³ volume lies inside the 12³ patch; the rest is padding: image 0, background label.
        Assert.Equal(216, Enumerable.Range(0, p).Count(i => batch.Images[i] == 1));
        Assert.Equal(216, Enumerable.Range(0, p).Count(i => batch.Labels![i] == 1));
    }

    [Theory]
    [InlineData(new[] { 0, 8, 8 }, "PatchSize")]
    [InlineData(new[] { 2000, 8, 8 }, "PatchSize")]
    public void Constructor_AbsurdPatch_NamesField(int[] patch, string field)
    {
        var options = Sampling(1);
        options.PatchSize = patch;
        var e = Assert.Throws<InvalidOptionException>(() => new PatchLoader(Subjects, options));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Constructor_UnlabeledSubject_NamesIt()
    {
        var s = Subjects[0];
        var unlabeled = new Subject("u", s.Modalities, s.Images, null, s.Size, s.Geometry, [], s.ClassCount);
        var e = Assert.Throws<DatasetException>(() => new PatchLoader([s, unlabeled], Sampling(1)));
        Assert.Contains("subject 'u' has no label map", e.Message);
    }

    [Fact]
    public void Grid_CoversEveryPatchOfEverySubjectOnce()
    {
        var options = Sampling(2);
        options.Sampler = "grid";
        options.GridOverlap = 0;
        using var loader = new PatchLoader(Subjects, options);
        using var epoch = loader.StartEpoch(0);
        var origins = epoch.SelectMany(b => b.Origins).ToList();
        // 28³ → 3³ patches of 12 (0, 12, 16); 24×30×26 → 2×3×3; 20³ → 2³.
        Assert.Equal(27 + 18 + 8, origins.Count);
        Assert.Equal(origins.Count, origins.Distinct().Count());
    }

    [Fact]
    public void Benchmark_ReportsPatchesPerSecond()
    {
        var dataset = TestSubjects.Synthetic(subjects: 3, size: 32);
        var sampling = new SamplingOptions { PatchSize = [24, 24, 24], BatchSize = 2 };
        var plain = PatchLoader.Benchmark(dataset.Subjects, sampling, AugmentationOptions.None, batches: 12);
        var augmented = PatchLoader.Benchmark(dataset.Subjects, sampling, new AugmentationOptions(), batches: 12);
        output.WriteLine($"24³ patches, 2 modalities: {plain.PatchesPerSecond:F0}/s plain, {augmented.PatchesPerSecond:F0}/s augmented ({plain.Workers} worker(s))");
        Assert.Equal(24, plain.Patches);
        Assert.True(plain.PatchesPerSecond > 0 && augmented.PatchesPerSecond > 0);
    }

    [Fact]
    public void ToTensors_GivesFloatImageAndInt64Label()
    {
        using var loader = new PatchLoader(Subjects, Sampling(1), null, seed: 3);
        var batch = loader.CreateBatch(0, 0);
        using var scope = torch.NewDisposeScope();
        var (image, label) = batch.ToTensors();
        Assert.Equal(batch.ImageShape, image.shape);
        Assert.Equal(torch.ScalarType.Float32, image.dtype);
        Assert.Equal(batch.LabelShape, label!.shape);
        Assert.Equal(torch.ScalarType.Int64, label.dtype);
        Assert.Equal(batch.Labels!.Select(v => (long)v), label.data<long>().ToArray());
        Assert.Equal(batch.Images, image.data<float>().ToArray());
    }

    [Fact]
    public void Return_WhileAnEpochRuns_LaterBatchesReuseTheArraysAndStayTheSameBatches()
    {
        var augmentation = new AugmentationOptions { AffineProbability = 0.5, ElasticProbability = 0.5, NoiseProbability = 0.5 };
        using var reference = new PatchLoader(Subjects, Sampling(1), augmentation, seed: 7);
        using var loader = new PatchLoader(Subjects, Sampling(2, prefetch: 2), augmentation, seed: 7);
        var arrays = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        var b = 0;
        using (var epoch = loader.StartEpoch(1))
            foreach (var batch in epoch)
            {
                var expected = reference.CreateBatch(1, b++);
                Assert.Equal(expected.Images, batch.Images);
                Assert.Equal(expected.Labels, batch.Labels);
                arrays.Add(batch.Images);
                loader.Return(batch);
            }

        Assert.Equal(10, b);
        Assert.True(loader.BatchesReused > 0, "returned arrays carry later batches");
        Assert.True(arrays.Count < 10, $"{arrays.Count} distinct arrays for 10 batches: nothing was reused");
        Assert.Equal(0, reference.BatchesReused);
    }

    [Fact]
    public void Return_SameBatchTwice_ThrowsInsteadOfSharingAnArray()
    {
        using var loader = new PatchLoader(Subjects, Sampling(1), null, seed: 7);
        var batch = loader.CreateBatch(0, 0);
        loader.Return(batch);

        var e = Assert.Throws<InvalidOperationException>(() => loader.Return(batch));
        Assert.Contains("already returned", e.Message);
    }
}
