using MedZoo.Engine.Networks.Blocks;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

/// <summary>A convolution route checked against the same convolution in float64: its output and every gradient.</summary>
internal static class Float64Reference
{
    /// <summary>
    /// Runs <paramref name="route"/> on float32 leaves copied from <paramref name="x"/>, <paramref name="w"/> and
    /// <paramref name="b"/>, back-propagates a random upstream gradient, and asserts that the output and the input, weight
    /// and bias gradients agree with <paramref name="spec"/> run in float64 to 1e-4 relative. Returns the float32
    /// weight gradient, for callers that check more of it.
    /// </summary>
    public static Tensor AssertMatches(Func<Tensor, Tensor, Tensor?, Tensor> route, Tensor x, Tensor w, Tensor? b, ConvolutionSpec spec)
    {
        var xi = x.detach().requires_grad_(true);
        var wi = w.detach().requires_grad_(true);
        var bi = b?.detach().requires_grad_(true);
        var y = route(xi, wi, bi);
        var upstream = randn(y.shape);
        y.backward([upstream]);
        var x64 = x.detach().to(float64).requires_grad_(true);
        var w64 = w.detach().to(float64).requires_grad_(true);
        var b64 = b?.detach().to(float64).requires_grad_(true);
        var y64 = spec.Run(x64, w64, b64);
        y64.backward([upstream.to(float64)]);
        Assert.Equal(y64.shape, y.shape);
        AssertClose(y, y64);
        AssertClose(xi.grad!, x64.grad!);
        AssertClose(wi.grad!, w64.grad!);
        if (bi is not null) AssertClose(bi.grad!, b64!.grad!);
        return wi.grad!;
    }

    public static void AssertClose(Tensor actual, Tensor reference)
    {
        var scale = reference.abs().max().item<double>();
        var err = (actual.to(float64) - reference).abs().max().item<double>();
        Assert.True(err <= 1e-4 * scale, $"relative error {err / scale:E2}");
    }
}
