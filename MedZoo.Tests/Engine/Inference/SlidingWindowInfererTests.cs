using MedZoo.Engine.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Inference;

public class SlidingWindowInfererTests
{
    private static SlidingWindowInferer Inferer(int[] window, double overlap, BlendMode blend, InferenceOutput output = InferenceOutput.Logits,
        int perBatch = 2, int[]? flips = null, WindowPadding padding = WindowPadding.Constant) =>
        new(new SlidingWindowOptions
        {
            WindowSize = window, Overlap = overlap, Blend = blend, Output = output, WindowsPerBatch = perBatch,
            FlipAxes = flips ?? [], Padding = padding,
        });

    public static TheoryData<int[], int[], double, int, BlendMode> IdentityCases()
    {
        var data = new TheoryData<int[], int[], double, int, BlendMode>();
        int[][] sizes = [[16, 16, 16], [13, 17, 9], [5, 9, 20], [8, 8, 8], [1, 30, 7]];
        double[] overlaps = [0, 0.25, 0.5, 0.7, 0.9];
        var channels = new[] { 1, 2, 3 };
        var n = 0;
        foreach (var size in sizes)
            foreach (var overlap in overlaps)
            {
                // Cycle channel counts and blend modes across the table so every combination of size and overlap runs once.
                data.Add(size, [8, 8, 8], overlap, channels[n % 3], n % 2 == 0 ? BlendMode.Gaussian : BlendMode.Constant);
                n++;
            }
        data.Add([20, 11, 6], [6, 10, 4], 0.5, 4, BlendMode.Gaussian);
        data.Add([20, 11, 6], [6, 10, 4], 0.5, 4, BlendMode.Constant);
        return data;
    }

