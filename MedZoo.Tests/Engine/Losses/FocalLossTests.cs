using MedZoo.Engine.Losses;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class FocalLossTests
{
    [Fact]
    public void Forward_GammaZeroSoftmax_EqualsTorchCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 40);
        var logits = RandomLogits(2, 3, 5, seed: 40);
        var focal = new FocalLoss(new LossOptions { FocalGamma = 0, IncludeBackground = true });
        Assert.Equal(Scalar(nn.functional.cross_entropy(logits, labels)), Scalar(focal.forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void Forward_GammaZeroSigmoid_EqualsTorchBinaryCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 41);
        var logits = RandomLogits(2, 3, 5, seed: 41);
        var focal = new FocalLoss(new LossOptions { FocalGamma = 0, IncludeBackground = true, Activation = LossActivation.Sigmoid });
        var expected = nn.functional.binary_cross_entropy_with_logits(logits, OneHot(labels, 3));
        Assert.Equal(Scalar(expected), Scalar(focal.forward(logits, labels)), 1e-5);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(0.5)]
    public void Forward_OneVoxel_MatchesHandValue(double gamma)
    {
        using var scope = NewDisposeScope();
        // Softmax of (0, ln 3) = (0.25, 0.75); the target is class 1: FL = −(1 − 0.75)^γ ln 0.75.
        var logits = Values([0f, (float)Math.Log(3)], 1, 2, 1, 1, 1);
        var target = Labels([1], 1, 1, 1, 1);
        var focal = new FocalLoss(new LossOptions { FocalGamma = gamma, IncludeBackground = true });
        Assert.Equal(-Math.Pow(0.25, gamma) * Math.Log(0.75), Scalar(focal.forward(logits, target)), 1e-6);
    }

    [Fact]
    public void Forward_SigmoidAlpha_WeighsPositivesAndNegatives()
    {
        using var scope = NewDisposeScope();
        // One channel, two voxels: logit 0 (p = 0.5) with target 1 and with target 0.
        var logits = Values([0f, 0f], 1, 1, 1, 1, 2);
        var target = Labels([1, 0], 1, 1, 1, 2);
        var focal = new FocalLoss(new LossOptions { FocalGamma = 2, FocalAlpha = 0.25, Activation = LossActivation.Sigmoid });
        var expected = (0.25 * 0.25 * Math.Log(2) + 0.75 * 0.25 * Math.Log(2)) / 2;
        Assert.Equal(expected, Scalar(focal.forward(logits, target)), 1e-6);
    }

    [Fact]
    public void Forward_WellClassifiedVoxels_WeighLessThanInCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 5, seed: 42);
        var logits = ConfidentLogits(labels, 3, margin: 2);
        var ce = Scalar(new FocalLoss(new LossOptions { FocalGamma = 0 }).forward(logits, labels));
        var focal = Scalar(new FocalLoss().forward(logits, labels));
        Assert.True(focal < ce / 5, $"focal {focal} vs CE {ce}");
    }

    [Fact]
    public void Constructor_NoActivation_ThrowsNamingActivation()
    {
        var e = Assert.Throws<ArgumentException>(() => new FocalLoss(new LossOptions { Activation = LossActivation.None }));
        Assert.Contains("Activation", e.Message);
    }
}
