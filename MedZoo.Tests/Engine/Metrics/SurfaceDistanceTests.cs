using MedZoo.Engine.Metrics;

namespace MedZoo.Tests.Engine.Metrics;

public class SurfaceDistanceTests
{
    [Theory]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 95, 3.85)] // numpy.percentile([1, 2, 3, 4], 95)
    [InlineData(new[] { 1.0, 2, 3, 4 }, 50, 2.5)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 100, 4)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 0, 1)]
    [InlineData(new[] { 7.0 }, 95, 7)]
    [InlineData(new[] { 0.0, 0, 2, 4, 6, 8 }, 95, 7.5)]
    public void Percentile_SortedValues_MatchesNumpyLinear(double[] values, double percentile, double expected)
    {
        Assert.Equal(expected, SurfaceDistance.Percentile(values, percentile), 12);
    }

    [Theory]
    [InlineData(5, 1, 3, 26)]  // 3³ cube inside: all but the centre
    [InlineData(4, 0, 4, 56)]  // whole volume: the volume border counts as outside
    [InlineData(5, 2, 1, 1)]   // a single voxel
    public void Surface_Cube_CountsBoundaryVoxels(int size, int start, int edge, int expected)
    {
        var shape = new VolumeShape(size, size, size);
        var mask = Cube(shape, start, edge);
        Assert.Equal(expected, SurfaceDistance.Surface(mask, shape).Count(s => s));
    }

    [Fact]
    public void HausdorffAndAssd_ShiftedCube_MatchHandValues()
    {
        // 3³ cubes one voxel apart along W: 16 of 26 surface voxels coincide, 10 are 1 mm away, both ways.
        var shape = new VolumeShape(7, 7, 7);
        var a = Cube(shape, 2, 3);
        var b = Cube(shape, 2, 3, shiftW: 1);
        Assert.Equal(1, SurfaceDistance.Hausdorff(a, b, shape, VoxelSpacing.Isotropic()), 12);
        Assert.Equal(20.0 / 52, SurfaceDistance.AverageSymmetric(a, b, shape, VoxelSpacing.Isotropic()), 12);
        Assert.Equal(2.0, SurfaceDistance.Hausdorff(a, b, shape, new VoxelSpacing(1, 1, 2)), 12);
    }

    [Fact]
    public void Directed_EmptyMask_IsEmptyAndMetricsAreNaN()
    {
        var shape = new VolumeShape(4, 4, 4);
        var empty = new bool[shape.VoxelCount];
        var cube = Cube(shape, 1, 2);
        Assert.Empty(SurfaceDistance.Directed(cube, empty, shape, VoxelSpacing.Isotropic()));
        Assert.True(double.IsNaN(SurfaceDistance.Hausdorff(cube, empty, shape, VoxelSpacing.Isotropic())));
        Assert.True(double.IsNaN(SurfaceDistance.AverageSymmetric(empty, cube, shape, VoxelSpacing.Isotropic())));
    }

    [Fact]
    public void Hausdorff_Percentile100_IsTheMaximum()
    {
        var shape = new VolumeShape(1, 1, 12);
        var a = Line(12, 2, 5);
        var b = Line(12, 4, 9);
        Assert.Equal(8, SurfaceDistance.Hausdorff(a, b, shape, VoxelSpacing.Isotropic(2), percentile: 100), 12);
    }

    internal static bool[] Cube(VolumeShape shape, int start, int edge, int shiftW = 0)
    {
        var mask = new bool[shape.VoxelCount];
        for (var d = start; d < start + edge; d++)
            for (var h = start; h < start + edge; h++)
                for (var w = start + shiftW; w < start + edge + shiftW; w++)
                    mask[shape.IndexOf(d, h, w)] = true;
        return mask;
    }

    internal static bool[] Line(int length, int first, int last) =>
        Enumerable.Range(0, length).Select(i => i >= first && i <= last).ToArray();
}
