using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;

namespace MedZoo.Tests.Engine.Data.Sampling;

public class GridSamplerTests
{
    [Theory]
    [InlineData(64, 32, 0.0, new[] { 0, 32 })]
    [InlineData(64, 32, 0.5, new[] { 0, 16, 32 })]
    [InlineData(70, 32, 0.25, new[] { 0, 24, 38 })]
    [InlineData(20, 32, 0.5, new[] { 0 })]
    [InlineData(32, 32, 0.5, new[] { 0 })]
    public void Starts_CoverAxisAndEndFlush(int size, int patch, double overlap, int[] expected) =>
        Assert.Equal(expected, GridSampler.Starts(size, patch, overlap));

    [Fact]
    public void Origins_CoverEveryVoxel()
    {
        var volume = new SpatialSize(30, 17, 41);
        var patch = new SpatialSize(16, 16, 16);
        var covered = new bool[volume.Voxels];
        foreach (var (d0, h0, w0) in GridSampler.Origins(volume, patch, 0.25))
            for (var d = d0; d < Math.Min(volume.D, d0 + patch.D); d++)
                for (var h = h0; h < Math.Min(volume.H, h0 + patch.H); h++)
                    for (var w = w0; w < Math.Min(volume.W, w0 + patch.W); w++)
                        covered[volume.Index(d, h, w)] = true;
        Assert.All(covered, Assert.True);
    }
}
