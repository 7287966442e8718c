using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

public sealed class FoldedNormTests
{
    // Running statistics and affine parameters far from their initial 0/1, so that a fold that misses one shows.
    private static void Randomize(nn.Module module, long seed)
    {
        using var noGrad = no_grad();
        var generator = new Generator((ulong)seed);
        foreach (var (_, m) in module.named_modules())
            if (m is TorchSharp.Modules.BatchNorm norm)
            {
                var c = norm.running_mean!.shape[0];
                norm.running_mean!.copy_(randn([c], generator: generator) * 0.5);
                norm.running_var!.copy_(rand([c], generator: generator) * 2 + 0.1);
                norm.weight!.copy_(randn([c], generator: generator));
                norm.bias!.copy_(randn([c], generator: generator));
            }
    }

    [Theory]
    [InlineData("VNET", 2, 4, 32, true)]          // 2³ deepest level: cropped kernels too
    [InlineData("VNET2", 1, 3, 16, true)]
    [InlineData("RESNETMED3D", 2, 3, 16, false)]  // the residual blocks' norms; those in shortcuts and heads stay
    public void Network_EvalUnderFreezeWeights_MatchesTheUnfoldedNetwork(string model, int inChannels, int classes, int size, bool allFold)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var net = ModelZoo.Create(model, inChannels, classes);
        Randomize(net, 4);
        net.eval();
        using var noGrad = no_grad();
        var x = randn([1, inChannels, size, size, size]);
        var unfolded = net.call(x).to(float64);
        Tensor folded, again;
        using (CpuConvolution.FreezeWeights())
        {
            folded = net.call(x).to(float64);
            // Every batch norm of VNET follows a convolution, so every one is folded.
            var norms = net.modules().Count(m => m is TorchSharp.Modules.BatchNorm);
            var folds = CpuConvolution.FoldedNormCount;
            Assert.True(norms > 0);
            if (allFold) Assert.Equal(norms, folds);
            else Assert.InRange(folds, 1, norms - 1);
            again = net.call(x).to(float64);   // the folded weights are reused
            Assert.Equal(folds, CpuConvolution.FoldedNormCount);
        }
        var scale = unfolded.abs().max().item<double>();
        Assert.True(scale > 0);
        Assert.True((folded - unfolded).abs().max().item<double>() <= 1e-4 * scale, $"folded differs by {(folded - unfolded).abs().max().item<double>() / scale:E2}");
        Assert.True((again - folded).abs().max().item<double>() <= 1e-6 * scale);
    }

    [Fact]
    public void TransposedConvolution_ThenNorm_FoldsPerOutputChannel()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var up = Layers.ConvTranspose3d(8, 6, 2, stride: 2);
        var norm = nn.BatchNorm3d(6);
        Randomize(norm, 6);
        norm.eval();
        using var noGrad = no_grad();
        var x = randn([1, 8, 3, 4, 3]);
        var expected = norm.call(up.call(x)).to(float64);
        Tensor actual;
        using (CpuConvolution.FreezeWeights()) actual = up.ThenNorm(x, norm).to(float64);
        Assert.True((actual - expected).abs().max().item<double>() <= 1e-5 * expected.abs().max().item<double>());
    }

    [Fact]
    public void FoldedNorm_OnlyUnderFreezeWeightsWithoutGradientsWithRunningStatistics()
    {
        using var scope = NewDisposeScope();
        var conv = Layers.Conv3d(4, 4, 3, padding: 1);
        var norm = nn.BatchNorm3d(4);
        var untracked = nn.BatchNorm3d(4, track_running_stats: false);
        norm.eval();
        untracked.eval();
        using (no_grad())
            Assert.Null(CpuConvolution.FoldedNorm(conv.weight, conv.bias, norm, transposed: false, groups: 1)); // no scope
        using (CpuConvolution.FreezeWeights())
        {
            using (enable_grad())
                Assert.Null(CpuConvolution.FoldedNorm(conv.weight, conv.bias, norm, transposed: false, groups: 1)); // gradients recorded
            using var noGrad = no_grad();
            Assert.Null(CpuConvolution.FoldedNorm(conv.weight, conv.bias, untracked, transposed: false, groups: 1)); // batch statistics
            Assert.Null(CpuConvolution.FoldedNorm(conv.weight, conv.bias, norm, transposed: true, groups: 2));      // grouped transposed
            norm.train();
            Assert.Null(CpuConvolution.FoldedNorm(conv.weight, conv.bias, norm, transposed: false, groups: 1)); // training mode
            norm.eval();
            var folded = CpuConvolution.FoldedNorm(conv.weight, conv.bias, norm, transposed: false, groups: 1);
            Assert.NotNull(folded);
            Assert.Equal(conv.weight.shape, folded.Value.Weight.shape);
            Assert.Equal(new long[] { 4 }, folded.Value.Bias.shape);
        }
    }
}
