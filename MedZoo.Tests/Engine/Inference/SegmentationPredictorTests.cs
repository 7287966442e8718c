using MedZoo.Engine.Inference;
using MedZoo.Engine.IO;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Inference;

/// <summary>
/// The predictor's whole-volume probabilities (the call that planning wraps) and test-time
/// augmentation by mirroring, on a small randomly initialised UNET3D_CICEK written as a checkpoint.
/// </summary>
public class SegmentationPredictorTests
{
    private const int Classes = 3;

    private static SegmentationPredictor Predictor()
    {
        random.manual_seed(21);
        using var model = ModelZoo.Create("UNET3D_CICEK", 2, Classes, new ModelOptions { BaseFilters = 4, Depth = 1 });
        var header = new CheckpointHeader
        {
            RunId = "tta", Kind = "best",
            Model = new CheckpointModel { Name = "UNET3D_CICEK", InChannels = 2, Classes = Classes, BaseFilters = 4, Depth = 1 },
            ClassNames = ["Background", "A", "B"], Modalities = ["T1", "T2"], PatchSize = [8, 8, 8],
            Normalization = new CheckpointNormalization { Name = "full_volume_mean" },
        };
        using var buffer = new MemoryStream();
        Checkpoint.Write(buffer, header, model, null, includeRngState: false);
        buffer.Position = 0;
        return SegmentationPredictor.Load(buffer, "cpu");
    }

    private static Tensor Image(long seed, long d = 16, long h = 12, long w = 16)
    {
        random.manual_seed(seed);
        return randn([2, d, h, w]).mul_(30).add_(100);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PredictProbabilities_AnyOptions_ClassProbabilitiesSumToOne(bool tta)
    {
        using var predictor = Predictor();
        using var scope = NewDisposeScope();
        var image = Image(1, 13, 10, 11);
        var p = predictor.PredictProbabilities(image, new PredictionOptions { FlipAxes = tta ? PredictionOptions.AllAxes : [] });
        Assert.Equal(new long[] { Classes, 13, 10, 11 }, p.shape);
        Assert.Equal(ScalarType.Float32, p.dtype);
        Assert.True(p.sum(0L).allclose(ones_like(p[0]), 1e-5, 1e-5)); // 0L: a literal 0 would pick sum(ScalarType)
        Assert.True(p.min().item<float>() >= 0);
    }

    [Theory]
    [InlineData(new long[] { 1 })]
    [InlineData(new long[] { 2 })]
    [InlineData(new long[] { 3 })]
    [InlineData(new long[] { 1, 2, 3 })]
    public void PredictProbabilities_MirroredInputWithTta_GivesMirroredProbabilities(long[] mirror)
    {
        using var predictor = Predictor();
        using var scope = NewDisposeScope();
        var image = Image(2);
        var options = new PredictionOptions { FlipAxes = PredictionOptions.AllAxes };
        var direct = predictor.PredictProbabilities(image, options);
        var mirrored = predictor.PredictProbabilities(image.flip(mirror), options);
        Assert.True(mirrored.allclose(direct.flip(mirror), 1e-4, 1e-5), $"max difference {(mirrored - direct.flip(mirror)).abs().max().item<float>()}");
    }

    [Fact]
    public void PredictProbabilities_Tta_CountsEightPassesPerWindow()
    {
        using var predictor = Predictor();
        using var scope = NewDisposeScope();
        var totals = new List<int>();
        predictor.PredictProbabilities(Image(3), new PredictionOptions(), p => totals.Add(p.WindowsTotal));
        predictor.PredictProbabilities(Image(3), new PredictionOptions { FlipAxes = PredictionOptions.AllAxes }, p => totals.Add(p.WindowsTotal));
        Assert.Equal(8 * totals[0], totals[^1]);
    }

    [Fact]
    public void Predict_WithTta_LabelsAreArgmaxOfTheAveragedProbabilities()
    {
        using var predictor = Predictor();
        using var scope = NewDisposeScope();
        var image = Image(4);
        var options = new PredictionOptions { FlipAxes = PredictionOptions.AllAxes, Probabilities = true };
        var expected = predictor.PredictProbabilities(image, options);
        // The same voxels as volumes: a Volume's (x, y, z) with x fastest is the tensor's (D, H, W) = (z, y, x).
        var volumes = Enumerable.Range(0, 2).Select(c => Volume.FromArray<float>(image[c].data<float>().ToArray(), [16, 12, 16])).ToList();
        var result = predictor.Predict(volumes, options);
        Assert.Equal(expected.argmax(0).to(ScalarType.Int32).data<int>().ToArray(), Array.ConvertAll(result.Labels.ToFloatArray(), v => (int)v));
        Assert.Equal(expected.data<float>().ToArray(), result.Probabilities!.ToFloatArray());
    }

    [Fact]
    public void PredictProbabilities_WrongChannelCount_SaysWhatTheCheckpointExpects()
    {
        using var predictor = Predictor();
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => predictor.PredictProbabilities(randn([1, 8, 8, 8])));
        Assert.Contains("expects 2 channel(s) (T1, T2), the image has 1", e.Message);
    }
}
