using MedZoo.Engine;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;

namespace MedZoo.Tests.Engine.Data.Transforms;

public class AugmenterTests
{
    private static readonly SpatialSize Patch = new(20, 24, 16);

    public static TheoryData<string, AugmentationOptions> SpatialOnly() => new()
    {
        { "flips", Only(o => o.FlipProbability = 1) },
        { "rot90", Only(o => o.Rotate90Probability = 1) },
        { "affine", Only(o => { o.AffineProbability = 1; o.RotationDegrees = 25; o.ScaleMin = 0.8; o.ScaleMax = 1.25; }) },
        { "elastic", Only(o => { o.ElasticProbability = 1; o.ElasticMagnitude = 2; o.ElasticGridSpacing = 8; }) },
        { "all", Only(o => { o.FlipProbability = 0.5; o.Rotate90Probability = 0.5; o.AffineProbability = 1; o.ElasticProbability = 1; }) },
    };

    [Theory]
    [MemberData(nameof(SpatialOnly))]
    public void DrawSpatial_EveryKind_LabelStillLinesUpWithEveryModality(string kind, AugmentationOptions options)
    {
        // Modality A = class c, modality B = c². Where both are exactly (c, c²) the voxel read no
        // other class (a mixture with mean c has a larger mean square), so its label must be c.
        var subject = TestSubjects.Blocks("s", SpatialSize.Cube(48), classes: 4, block: 6);
        var augmenter = new Augmenter(options);
        var p = (int)Patch.Voxels;
        var image = new float[2 * p];
        var label = new byte[p];
        long pure = 0, total = 0, changed = 0;
        for (var sample = 0; sample < 12; sample++)
        {
            var rng = DeterministicRandom.Derive(11, sample);
            var t = augmenter.DrawSpatial(Patch, rng);
            if (!t.IsIdentity) changed++;
            PatchExtractor.Extract(subject, 12, 10, 14, Patch, t, image, label);
            for (var q = 0; q < p; q++)
            {
                total++;
                var c = image[q];
                var rounded = MathF.Round(c);
                if (MathF.Abs(c - rounded) > 1e-3f || MathF.Abs(image[p + q] - rounded * rounded) > 1e-2f) continue;
                pure++;
                Assert.True(label[q] == (byte)rounded, $"{kind}: sample {sample} voxel {q}: image says class {rounded}, label says {label[q]}");
            }
        }
        Assert.True(changed >= 6, $"{kind}: only {changed} of 12 draws changed the patch");
        Assert.True(pure > total / 2, $"{kind}: only {pure} of {total} voxels read a single class: modalities would not be aligned");
    }

    [Fact]
    public void DrawSpatial_Flips_AxisVariesPerSample()
    {
        var augmenter = new Augmenter(Only(o => o.FlipProbability = 0.5));
        var seen = new HashSet<string>();
        for (var i = 0; i < 64; i++)
        {
            var m = augmenter.DrawSpatial(Patch, DeterministicRandom.Derive(1, i)).Matrix;
            seen.Add($"{m[0]},{m[4]},{m[8]}");
        }
        Assert.Equal(8, seen.Count); // every combination of flipped axes occurs
    }

    [Fact]
    public void DrawSpatial_Flip_IsExactMirrorOfTheCrop()
    {
        var subject = TestSubjects.Blocks("s", SpatialSize.Cube(32), classes: 5, block: 3, seed: 1);
        var plain = new float[2 * Patch.Voxels];
        var plainLabel = new byte[Patch.Voxels];
        PatchExtractor.Extract(subject, 4, 3, 6, Patch, SpatialTransform.Identity, plain, plainLabel);
        var flipW = SpatialTransform.Create([1, 0, 0, 0, 1, 0, 0, 0, -1]);
        var flipped = new float[2 * Patch.Voxels];
        var flippedLabel = new byte[Patch.Voxels];
        PatchExtractor.Extract(subject, 4, 3, 6, Patch, flipW, flipped, flippedLabel);
        for (var d = 0; d < Patch.D; d++)
            for (var h = 0; h < Patch.H; h++)
                for (var w = 0; w < Patch.W; w++)
                {
                    Assert.Equal(plain[Patch.Index(d, h, w)], flipped[Patch.Index(d, h, Patch.W - 1 - w)]);
                    Assert.Equal(plainLabel[Patch.Index(d, h, w)], flippedLabel[Patch.Index(d, h, Patch.W - 1 - w)]);
                }
    }

    [Fact]
    public void ApplyIntensity_ChangesImagesOnlyAndIsDeterministic()
    {
        var options = Only(o => { o.NoiseProbability = 1; o.GammaProbability = 1; o.BrightnessContrastProbability = 1; o.BiasFieldProbability = 1; });
        var augmenter = new Augmenter(options);
        var original = Enumerable.Range(0, (int)Patch.Voxels * 2).Select(i => (float)Math.Sin(i * 0.01)).ToArray();
        var a = original.ToArray();
        var b = original.ToArray();
        augmenter.ApplyIntensity(a, 2, Patch, DeterministicRandom.Derive(3, 1));
        augmenter.ApplyIntensity(b, 2, Patch, DeterministicRandom.Derive(3, 1));
        Assert.Equal(a, b);
        Assert.NotEqual(original, a);
        Assert.All(a, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Gamma_KeepsRangeAndOrder()
    {
        float[] x = [-1, 0, 1, 3];
        Augmenter.Gamma(x, 2);
        Assert.Equal(-1f, x[0]);
        Assert.Equal(3f, x[3]);
        Assert.Equal(-1 + 4 * 0.0625f, x[1], 5);
        Assert.True(x[1] < x[2]);
    }

    public static TheoryData<string, Action<AugmentationOptions>> BadOptions() => new()
    {
        { "FlipProbability", o => o.FlipProbability = 1.5 },
        { "FlipAxes", o => o.FlipAxes = [0, 3] },
        { "RotationDegrees", o => o.RotationDegrees = -1 },
        { "ScaleMax", o => { o.ScaleMin = 1.2; o.ScaleMax = 1.1; } },
        { "ElasticMagnitude", o => { o.ElasticGridSpacing = 8; o.ElasticMagnitude = 3; } },
        { "GammaMin", o => o.GammaMin = 0 },
        { "NoiseStd", o => o.NoiseStd = double.NaN },
        { "BiasFieldOrder", o => o.BiasFieldOrder = 0 },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_BadField_NamesIt(string field, Action<AugmentationOptions> spoil)
    {
        var o = new AugmentationOptions();
        spoil(o);
        var e = Assert.Throws<InvalidOptionException>(o.Validate);
        Assert.Contains(field, e.Message);
        Assert.Equal(field, e.Error.Path);
    }

    [Fact]
    public void Validate_Defaults_AreValid() => new AugmentationOptions().Validate();

    private static AugmentationOptions Only(Action<AugmentationOptions> set)
    {
        var o = new AugmentationOptions
        {
            FlipProbability = 0, Rotate90Probability = 0, AffineProbability = 0, ElasticProbability = 0,
            NoiseProbability = 0, GammaProbability = 0, BrightnessContrastProbability = 0, BiasFieldProbability = 0,
        };
        set(o);
        return o;
    }
}