    [Theory]
    [MemberData(nameof(IdentityCases))]
    public void Predict_IdentityNetwork_ReproducesInputBitwise(int[] size, int[] window, double overlap, int channels, BlendMode blend)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(7);
        var input = randn([2, channels, size[0], size[1], size[2]]);
        var output = Inferer(window, overlap, blend).Predict(input, t => t);
        Assert.Equal(input.shape, output.shape);
        Assert.True(input.equal(output).all().item<bool>(), $"max difference {(input - output).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(BlendMode.Constant)]
    [InlineData(BlendMode.Gaussian)]
    public void Predict_IdentityWithFlipTta_AveragesProbabilitiesToSoftmaxOfInput(BlendMode blend)
    {
        using var scope = NewDisposeScope();
        var input = randn([1, 2, 11, 9, 10]);
        var probabilities = Inferer([8, 8, 8], 0.5, blend, InferenceOutput.Probabilities, flips: [0, 1, 2]).Predict(input, t => t);
        Assert.True(probabilities.allclose(input.softmax(1), 1e-6, 1e-6));
        // Logits under TTA are the log of the averaged probabilities: their softmax gives those back.
        var logits = Inferer([8, 8, 8], 0.5, blend, InferenceOutput.Logits, flips: [0, 1, 2]).Predict(input, t => t);
        Assert.True(logits.softmax(1).allclose(probabilities, 1e-6, 1e-6));
    }

    /// <summary>A 3×3×3 convolution with random weights: not symmetric under any flip.</summary>
    private static nn.Module<Tensor, Tensor> RandomConvolution(int classes, long seed, bool symmetric = false)
    {
        random.manual_seed(seed);
        var conv = nn.Conv3d(2, classes, 3, padding: 1);
        if (symmetric)
        {
            using var noGrad = no_grad();
            // Averaging the kernel over its 8 mirror images makes f(flip x) = flip f(x) for every flip.
            var w = conv.weight!;
            var sum = zeros_like(w);
            foreach (long[] dims in new[] { Array.Empty<long>(), [2], [3], [4], [2, 3], [2, 4], [3, 4], [2, 3, 4] })
                sum.add_(dims.Length == 0 ? w : w.flip(dims));
            w.copy_(sum.div_(8));
        }
        return conv;
    }

    [Theory]
    [InlineData(new long[] { 2 })]
    [InlineData(new long[] { 3 })]
    [InlineData(new long[] { 4 })]
    [InlineData(new long[] { 2, 3, 4 })]
    public void Predict_MirroredInputWithTta_GivesMirroredProbabilities(long[] mirror)
    {
        using var scope = NewDisposeScope();
        using var conv = RandomConvolution(3, 11);
        var input = randn([1, 2, 16, 12, 16]);
        // 16 and 12 with window 8 at overlap 0.5 tile symmetrically (starts 0, 4, 8 and 0, 4), so mirroring maps windows onto windows.
        var inferer = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, InferenceOutput.Probabilities, flips: [0, 1, 2]);
        var direct = inferer.Predict(input, conv);
        var mirrored = inferer.Predict(input.flip(mirror), conv);
        Assert.True(mirrored.allclose(direct.flip(mirror), 1e-5, 1e-6), $"max difference {(mirrored - direct.flip(mirror)).abs().max().item<float>()}");
        // Without TTA a random convolution is not mirror-equivariant: the test can tell the two apart.
        var plain = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, InferenceOutput.Probabilities);
        Assert.False(plain.Predict(input.flip(mirror), conv).allclose(plain.Predict(input, conv).flip(mirror), 1e-3, 1e-3));
    }

    [Theory]
    [InlineData(new[] { 8, 8, 8 }, BlendMode.Gaussian)]
    [InlineData(new[] { 8, 8, 8 }, BlendMode.Constant)]
    public void Predict_SymmetricNetworkWithTta_EqualsWithoutTta(int[] size, BlendMode blend)
    {
        using var scope = NewDisposeScope();
        using var conv = RandomConvolution(4, 5, symmetric: true);
        var input = randn([1, 2, size[0], size[1], size[2]]);
        var tta = Inferer([8, 8, 8], 0.5, blend, InferenceOutput.Probabilities, flips: [0, 1, 2]).Predict(input, conv);
        var plain = Inferer([8, 8, 8], 0.5, blend, InferenceOutput.Probabilities).Predict(input, conv);
        Assert.True(tta.allclose(plain, 1e-5, 1e-6), $"max difference {(tta - plain).abs().max().item<float>()}");
    }

    [Fact]
    public void Predict_PointwiseNetworkWithTtaOverManyWindows_EqualsWithoutTta()
    {
        // A 1×1×1 convolution is mirror-equivariant and sees the same logits in every window, so
        // averaging probabilities over passes and windows equals the softmax of the blended logits.
        using var scope = NewDisposeScope();
        random.manual_seed(9);
        using var conv = nn.Conv3d(2, 3, 1);
        var input = randn([1, 2, 19, 14, 23]);
        var tta = Inferer([8, 8, 8], 0.25, BlendMode.Gaussian, InferenceOutput.Probabilities, flips: [0, 1, 2]).Predict(input, conv);
        var plain = Inferer([8, 8, 8], 0.25, BlendMode.Gaussian, InferenceOutput.Probabilities).Predict(input, conv);
        Assert.True(tta.allclose(plain, 1e-5, 1e-6));
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0, 1, 2 })]
    public void Predict_Probabilities_SumToOneOverClasses(int[] flips)
    {
        using var scope = NewDisposeScope();
        using var conv = RandomConvolution(5, 2);
        var input = randn([2, 2, 13, 17, 9]).mul_(10);
        var p = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, InferenceOutput.Probabilities, flips: flips).Predict(input, conv);
        Assert.True(p.sum(1).allclose(ones([2, 13, 17, 9]), 1e-5, 1e-5));
        Assert.True(p.min().item<float>() >= 0);
    }

    [Fact]
    public void Predict_PointwiseNetwork_MatchesWholeVolumeForward()
    {
        // A 1×1×1 convolution is translation-equivariant: any misplaced tile would show as a difference.
        using var scope = NewDisposeScope();
        random.manual_seed(3);
        using var conv = nn.Conv3d(2, 3, 1);
        var input = randn([1, 2, 19, 14, 23]);
        using var noGrad = no_grad();
        var expected = conv.call(input);
        var actual = Inferer([8, 8, 8], 0.25, BlendMode.Gaussian).Predict(input, conv);
        Assert.True(expected.allclose(actual, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Predict_ProbabilitiesAndLabels_AreSoftmaxAndArgmaxOfLogits()
    {
        using var scope = NewDisposeScope();
        var input = randn([2, 3, 10, 12, 9]);
        var logits = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian).Predict(input, t => t);
        var probabilities = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, InferenceOutput.Probabilities).Predict(input, t => t);
        var labels = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, InferenceOutput.Labels).Predict(input, t => t);
        Assert.True(probabilities.allclose(logits.softmax(1), 1e-6, 1e-6));
        Assert.Equal(new long[] { 2, 10, 12, 9 }, labels.shape);
        Assert.Equal(ScalarType.Int64, labels.dtype);
        Assert.True(labels.equal(logits.argmax(1)).all().item<bool>());
    }

    [Fact]
    public void PredictVolume_PlainArrays_MatchTensorPath()
    {
        using var scope = NewDisposeScope();
        var input = randn([1, 3, 7, 9, 11]);
        var inferer = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian);
        var image = input.data<float>().ToArray();
        var result = inferer.PredictVolume(image, 3, 7, 9, 11, t => t, includeProbabilities: true);
        Assert.Equal(3, result.Classes);
        Assert.Equal(input.argmax(1).to(ScalarType.Int32).data<int>().ToArray(), result.Labels);
        var expected = input.softmax(1).data<float>().ToArray();
        Assert.Equal(expected.Length, result.Probabilities!.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], result.Probabilities[i], 1e-6f);
    }

    [Theory]
    [InlineData(WindowPadding.Reflect)]
    [InlineData(WindowPadding.Replicate)]
    public void Predict_OtherPaddingModes_ReproduceInput(WindowPadding padding)
    {
        using var scope = NewDisposeScope();
        var input = randn([1, 1, 6, 5, 7]);
        var output = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, padding: padding).Predict(input, t => t);
        Assert.True(input.equal(output).all().item<bool>());
    }

    [Theory]
    [InlineData(16, 8, 0.5, new[] { 0, 4, 8 })]
    [InlineData(17, 8, 0.5, new[] { 0, 4, 8, 9 })]
    [InlineData(16, 8, 0.0, new[] { 0, 8 })]
    [InlineData(20, 8, 0.0, new[] { 0, 8, 12 })]
    [InlineData(8, 8, 0.9, new[] { 0 })]
    [InlineData(10, 8, 0.99, new[] { 0, 1, 2 })]
    public void AxisStarts_CoverTheAxisWithLastWindowAtTheEnd(int size, int window, double overlap, int[] expected)
    {
        Assert.Equal(expected, SlidingWindowInferer.AxisStarts(size, window, overlap));
    }

    [Fact]
    public void Predict_ReportsProgressUpToTotal()
    {
        using var scope = NewDisposeScope();
        var reports = new List<SlidingWindowProgress>();
        var input = randn([2, 1, 16, 16, 8]);
        Inferer([8, 8, 8], 0.5, BlendMode.Constant, perBatch: 4, flips: [2]).Predict(input, t => t, reports.Add);
        // 3×3×1 windows per volume, 2 flips, 2 volumes.
        Assert.Equal(36, reports[^1].WindowsTotal);
        Assert.Equal(36, reports[^1].WindowsDone);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.WindowsDone < p.Second.WindowsDone));
    }

    [Fact]
    public void Predict_Cancelled_ThrowsAndLeaksNoTensor()
    {
        using var cts = new CancellationTokenSource();
        using var input = randn([1, 1, 16, 16, 16]);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var calls = 0;
        Assert.Throws<OperationCanceledException>(() =>
            Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, perBatch: 1).Predict(input, t => { if (++calls == 2) cts.Cancel(); return t; }, cancellation: cts.Token));
        Assert.Equal(2, calls);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Predict_Repeated_LeavesOnlyTheResults()
    {
        using var input = randn([1, 2, 12, 12, 12]);
        var inferer = Inferer([8, 8, 8], 0.5, BlendMode.Gaussian, InferenceOutput.Labels, flips: [0]);
        inferer.Predict(input, t => t).Dispose();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 3; i++) inferer.Predict(input, t => t * 2).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.False(input.IsInvalid);
    }

    [Fact]
    public void Predict_NetworkChangingSpatialSize_ThrowsClearError()
    {
        using var scope = NewDisposeScope();
        var input = randn([1, 1, 8, 8, 8]);
        var e = Assert.Throws<InvalidOperationException>(() =>
            Inferer([8, 8, 8], 0, BlendMode.Constant).Predict(input, t => nn.functional.avg_pool3d(t, [2, 2, 2])));
        Assert.Contains("(1, 1, 4, 4, 4)", e.Message);
    }

    [Fact]
    public void Predict_InputNotFiveDimensional_Throws()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => Inferer([8, 8, 8], 0, BlendMode.Constant).Predict(randn([1, 8, 8, 8]), t => t));
        Assert.Contains("(B, C, D, H, W)", e.Message);
    }

    [Theory]
    [InlineData("WindowSize", nameof(SlidingWindowOptions.WindowSize))]
    [InlineData("Overlap", nameof(SlidingWindowOptions.Overlap))]
    [InlineData("Sigma", nameof(SlidingWindowOptions.GaussianSigmaScale))]
    [InlineData("Batch", nameof(SlidingWindowOptions.WindowsPerBatch))]
    [InlineData("Flip", nameof(SlidingWindowOptions.FlipAxes))]
    public void Validate_BadField_NamesIt(string change, string field)
    {
        var o = new SlidingWindowOptions();
        switch (change)
        {
            case "WindowSize": o.WindowSize = [8, 8]; break;
            case "Overlap": o.Overlap = 1; break;
            case "Sigma": o.GaussianSigmaScale = 0; break;
            case "Batch": o.WindowsPerBatch = 0; break;
            case "Flip": o.FlipAxes = [0, 3]; break;
        }
        var e = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains(field, e.Message);
    }
}
