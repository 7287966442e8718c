using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks;

/// <summary>
/// Every zoo network computes the same function in float32 on the CPU as in float64, where libtorch
/// uses its own exact kernels instead of oneDNN. Guards against kernels that are wrong for some
/// shapes (libtorch 2.10's oneDNN: channels-last 1×1 convolutions to 200–400 channels in the
/// DenseNets, grouped transposed convolutions in SKIPDENSENET3D), which a network-level check finds
/// where a per-layer self-test on other shapes does not.
/// </summary>
public class NetworkPrecisionTests
{
    [Theory]
    [MemberData(nameof(NetworkCases.SmallNames), MemberType = typeof(NetworkCases))]
    public void Float32_BatchOfTwo_MatchesFloat64ForwardAndGradients(string key)
    {
        var c = NetworkCases.Find(key);
        NetworkCases.Seed();
        using var scope = NewDisposeScope();
        using var net = c.Create();
        net.eval(); // no dropout or batch statistics: both passes compute the same function
        var generator = new Generator(7);
        var x = randn([2, c.InChannels, c.D, c.H, c.W], generator: generator);
        var labels = randint(0, c.Classes, [2, c.D, c.H, c.W], generator: generator);

        var logits32 = net.call(x);
        nn.functional.cross_entropy(logits32, labels).backward();
        // Parameters the loss does not reach in eval mode (auxiliary branches) have no gradient.
        var grads32 = net.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        net.zero_grad();
        net.to(float64);
        var logits64 = net.call(x.to(float64));
        nn.functional.cross_entropy(logits64, labels).backward();

        var forward = RelativeError(logits32, logits64);
        Assert.True(forward <= 1e-3, $"{c}: float32 logits differ from float64 by {forward:E2} (relative to the largest)");
        // Gradients through a deep network in float32: up to ~5e-2 is rounding (PyTorch shows the same,
        // see benchmarks/README.md); a wrong kernel gives NaN or 0.1–1.
        // Relative to the parameter's own gradient, but not below 1e-4 of the network's largest: a
        // gradient that is zero in exact arithmetic (a conv bias before a one-channel-per-group
        // GroupNorm) is 1e-17 in float64 and 1e-9 in float32, which is not an error.
        var reached = net.named_parameters().Where(p => grads32.ContainsKey(p.name)).ToList();
        var largest = reached.Max(p => p.parameter.grad!.abs().max().item<double>());
        var (worst, name) = reached
            .Select(p => (error: RelativeError(grads32[p.name], p.parameter.grad!, 1e-4 * largest), p.name))
            .MaxBy(e => e.error);
        Assert.True(worst <= 0.08, $"{c}: gradient of {name} differs from float64 by {worst:E2}");
    }

    private static double RelativeError(Tensor value, Tensor reference, double floor = 1e-12)
    {
        var error = (value.to(float64) - reference).abs().max().item<double>() / Math.Max(reference.abs().max().item<double>(), floor);
        return double.IsNaN(error) ? double.PositiveInfinity : error;
    }
}
