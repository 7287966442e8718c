using MedZoo.Engine.Data;

namespace MedZoo.Tests.Engine.Data;

public class NormalizationTests
{
    // x = [0, 0, 2, 4, 6, 8]: all-voxel mean 10/3, population σ² = (4·16/9... computed below), non-zero mean 5, σ₊ = √5.
    private static readonly float[] Input = [0, 0, 2, 4, 6, 8];

    public static TheoryData<string, float[]> Formulas()
    {
        var mean = 20.0 / 6;
        var std = Math.Sqrt(Input.Select(v => (v - mean) * (v - mean)).Sum() / 6);
        var meanNz = 5.0;
        var stdNz = Math.Sqrt(5.0);
        return new TheoryData<string, float[]>
        {
            { "none", [0, 0, 2, 4, 6, 8] },
            { "max_min", [0, 0, 0.25f, 0.5f, 0.75f, 1] },
            { "full_volume_mean", Input.Select(v => (float)((v - mean) / std)).ToArray() },
            { "mean", Input.Select(v => (float)((v - meanNz) / stdNz)).ToArray() },
            { "max", [0, 0, 0.25f, 0.5f, 0.75f, 1] },
            { "brats", Input.Select(v => v == 0 ? 0f : (float)((v - meanNz) / stdNz)).ToArray() },
            { "zscore_nonzero", Input.Select(v => v == 0 ? 0f : (float)((v - meanNz) / stdNz)).ToArray() },
        };
    }

    [Theory]
    [MemberData(nameof(Formulas))]
    public void Apply_SmallArray_MatchesDocumentedFormula(string name, float[] expected)
    {
        var x = Input.ToArray();
        Normalization.Apply(Normalization.Parse(name), [x]);
        Assert.Equal(expected.Length, x.Length);
        for (var i = 0; i < x.Length; i++) Assert.Equal(expected[i], x[i], 5);
    }

    [Fact]
    public void Apply_ZScoreNonZero_UsesJointMaskOfAllModalities()
    {
        // Voxel 1 is 0 in modality a but non-zero in b: inside the joint mask, so a's 0 is normalized too.
        float[] a = [0, 0, 3, 5];
        float[] b = [0, 1, 1, 1];
        Normalization.Apply(NormalizationKind.ZScoreNonZero, [a, b]);
        var mean = 8.0 / 3;
        var std = Math.Sqrt((mean * mean + (3 - mean) * (3 - mean) + (5 - mean) * (5 - mean)) / 3);
        Assert.Equal(0f, a[0]);
        Assert.Equal((float)((0 - mean) / std), a[1], 5);
        Assert.Equal((float)((5 - mean) / std), a[3], 5);
        Assert.Equal([0f, 0f, 0f, 0f], b); // constant inside the mask: centred, unscaled
    }

    [Fact]
    public void Apply_BratsSeparateMasks_KeepsEachModalitysBackground()
    {
        float[] a = [0, 0, 3, 5];
        float[] b = [0, 1, 2, 3];
        Normalization.Apply(NormalizationKind.Brats, [a, b]);
        Assert.Equal(0f, a[1]); // zero in a stays zero even though b is non-zero there
        Assert.Equal(-1f, a[2], 5);
        Assert.Equal(1f, a[3], 5);
    }

    [Theory]
    [InlineData("max_min")]
    [InlineData("full_volume_mean")]
    [InlineData("mean")]
    [InlineData("max")]
    [InlineData("brats")]
    [InlineData("zscore_nonzero")]
    public void Apply_ConstantOrEmptyVolume_NeverProducesNaN(string name)
    {
        float[] constant = [3, 3, 3];
        float[] zeros = [0, 0, 0];
        Normalization.Apply(Normalization.Parse(name), [constant]);
        Normalization.Apply(Normalization.Parse(name), [zeros]);
        Assert.All(constant.Concat(zeros), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Apply_MaxWithNegativeMaximum_KeepsSign()
    {
        float[] x = [-4, -2];
        Normalization.Apply(NormalizationKind.Max, x);
        Assert.Equal([-1f, -0.5f], x);
    }

    [Fact]
    public void ClipPercentiles_NonZeroVoxels_ClipsAtInterpolatedPercentilesAndKeepsZeros()
    {
        // Non-zero values 1..101 (101 values): the 10th percentile is 11, the 90th is 91.
        var x = new float[] { 0, 0 }.Concat(Enumerable.Range(1, 101).Select(v => (float)v)).ToArray();
        Normalization.ClipPercentiles(x, 10, 90);
        Assert.Equal(0f, x[0]);
        Assert.Equal(11f, x.Skip(2).Min());
        Assert.Equal(91f, x.Max());
    }

    [Theory]
    [InlineData("MAX_MIN", NormalizationKind.MaxMin)]
    [InlineData("", NormalizationKind.None)]
    [InlineData(" brats ", NormalizationKind.Brats)]
    public void Parse_NamesAsMedicalZoo_CaseInsensitive(string name, NormalizationKind expected) =>
        Assert.Equal(expected, Normalization.Parse(name));

    [Fact]
    public void Parse_Unknown_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Normalization.Parse("zscore"));
        Assert.Contains("full_volume_mean", e.Message);
        Assert.Contains("zscore_nonzero", e.Message);
    }
}
