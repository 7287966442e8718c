using MedZoo.Engine.Losses;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

/// <summary>DiceCELoss, DiceFocalLoss and BCEDiceLoss against their parts.</summary>
public class CombinedLossTests
{
    [Theory]
    [InlineData(1.0, 1.0, null)]
    [InlineData(0.3, 2.0, null)]
    [InlineData(1.0, 1.0, new[] { 0.5, 1.0, 2.0 })]
    public void DiceCE_Softmax_IsWeightedSumOfDiceAndTorchCrossEntropy(double lambdaDice, double lambdaCe, double[]? weights)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 60);
        var logits = RandomLogits(2, 3, 5, seed: 60);
        var options = new LossOptions { LambdaDice = lambdaDice, LambdaCrossEntropy = lambdaCe, ClassWeights = weights };
        var ce = nn.functional.cross_entropy(logits, labels, weight: weights is null ? null : tensor(weights.Select(w => (float)w).ToArray()));
        var expected = lambdaDice * Scalar(new DiceLoss(options).forward(logits, labels)) + lambdaCe * Scalar(ce);
        Assert.Equal(expected, Scalar(new DiceCELoss(options).forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void DiceCE_Sigmoid_UsesBinaryCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 61);
        var logits = RandomLogits(2, 3, 5, seed: 61);
        var options = new LossOptions { Activation = LossActivation.Sigmoid, IncludeBackground = true };
        var bce = nn.functional.binary_cross_entropy_with_logits(logits, OneHot(labels, 3));
        var expected = Scalar(new DiceLoss(options).forward(logits, labels)) + Scalar(bce);
        Assert.Equal(expected, Scalar(new DiceCELoss(options).forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void DiceFocal_IsWeightedSumOfParts()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 62);
        var logits = RandomLogits(2, 3, 5, seed: 62);
        var options = new LossOptions { LambdaDice = 0.7, LambdaFocal = 3 };
        var expected = 0.7 * Scalar(new DiceLoss(options).forward(logits, labels)) + 3 * Scalar(new FocalLoss(options).forward(logits, labels));
        Assert.Equal(expected, Scalar(new DiceFocalLoss(options).forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void BCEDice_DefaultsToSigmoidAndSumsTorchBceAndDice()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 63);
        var logits = RandomLogits(2, 3, 5, seed: 63);
        var options = new LossOptions { IncludeBackground = true, LambdaCrossEntropy = 2 };
        var loss = new BCEDiceLoss(options);
        Assert.Equal(LossActivation.Sigmoid, loss.Activation);
        var bce = nn.functional.binary_cross_entropy_with_logits(logits, OneHot(labels, 3));
        var dice = new DiceLoss(new LossOptions { IncludeBackground = true, Activation = LossActivation.Sigmoid });
        Assert.Equal(2 * Scalar(bce) + Scalar(dice.forward(logits, labels)), Scalar(loss.forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void Combined_ReductionNone_ThrowsNamingReduction()
    {
        var options = new LossOptions { Reduction = LossReduction.None };
        Assert.Contains("Reduction", Assert.Throws<ArgumentException>(() => new DiceCELoss(options)).Message);
        Assert.Contains("Reduction", Assert.Throws<ArgumentException>(() => new DiceFocalLoss(options)).Message);
        Assert.Contains("Reduction", Assert.Throws<ArgumentException>(() => new BCEDiceLoss(options)).Message);
    }

    [Fact]
    public void BCEDice_Softmax_ThrowsNamingActivation()
    {
        var e = Assert.Throws<ArgumentException>(() => new BCEDiceLoss(new LossOptions { Activation = LossActivation.Softmax }));
        Assert.Contains("Activation", e.Message);
    }
}
