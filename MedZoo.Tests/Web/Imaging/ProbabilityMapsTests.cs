using MedZoo.Engine.IO;
using MedZoo.Web.Imaging;

namespace MedZoo.Tests.Web.Imaging;

public class ProbabilityMapsTests
{
    [Fact]
    public void Quantize_AnyProbability_DequantizesWithinHalfALevel()
    {
        var random = new Random(3);
        var p = Enumerable.Range(0, 10_000).Select(_ => (float)random.NextDouble()).Concat([0f, 1f, 0.5f, float.NaN, -0.1f, 1.2f]).ToArray();
        var q = ProbabilityMaps.Quantize(p);
        for (var i = 0; i < p.Length; i++)
        {
            var expected = float.IsNaN(p[i]) ? 0 : Math.Clamp(p[i], 0, 1);
            Assert.InRange(Math.Abs(ProbabilityMaps.Dequantize(q[i]) - expected), 0, 0.5f / 255 + 1e-6f);
        }
        Assert.Equal([0, 255, 128], q.Skip(10_000).Take(3));
    }

    [Fact]
    public void Entropy_CertainUniformAndMixedVoxels_ScaledToLnC()
    {
        // Three classes laid out class by class over four voxels: certain, uniform, two-way split, (0.7, 0.2, 0.1).
        float[] p =
        [
            1, 1 / 3f, 0.5f, 0.7f,
            0, 1 / 3f, 0.5f, 0.2f,
            0, 1 / 3f, 0, 0.1f,
        ];
        var h = ProbabilityMaps.Entropy(p, 3);
        var expectedNats = new[] { 0, Math.Log(3), Math.Log(2), -(0.7 * Math.Log(0.7) + 0.2 * Math.Log(0.2) + 0.1 * Math.Log(0.1)) };
        Assert.Equal(0, h[0]);
        Assert.Equal(255, h[1]);
        for (var i = 0; i < 4; i++)
            Assert.InRange(Math.Abs(h[i] * Math.Log(3) / 255 - expectedNats[i]), 0, Math.Log(3) / 510 + 1e-6);
    }

    [Fact]
    public void Entropy_LengthNotAMultipleOfClasses_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => ProbabilityMaps.Entropy(new float[7], 3));
        Assert.Contains("7 probabilities are not 3 classes", e.Message);
    }

    [Fact]
    public void ProbabilityVolume_StoredBytes_Float32ClassesLastOnTheGivenGeometry()
    {
        var geometry = new VolumeGeometry([0, -1.2, 0.1, 40, 0.9, 0, 0, -20, 0, 0.05, 2.5, 7, 0, 0, 0, 1]);
        byte[][] classes = [[0, 51, 255, 102, 0, 1], [255, 204, 0, 153, 255, 254]];
        var v = ProbabilityMaps.ProbabilityVolume(classes, [3, 2, 1], geometry);
        Assert.Equal([3, 2, 1, 2], v.Shape);
        Assert.Equal(VoxelType.Float32, v.DataType);
        Assert.Same(geometry, v.Geometry);
        Assert.Equal(classes.SelectMany(c => c).Select(b => b / 255f), v.ToFloatArray());
        Assert.Throws<InvalidDataException>(() => ProbabilityMaps.ProbabilityVolume([new byte[5]], [3, 2, 1], geometry));
    }

    [Fact]
    public void Lut_EndsAndMiddle_AreTheScaleStops()
    {
        var lut = ProbabilityMaps.Lut();
        Assert.Equal(256 * 3, lut.Length);
        Assert.Equal([68, 1, 84], lut.Take(3));
        Assert.Equal([253, 231, 37], lut.Skip(255 * 3));
        Assert.Equal(ProbabilityMaps.ColorAt(128 / 255.0), (lut[128 * 3], lut[128 * 3 + 1], lut[128 * 3 + 2]));
        Assert.StartsWith("linear-gradient(to right, rgb(68, 1, 84) 0%", ProbabilityMaps.CssGradient());
        Assert.EndsWith("rgb(253, 231, 37) 100%)", ProbabilityMaps.CssGradient());
    }
}
