using System.Diagnostics;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Datasets;
using Xunit.Abstractions;

namespace MedZoo.Tests.Engine.Data.Datasets;

public class BrainPhantomTests(ITestOutputHelper output)
{
    private static readonly SpatialSize Small = SpatialSize.Cube(48);

    [Theory]
    [InlineData(PhantomKind.Tissue)]
    [InlineData(PhantomKind.Tumour)]
    public void Generate_SameSeedAndIndex_IsIdentical(PhantomKind kind)
    {
        var a = BrainPhantom.Generate(kind, Small, 7, 3);
        var b = BrainPhantom.Generate(kind, Small, 7, 3);
        Assert.Equal(a.Label, b.Label);
        for (var m = 0; m < a.Images.Length; m++) Assert.Equal(a.Images[m], b.Images[m]);
    }

    [Theory]
    [InlineData(7, 3, 8, 3)]
    [InlineData(7, 3, 7, 4)]
    public void Generate_DifferentSeedOrIndex_VariesShapeAndIntensity(int seedA, int indexA, int seedB, int indexB)
    {
        var a = BrainPhantom.Generate(PhantomKind.Tissue, Small, seedA, indexA);
        var b = BrainPhantom.Generate(PhantomKind.Tissue, Small, seedB, indexB);
        var differentLabels = a.Label!.Zip(b.Label!).Count(p => p.First != p.Second);
        Assert.True(differentLabels > a.Label!.Length / 50, $"only {differentLabels} voxels differ: shapes barely vary");
        Assert.NotEqual(a.Images[0], b.Images[0]);
    }

    [Fact]
    public void Generate_Tissue_HasEveryClassWithT1AndT2Contrasts()
    {
        var s = BrainPhantom.Generate(PhantomKind.Tissue, SpatialSize.Cube(64), 1, 0);
        Assert.Equal(["T1", "T2"], s.Modalities);
        var counts = Enumerable.Range(0, 4).Select(c => s.Label!.Count(v => v == c)).ToArray();
        Assert.All(counts, n => Assert.True(n > 2000, $"class counts {string.Join(", ", counts)}"));
        var t1 = ClassMeans(s.Images[0], s.Label!, 4);
        var t2 = ClassMeans(s.Images[1], s.Label!, 4);
        Assert.True(t1[1] < t1[2] && t1[2] < t1[3], $"T1 means CSF {t1[1]:F0} < GM {t1[2]:F0} < WM {t1[3]:F0}");
        Assert.True(t2[1] > t2[2] && t2[2] > t2[3], $"T2 means CSF {t2[1]:F0} > GM {t2[2]:F0} > WM {t2[3]:F0}");
        // Skull-stripped: background is exactly zero, the brain never is.
        for (var i = 0; i < s.Label!.Length; i++)
            if (s.Label[i] != 0) Assert.True(s.Images[0][i] > 0);
    }

    [Fact]
    public void Generate_Tumour_HasBratsLikeClassesAndContrasts()
    {
        var s = BrainPhantom.Generate(PhantomKind.Tumour, SpatialSize.Cube(64), 2, 1);
        Assert.Equal(["t1", "t1ce", "t2", "flair"], s.Modalities);
        var counts = Enumerable.Range(0, 4).Select(c => s.Label!.Count(v => v == c)).ToArray();
        Assert.All(counts.Skip(1), n => Assert.True(n > 30, $"class counts {string.Join(", ", counts)}"));
        var t1ce = ClassMeans(s.Images[1], s.Label!, 4);
        var flair = ClassMeans(s.Images[3], s.Label!, 4);
        Assert.True(t1ce[3] > t1ce[1] && t1ce[3] > t1ce[2], "enhancing tumour is brightest on t1ce");
        Assert.True(flair[2] > flair[1], "oedema is brighter than necrosis on FLAIR");
    }

    [Fact]
    public void Generate_Tissue_ClassesOverlapVoxelwiseButAreSeparableWithContext()
    {
        // Learnable but not trivial: a nearest-class-mean rule on raw voxels makes clear mistakes,
        // the same rule on 3×3×3 local means does much better.
        var size = SpatialSize.Cube(64);
        var s = BrainPhantom.Generate(PhantomKind.Tissue, size, 3, 0);
        var raw = NearestMeanDice(s.Images, s.Label!, size, smooth: false);
        var smooth = NearestMeanDice(s.Images, s.Label!, size, smooth: true);
        output.WriteLine($"nearest-mean foreground Dice: raw voxels {raw:F3}, 3×3×3 means {smooth:F3}");
        Assert.InRange(raw, 0.5, 0.97);
        Assert.True(smooth > 0.7, $"smoothed Dice {smooth:F3}");
    }

