using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

public class Convolution3dTests
{
    // Shapes for which libtorch 2.10's batched CPU convolution was wrong on the development machine
    // (forward for 28→12, input gradient for 4→8 and 8→8), plus a dilated and a strided case.
    [Theory]
    [InlineData(2, 28, 12, 3, 1, 1, 1)]
    [InlineData(2, 4, 8, 3, 1, 1, 1)]
    [InlineData(4, 8, 8, 3, 1, 1, 1)]
    [InlineData(2, 20, 16, 3, 2, 1, 1)]
    [InlineData(2, 24, 8, 3, 1, 2, 2)]
    public void Forward_BatchOnCpu_MatchesFloat64ForwardAndGradients(int batch, int cin, int cout, int k, int stride, int padding, int dilation)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var conv = new Convolution3d(cin, cout, k, stride, padding, dilation);
        var x = randn([batch, cin, 8, 8, 8]).requires_grad_(true);
        conv.forward(x).square().sum().backward();

        var x64 = x.detach().to(float64).requires_grad_(true);
        var w64 = conv.weight.detach().to(float64).requires_grad_(true);
        var b64 = conv.bias!.detach().to(float64);
        var y64 = nn.functional.conv3d(x64, w64, b64, [stride, stride, stride], [padding, padding, padding], [dilation, dilation, dilation]);
        y64.square().sum().backward();

