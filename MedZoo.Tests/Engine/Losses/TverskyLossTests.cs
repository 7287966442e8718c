using MedZoo.Engine.Losses;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class TverskyLossTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_HalfAlphaHalfBeta_EqualsDice(bool batch)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 30);
        var logits = RandomLogits(2, 3, 5, seed: 30);
        var dice = Scalar(new DiceLoss(new LossOptions { Batch = batch }).forward(logits, labels));
        var tversky = Scalar(new TverskyLoss(new LossOptions { Batch = batch }).forward(logits, labels));
        Assert.Equal(dice, tversky, 1e-5);
    }

    [Fact]
    public void Forward_OnlyFalseNegativesCount_IgnoresFalsePositives()
    {
        using var scope = NewDisposeScope();
        var target = Labels([1, 1, 0, 0, 0, 0], 1, 1, 1, 6);
        var superset = OneHot(Labels([1, 1, 1, 1, 0, 0], 1, 1, 1, 6), 2);
        var recallOnly = new TverskyLoss(new LossOptions { Activation = LossActivation.None, TverskyAlpha = 0, TverskyBeta = 1 });
        var precisionOnly = new TverskyLoss(new LossOptions { Activation = LossActivation.None, TverskyAlpha = 1, TverskyBeta = 0 });
        Assert.InRange(Scalar(recallOnly.forward(superset, target)), 0, 1e-6);
        Assert.Equal(0.5, Scalar(precisionOnly.forward(superset, target)), 5); // precision 2/4
    }

    [Fact]
    public void Forward_ClassAbsentFromTargetAndPrediction_IsNotScored()
    {
        using var scope = NewDisposeScope();
        var target = Labels([1, 1, 0, 0], 1, 1, 1, 4);
        var prediction = OneHot(Labels([1, 0, 0, 0], 1, 1, 1, 4), 3);
        var terms = Array(new TverskyLoss(new LossOptions { Activation = LossActivation.None, Reduction = LossReduction.None }).forward(prediction, target));
        Assert.Equal(new[] { 1 - 1 / 1.5, 0 }, terms, new ToleranceComparer(1e-5));
    }
}