    [Fact]
    public void Generate_96Cubed_TakesWellUnderASecondOfCpu()
    {
        // CPU time, not wall time: the assertion must hold on a loaded shared machine too.
        BrainPhantom.Generate(PhantomKind.Tissue, SpatialSize.Cube(32), 1, 0); // JIT warm-up
        var (tissueWall, tissueCpu) = Measure(() => BrainPhantom.Generate(PhantomKind.Tissue, SpatialSize.Cube(96), 1, 0));
        var (tumourWall, tumourCpu) = Measure(() => BrainPhantom.Generate(PhantomKind.Tumour, SpatialSize.Cube(96), 1, 0));
        output.WriteLine($"96³ phantom: tissue {tissueWall.TotalMilliseconds:F0} ms wall / {tissueCpu.TotalMilliseconds:F0} ms CPU, " +
                         $"tumour {tumourWall.TotalMilliseconds:F0} ms wall / {tumourCpu.TotalMilliseconds:F0} ms CPU ({Environment.ProcessorCount} cores)");
        // Release builds use ≈ 0.2 s (tissue) and ≈ 0.3 s (tumour) of CPU; tests run Debug builds,
        // 2–3× slower, on a shared machine: the bounds catch regressions, not noise.
        Assert.True(tissueCpu < TimeSpan.FromSeconds(1.5), $"tissue phantom used {tissueCpu} of CPU");
        Assert.True(tumourCpu < TimeSpan.FromSeconds(2.5), $"tumour phantom used {tumourCpu} of CPU");
    }

    private static (TimeSpan Wall, TimeSpan Cpu) Measure(Action action)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        action();
        clock.Stop();
        process.Refresh();
        return (clock.Elapsed, process.TotalProcessorTime - cpu);
    }

    private static double[] ClassMeans(float[] img, byte[] label, int classes)
    {
        var sum = new double[classes];
        var n = new long[classes];
        for (var i = 0; i < img.Length; i++) { sum[label[i]] += img[i]; n[label[i]]++; }
        return sum.Select((v, c) => n[c] > 0 ? v / n[c] : double.NaN).ToArray();
    }

    private static double NearestMeanDice(float[][] images, byte[] label, SpatialSize size, bool smooth)
    {
        var features = images.Select(img => smooth ? BoxMean(img, size) : img).ToArray();
        var means = features.Select(f => ClassMeans(f, label, 4)).ToArray();
        var sd = features.Select(f => Math.Sqrt(f.Where((_, i) => label[i] != 0).Select(v => (double)v).Aggregate(0.0, (a, v) => a + v * v) / label.Count(v => v != 0))).ToArray();
        var tp = new long[4]; var fp = new long[4]; var fn = new long[4];
        for (var i = 0; i < label.Length; i++)
        {
            if (label[i] == 0) continue; // background is trivially zero; score tissue against tissue
            var best = 1; var bestD = double.MaxValue;
            for (var c = 1; c < 4; c++)
            {
                double dist = 0;
                for (var m = 0; m < features.Length; m++) { var z = (features[m][i] - means[m][c]) / sd[m]; dist += z * z; }
                if (dist < bestD) { bestD = dist; best = c; }
            }
            if (best == label[i]) tp[best]++; else { fp[best]++; fn[label[i]]++; }
        }
        return Enumerable.Range(1, 3).Average(c => 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]));
    }

    private static float[] BoxMean(float[] img, SpatialSize size)
    {
        var result = new float[img.Length];
        for (var d = 0; d < size.D; d++)
            for (var h = 0; h < size.H; h++)
                for (var w = 0; w < size.W; w++)
                {
                    double sum = 0; var n = 0;
                    for (var a = -1; a <= 1; a++)
                        for (var b = -1; b <= 1; b++)
                            for (var c = -1; c <= 1; c++)
                            {
                                int z = d + a, y = h + b, x = w + c;
                                if ((uint)z >= (uint)size.D || (uint)y >= (uint)size.H || (uint)x >= (uint)size.W) continue;
                                sum += img[size.Index(z, y, x)]; n++;
                            }
                    result[size.Index(d, h, w)] = (float)(sum / n);
                }
        return result;
    }
}