        AssertClose(conv.forward(x.detach()), y64);
        AssertClose(x.grad!, x64.grad!);
        AssertClose(conv.weight.grad!, w64.grad!);
    }

    [Theory]
    [InlineData(2, 8, 16, 2, 2)]
    [InlineData(2, 8, 4, 3, 1)]
    public void TransposedForward_BatchOnCpu_MatchesFloat64(int batch, int cin, int cout, int k, int stride)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var up = new TransposedConvolution3d(cin, cout, k, stride);
        var x = randn([batch, cin, 6, 6, 6]).requires_grad_(true);
        up.forward(x).square().sum().backward();
        var x64 = x.detach().to(float64).requires_grad_(true);
        var y64 = nn.functional.conv_transpose3d(x64, up.weight.detach().to(float64), up.bias!.detach().to(float64), [stride, stride, stride]);
        y64.square().sum().backward();
        AssertClose(up.forward(x.detach()), y64);
        AssertClose(x.grad!, x64.grad!);
    }

    [Fact]
    public void Constructor_ParametersNamedLikeTorch_AndInitialisedInTorchsBounds()
    {
        using var conv = Layers.Conv3d(4, 6, 3, bias: true);
        Assert.Equal(["weight", "bias"], conv.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(new long[] { 6, 4, 3, 3, 3 }, conv.weight.shape);
        var bound = 1 / Math.Sqrt(4 * 27);
        Assert.True(conv.bias!.abs().max().item<float>() <= bound + 1e-6);
        Assert.True(conv.weight.abs().max().item<float>() <= bound + 1e-6); // kaiming_uniform(a=√5) has the same bound
        using var noBias = Layers.Conv3d(4, 6, 1, bias: false);
        Assert.Single(noBias.parameters());
    }

    [Fact]
    public void Constructor_GroupsNotDividingChannels_ThrowsNamingGroups()
    {
        var e = Assert.Throws<ArgumentException>(() => new Convolution3d(6, 4, 3, groups: 4));
        Assert.Contains("groups=4", e.Message);
    }

    [Fact]
    public void Probe_LeavesGlobalRandomGeneratorUntouched()
    {
        // The generator is process-wide: a background thread left by an earlier test (a run finishing
        // after its server stopped) drawing from it between seed and draw once failed this test. A
        // probe that consumed random numbers would fail every attempt, so one clean attempt of three passes.
        var clean = 0;
        for (var attempt = 0; attempt < 3 && clean == 0; attempt++)
        {
            manual_seed(11);
            using var expected = rand(3);
            manual_seed(11);
            _ = CpuConvolution.IsExact(channelsLast: true);
            _ = CpuConvolution.IsExact(channelsLast: false);
            using var actual = rand(3);
            if (expected.allclose(actual, rtol: 0, atol: 0)) clean++;
        }
        Assert.Equal(1, clean);
    }

    private static void AssertClose(Tensor actual, Tensor reference)
    {
        var scale = reference.abs().max().item<double>();
        var err = (actual.to(float64) - reference).abs().max().item<double>();
        Assert.True(err <= 1e-4 * scale, $"relative error {err / scale:E2} (route: {CpuConvolution.Explanation})");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Forward_OnTheRouteInEffect_ReturnsContiguousNcdhwOfTheInputsLayout(int batch)
    {
        // Whatever the route does inside (channels-last, per sample), callers get plain NCDHW back.
        using var scope = NewDisposeScope();
        manual_seed(5);
        var conv = new Convolution3d(6, 10, 3, padding: 1);
        var x = randn([batch, 6, 5, 7, 9]);
        var y = conv.forward(x);
        Assert.Equal(new long[] { batch, 10, 5, 7, 9 }, y.shape);
        Assert.True(y.is_contiguous());
        Assert.Equal(new long[] { 10 * 5 * 7 * 9, 5 * 7 * 9, 7 * 9, 9, 1 }, y.stride());
        var reference = nn.functional.conv3d(x.to(float64), conv.weight.detach().to(float64), conv.bias!.detach().to(float64), padding: [1, 1, 1]);
        AssertClose(y, reference);
    }

    [Fact]
    public void Forward_Float64OrOtherDevicesInput_IsPassedThroughUnchanged()
    {
        using var scope = NewDisposeScope();
        var conv = new Convolution3d(3, 4, 3, padding: 1);
        conv.to(float64);
        var x = randn([2, 3, 4, 4, 4], dtype: float64);
        var y = conv.forward(x);
        Assert.Equal(ScalarType.Float64, y.dtype);
        var reference = nn.functional.conv3d(x, conv.weight, conv.bias, padding: [1, 1, 1]);
        Assert.Equal(0.0, (y - reference).abs().max().item<double>());
    }

    [Fact]
    public void Route_IsDecidedOnceAndItsProbeIsExact()
    {
        // The route MedZoo picked must pass its own self-test (the probe re-runs here), and be named in the explanation.
        var route = CpuConvolution.Route;
        var expected = route switch
        {
            CpuConvolutionRoute.ChannelsLast => "channels-last",
            CpuConvolutionRoute.Native => "switched off",
            CpuConvolutionRoute.PerSample => "one sample at a time",
            _ => "default",
        };
        if (Environment.GetEnvironmentVariable(CpuConvolution.Variable) is null) Assert.Contains(expected, CpuConvolution.Explanation);
        switch (route)
        {
            case CpuConvolutionRoute.ChannelsLast:
                Assert.True(CpuConvolution.IsExact(channelsLast: true));
                break;
            case CpuConvolutionRoute.Batched or CpuConvolutionRoute.Native:
                Assert.True(CpuConvolution.IsExact(channelsLast: false));
                break;
        }
        Assert.Equal(route, CpuConvolution.Route);
    }
}

public class FreezeWeightsTests
{
    [Fact]
    public void FreezeWeights_SameResultsAsConvertingEachCall_AndFreesItsCopiesAtTheEnd()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var conv = new Convolution3d(4, 8, 3, padding: 1);
        var up = new TransposedConvolution3d(8, 4, 2, stride: 2);
        var x = randn([2, 4, 6, 6, 6]);
        using var noGrad = no_grad();
        var expected = up.forward(conv.forward(x));

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var unfrozen = up.forward(conv.forward(x));
        var perPass = DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        before += perPass;
        Tensor first, second;
        using (CpuConvolution.FreezeWeights())
        {
            using (CpuConvolution.FreezeWeights()) // nested: shares the outer scope
                first = up.forward(conv.forward(x));
            second = up.forward(conv.forward(x));
        }

        Assert.True(first.allclose(expected, rtol: 0, atol: 0));
        Assert.True(second.allclose(expected, rtol: 0, atol: 0));
        // Only the results and their intermediates remain: the two weight copies were freed with the scope.
        var leftover = DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        Assert.Equal(2 * perPass, leftover);
        Assert.True(unfrozen.allclose(expected, rtol: 0, atol: 0));
    }

    [Fact]
    public void FreezeWeights_EndedOnAnotherThread_Throws()
    {
        var frozen = CpuConvolution.FreezeWeights();
        Exception? error = null;
        var other = new Thread(() => error = Record.Exception(frozen.Dispose));
        other.Start();
        other.Join();
        frozen.Dispose();

        Assert.IsType<InvalidOperationException>(error);
    }
}
