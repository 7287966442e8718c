using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;

namespace MedZoo.Tests.Engine.Data.Sampling;

public class PatchSamplerTests
{
    private static readonly SpatialSize Volume = SpatialSize.Cube(40);

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    public void Next_Threshold_EveryAcceptedCropHasAtLeastThatForegroundFraction(double threshold)
    {
        // Foreground: a 16³ cube in a 40³ volume (6.4% of voxels). A 16³ crop must be ≥ threshold foreground.
        var subject = TestSubjects.Cube("s", Volume, (12, 12, 12), 16);
        var sampler = new PatchSampler([subject], new SamplingOptions { Sampler = "threshold", Threshold = threshold, PatchSize = [16, 16, 16], MaxRetries = 200 });
        var rng = new DeterministicRandom(1);
        var fallbacks = 0;
        for (var i = 0; i < 300; i++)
        {
            var r = sampler.Next(rng);
            var fraction = (double)sampler.CountForeground(subject.Label!, subject.Size, r.D, r.H, r.W) / (16 * 16 * 16);
            if (r.Fallback) fallbacks++;
            else Assert.True(fraction >= threshold, $"accepted crop at ({r.D},{r.H},{r.W}) has {fraction:P1} foreground");
        }
        Assert.True(fallbacks < 30, $"{fallbacks} fallbacks of 300");
    }

    [Fact]
    public void Next_ThresholdUnreachable_FallsBackToBestDrawAndMarksIt()
    {
        var subject = TestSubjects.Cube("s", Volume, (0, 0, 0), 6); // 216 voxels: at most 5% of a 16³ crop
        var sampler = new PatchSampler([subject], new SamplingOptions { Sampler = "threshold", Threshold = 0.9, PatchSize = [16, 16, 16], MaxRetries = 20 });
        var rng = new DeterministicRandom(2);
        var requests = Enumerable.Range(0, 60).Select(_ => sampler.Next(rng)).ToArray();
        Assert.All(requests, r => Assert.True(r.Fallback));
        // A uniformly random crop touches the corner cube with probability (6/25)³ ≈ 1.4%; the best of
        // 21 draws does in ≈ 25% of requests.
        var hits = requests.Count(r => sampler.CountForeground(subject.Label!, subject.Size, r.D, r.H, r.W) > 0);
        Assert.True(hits >= 6, $"{hits} of 60 fallback crops contain foreground");
    }

    [Fact]
    public void Next_ThresholdOfVolume_UsesMedicalZoosFractionOfAllForeground()
    {
        // 16³ foreground cube; a 16³ crop holds ≥ 50% of it only when it overlaps the cube by half.
        var subject = TestSubjects.Cube("s", Volume, (12, 12, 12), 16);
        var sampler = new PatchSampler([subject], new SamplingOptions { Sampler = "threshold", Threshold = 0.5, ThresholdOf = "volume", PatchSize = [16, 16, 16], MaxRetries = 500 });
        var rng = new DeterministicRandom(3);
        for (var i = 0; i < 100; i++)
        {
            var r = sampler.Next(rng);
            if (r.Fallback) continue;
            Assert.True(sampler.CountForeground(subject.Label!, subject.Size, r.D, r.H, r.W) >= 0.5 * 16 * 16 * 16);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(1, 3)]
    public void Next_Balanced_PositiveShareMatchesRatioAndAnchorsLieInCrop(double pos, double neg)
    {
        var subject = TestSubjects.Cube("s", Volume, (4, 20, 8), 6); // small foreground: random crops would rarely hit it
        var sampler = new PatchSampler([subject], new SamplingOptions { Sampler = "balanced", PositiveRatio = pos, NegativeRatio = neg, PatchSize = [12, 12, 12] });
        var rng = new DeterministicRandom(4);
        const int n = 1200;
        var positives = 0;
        for (var i = 0; i < n; i++)
        {
            var r = sampler.Next(rng);
            Assert.InRange(r.D, 0, Volume.D - 12);
            if (r.AnchorClass == 1)
            {
                positives++;
                Assert.True(sampler.CountForeground(subject.Label!, subject.Size, r.D, r.H, r.W) > 0, "a positive crop contains its foreground anchor");
            }
            else Assert.Equal(0, r.AnchorClass);
        }
        var expected = pos / (pos + neg);
        var sigma = Math.Sqrt(expected * (1 - expected) / n);
        Assert.InRange((double)positives / n, expected - 4 * sigma, expected + 4 * sigma);
    }

    [Fact]
    public void Next_ClassRatio_DrawsClassesInProportionAndSkipsAbsentOnes()
    {
        var subject = TestSubjects.Blocks("s", SpatialSize.Cube(24), classes: 3, block: 4);
        // Class 3 is declared by a 4-class subject set but occurs nowhere: its weight is dropped.
        var four = new Subject("t", subject.Modalities, subject.Images, subject.Label, subject.Size, subject.Geometry, [], 4);
        var sampler = new PatchSampler([four], new SamplingOptions { Sampler = "class_ratio", ClassRatios = [1, 2, 1, 5], PatchSize = [8, 8, 8] });
        var rng = new DeterministicRandom(5);
        var counts = new int[4];
        const int n = 2000;
        for (var i = 0; i < n; i++) counts[sampler.Next(rng).AnchorClass]++;
        Assert.Equal(0, counts[3]);
        Assert.InRange(counts[1] / (double)n, 0.5 - 0.05, 0.5 + 0.05);
        Assert.InRange(counts[0] / (double)n, 0.25 - 0.05, 0.25 + 0.05);
    }

    [Fact]
    public void Next_ClassRatioWrongLength_NamesTheField()
    {
        var subject = TestSubjects.Cube("s", Volume, (0, 0, 0), 4);
        var e = Assert.Throws<ArgumentException>(() => new PatchSampler([subject], new SamplingOptions { Sampler = "class_ratio", ClassRatios = [1, 1, 1] }));
        Assert.Contains("ClassRatios", e.Message);
    }

    [Fact]
    public void Next_Random_CoversEveryPositionIncludingTheLast()
    {
        var subject = TestSubjects.Cube("s", SpatialSize.Cube(10), (0, 0, 0), 1);
        var sampler = new PatchSampler([subject], new SamplingOptions { Sampler = "random", PatchSize = [8, 8, 8] });
        var rng = new DeterministicRandom(6);
        var starts = Enumerable.Range(0, 300).Select(_ => sampler.Next(rng).D).ToHashSet();
        Assert.Equal([0, 1, 2], starts.Order());
    }

    [Fact]
    public void Next_VolumeSmallerThanPatch_PlacesVolumeInsidePaddedPatch()
    {
        var subject = TestSubjects.Cube("s", new SpatialSize(6, 20, 20), (1, 1, 1), 3);
        var sampler = new PatchSampler([subject], new SamplingOptions { Sampler = "balanced", PatchSize = [10, 10, 10] });
        var rng = new DeterministicRandom(7);
        for (var i = 0; i < 100; i++)
        {
            var r = sampler.Next(rng);
            Assert.InRange(r.D, 6 - 10, 0); // the whole 6-slice volume lies within the 10-slice patch
        }
    }
}
