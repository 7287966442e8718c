using MedZoo.Engine.Metrics;

namespace MedZoo.Tests.Engine.Metrics;

public class EuclideanDistanceTransformTests
{
    [Fact]
    public void SquaredDistances_OneFeatureAnisotropic_IsExactEverywhere()
    {
        var shape = new VolumeShape(4, 5, 6);
        var spacing = new VoxelSpacing(2, 1, 0.5);
        var features = new bool[shape.VoxelCount];
        features[shape.IndexOf(1, 2, 3)] = true;
        var squared = EuclideanDistanceTransform.SquaredDistances(features, shape, spacing);
        for (var d = 0; d < 4; d++)
            for (var h = 0; h < 5; h++)
                for (var w = 0; w < 6; w++)
                {
                    var expected = Math.Pow(2 * (d - 1), 2) + Math.Pow(h - 2, 2) + Math.Pow(0.5 * (w - 3), 2);
                    Assert.Equal(expected, squared[shape.IndexOf(d, h, w)], 12);
                }
    }

    [Theory]
    [InlineData(1, 0.03)]
    [InlineData(2, 0.003)]
    [InlineData(3, 0.3)]
    public void Distances_RandomFeatures_EqualBruteForce(int seed, double density)
    {
        var shape = new VolumeShape(7, 9, 11);
        var spacing = new VoxelSpacing(1.7, 0.6, 1.1);
        var random = new Random(seed);
        var features = new bool[shape.VoxelCount];
        for (var i = 0; i < features.Length; i++) features[i] = random.NextDouble() < density;
        features[random.Next(features.Length)] = true;
        var distances = EuclideanDistanceTransform.Distances(features, shape, spacing);
        var points = new List<(int D, int H, int W)>();
        for (var d = 0; d < 7; d++)
            for (var h = 0; h < 9; h++)
                for (var w = 0; w < 11; w++)
                    if (features[shape.IndexOf(d, h, w)]) points.Add((d, h, w));
        for (var d = 0; d < 7; d++)
            for (var h = 0; h < 9; h++)
                for (var w = 0; w < 11; w++)
                {
                    var best = points.Min(p => Math.Pow(1.7 * (d - p.D), 2) + Math.Pow(0.6 * (h - p.H), 2) + Math.Pow(1.1 * (w - p.W), 2));
                    Assert.Equal(Math.Sqrt(best), distances[shape.IndexOf(d, h, w)], 10);
                }
    }

    [Fact]
    public void SquaredDistances_NoFeature_IsInfiniteEverywhere()
    {
        var shape = new VolumeShape(3, 4, 5);
        var squared = EuclideanDistanceTransform.SquaredDistances(new bool[shape.VoxelCount], shape, VoxelSpacing.Isotropic());
        Assert.All(squared, v => Assert.True(double.IsPositiveInfinity(v)));
    }

    [Fact]
    public void Transform1D_SkipsInfiniteSamples()
    {
        var f = new[] { double.PositiveInfinity, 0, double.PositiveInfinity, double.PositiveInfinity, 0, double.PositiveInfinity };
        var d = new double[6];
        EuclideanDistanceTransform.Transform1D(f, d, 4, new int[6], new double[7]);
        Assert.Equal(new double[] { 4, 0, 4, 4, 0, 4 }, d);
    }

    [Fact]
    public void SquaredDistances_WrongMaskLength_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => EuclideanDistanceTransform.SquaredDistances(new bool[5], new VolumeShape(2, 2, 2), VoxelSpacing.Isotropic()));
        Assert.Contains("needs 8", e.Message);
    }
}
