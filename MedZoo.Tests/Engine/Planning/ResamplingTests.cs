using System.Globalization;
using System.Runtime.InteropServices;
using MedZoo.Engine.Data;
using MedZoo.Engine.IO;
using MedZoo.Engine.Planning;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Planning;

public class ResamplingTests
{
    private static float[] Smooth(SpatialSize s, int seed)
    {
        var rng = new Random(seed);
        var (a, b, c) = (rng.NextDouble(), rng.NextDouble(), rng.NextDouble());
        var data = new float[s.Voxels];
        for (var d = 0; d < s.D; d++)
            for (var h = 0; h < s.H; h++)
                for (var w = 0; w < s.W; w++)
                    data[s.Index(d, h, w)] = (float)(100 * Math.Sin(0.5 * d + a) * Math.Cos(0.3 * h + b) + 20 * Math.Sin(0.7 * w + c) + rng.NextDouble());
        return data;
    }

    private static byte[] Blobs(SpatialSize s, int classes)
    {
        var data = new byte[s.Voxels];
        for (var d = 0; d < s.D; d++)
            for (var h = 0; h < s.H; h++)
                for (var w = 0; w < s.W; w++)
                {
                    var r = Math.Sqrt(Math.Pow(d - s.D / 2.0, 2) + Math.Pow(h - s.H / 2.0, 2) + Math.Pow(w - s.W / 2.0, 2));
                    data[s.Index(d, h, w)] = (byte)Math.Max(0, classes - 1 - (int)(r / 2.5));
                }
        return data;
    }

    [Theory]
    [InlineData(ImageInterpolation.Cubic)]
    [InlineData(ImageInterpolation.Linear)]
    public void Image_SameGrid_ReturnsTheDataBitForBit(ImageInterpolation kind)
    {
        var s = new SpatialSize(5, 6, 7);
        var data = Smooth(s, 1);
        Assert.Equal(data, Resampling.Image(data, s, s, kind));
    }

    [Theory]
    [InlineData(LabelInterpolation.Nearest)]
    [InlineData(LabelInterpolation.LinearOneHot)]
    public void Labels_SameGrid_RoundTripExactly(LabelInterpolation kind)
    {
        var s = new SpatialSize(9, 10, 11);
        var labels = Blobs(s, 4);
        Assert.Equal(labels, Resampling.Labels(labels, 4, s, s, kind));
    }

    [Theory]
    [InlineData(LabelInterpolation.Nearest)]
    [InlineData(LabelInterpolation.LinearOneHot)]
    public void Labels_IntegerUpsamplingThenDownsampling_RoundTripExactly(LabelInterpolation kind)
    {
        // Every coarse voxel becomes a 2×2×3 block and the block's centre maps back onto it.
        var s = new SpatialSize(6, 7, 8);
        var fine = new SpatialSize(18, 14, 16);
        var labels = Blobs(s, 3);
        var up = Resampling.Labels(labels, 3, s, fine, kind);
        Assert.Equal(labels, Resampling.Labels(up, 3, fine, s, LabelInterpolation.Nearest));
    }

    [Theory]
    [InlineData(LabelInterpolation.Nearest)]
    [InlineData(LabelInterpolation.LinearOneHot)]
    public void Labels_AnyResize_NeverCreateAClass(LabelInterpolation kind)
    {
        var s = new SpatialSize(12, 13, 14);
        var labels = Blobs(s, 5);
        for (var i = 0; i < labels.Length; i++) if (labels[i] == 2) labels[i] = 4; // classes 0, 1, 3, 4 only
        var present = labels.Distinct().ToHashSet();
        foreach (var to in new[] { new SpatialSize(5, 9, 21), new SpatialSize(25, 7, 14), new SpatialSize(3, 3, 3) })
            Assert.Subset(present, Resampling.Labels(labels, 5, s, to, kind).Distinct().ToHashSet());
    }

    [Fact]
    public void GeometryFor_AnyResize_KeepsTheFieldOfView()
    {
        var g = new VolumeGeometry([0, 0, -3, 40, 2, 0, 0, -10, 0, 2, 0, 5, 0, 0, 0, 1]);
        var from = new SpatialSize(10, 20, 30);
        var to = new SpatialSize(15, 40, 45);
        var r = Resampling.GeometryFor(g, from, to);
        // The outer corner of voxel (0, 0, 0) and of the last voxel are the same points of the world.
        var a = g.VoxelToWorld(-0.5, -0.5, -0.5);
        var b = r.VoxelToWorld(-0.5, -0.5, -0.5);
        Assert.Equal(a.X, b.X, 9); Assert.Equal(a.Y, b.Y, 9); Assert.Equal(a.Z, b.Z, 9);
        a = g.VoxelToWorld(from.W - 0.5, from.H - 0.5, from.D - 0.5);
        b = r.VoxelToWorld(to.W - 0.5, to.H - 0.5, to.D - 0.5);
        Assert.Equal(a.X, b.X, 9); Assert.Equal(a.Y, b.Y, 9); Assert.Equal(a.Z, b.Z, 9);
        Assert.Equal([2.0 * 30 / 45, 2.0 * 20 / 40, 3.0 * 10 / 15], r.Spacing);
    }

    [Fact]
    public void SizeAt_HalfTheSpacing_DoublesTheSize()
    {
        Assert.Equal(new SpatialSize(20, 13, 9), Resampling.SizeAt(new SpatialSize(10, 13, 17), [3, 1, 1], [1.5, 1, 2]));
    }

    [SkippableTheory]
    [InlineData(ImageInterpolation.Cubic, 3)]
    [InlineData(ImageInterpolation.Linear, 1)]
    public void Image_UpAndDown_EqualsScipyMapCoordinates(ImageInterpolation kind, int order)
    {
        PlanningReference.Require();
        using var dir = TestPaths.NewTempFolder();
        var s = new SpatialSize(9, 12, 15);
        var data = Smooth(s, 2);
        foreach (var to in new[] { new SpatialSize(14, 7, 31), new SpatialSize(4, 25, 15), new SpatialSize(1, 12, 2) })
        {
            var input = dir.File("in.raw");
            var output = dir.File("out.raw");
            File.WriteAllBytes(input, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
            PlanningReference.Run(new[] { "resample", input, output }.Concat(new[] { s.D, s.H, s.W, to.D, to.H, to.W, order }.Select(v => v.ToString(CultureInfo.InvariantCulture))));
            var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
            var actual = Resampling.Image(data, s, to, kind);
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-3, $"{to} voxel {i}: {actual[i]} vs scipy {expected[i]}");
        }
    }
}
