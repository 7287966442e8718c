using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class VaeLossTests
{
    [Fact]
    public void Compute_KnownTerms_AddsWeightedReconstructionAndKl()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 4, seed: 80);
        var logits = RandomLogits(2, 3, 4, seed: 80);
        var input = zeros([2, 2, 4, 4, 4]);
        // Reconstruction off by 2 everywhere → L2 = 4. μ = 1, log σ² = 0 over 16 latents → Σ = 16, N = 2·4³ = 128.
        var vae = new VaeOutput(full([2, 2, 4, 4, 4], 2f), ones(2, 16), zeros(2, 16));
        var loss = (VaeLoss)LossFactory.Create("vae");
        var segmentation = Scalar(new DiceLoss().forward(logits, labels));
        var expected = segmentation + 0.1 * 4 + 0.1 * (16.0 / 128);
        Assert.Equal(expected, Scalar(loss.Compute(new SegmentationOutput(logits, [], vae), labels, input)), 1e-5);
    }

    [Fact]
    public void VaeTerms_PerfectReconstructionAndStandardNormal_AreZero()
    {
        using var scope = NewDisposeScope();
        var input = randn([1, 1, 4, 4, 4]);
        var (reconstruction, kl) = VaeLoss.VaeTerms(new VaeOutput(input.clone(), zeros(1, 8), zeros(1, 8)), input);
        Assert.Equal(0, Scalar(reconstruction), 1e-9);
        Assert.Equal(0, Scalar(kl), 1e-9);
    }

    [Fact]
    public void Compute_GradientsReachLogitsReconstructionAndLatents()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 2, 4, seed: 81);
        var logits = RandomLogits(1, 2, 4, seed: 81);
        var reconstruction = randn([1, 1, 4, 4, 4]).requires_grad_(true);
        var mean = randn(1, 8).requires_grad_(true);
        var logVariance = randn(1, 8).requires_grad_(true);
        var loss = new VaeLoss(new DiceCELoss());
        loss.Compute(new SegmentationOutput(logits, [], new VaeOutput(reconstruction, mean, logVariance)), labels, zeros([1, 1, 4, 4, 4])).backward();
        foreach (var t in new[] { logits, reconstruction, mean, logVariance })
            Assert.True(Scalar(t.grad!.abs().sum()) > 0);
    }

    [Fact]
    public void Compute_OutputWithoutVae_ThrowsNamingTheModel()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 2, 4, seed: 82);
        var e = Assert.Throws<InvalidOperationException>(() => new VaeLoss(new DiceLoss()).Compute(SegmentationOutput.Of(RandomLogits(1, 2, 4, seed: 82)), labels, zeros([1, 1, 4, 4, 4])));
        Assert.Contains("RESNET3DVAE", e.Message);
    }

    [Fact]
    public void Forward_IsTheSegmentationTermAlone()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 4, seed: 83);
        var logits = RandomLogits(1, 3, 4, seed: 83);
        Assert.Equal(Scalar(new DiceLoss().forward(logits, labels)), Scalar(new VaeLoss(new DiceLoss()).forward(logits, labels)), 1e-6);
    }
}
