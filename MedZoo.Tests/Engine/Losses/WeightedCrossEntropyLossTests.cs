using MedZoo.Engine.Losses;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class WeightedCrossEntropyLossTests
{
    [Theory]
    [InlineData(new[] { 1.0, 1.0, 1.0 })]
    [InlineData(new[] { 0.2, 3.0, 1.5 })]
    public void Forward_ExplicitWeights_EqualTorchWeightedCrossEntropy(double[] weights)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 50);
        var logits = RandomLogits(2, 3, 5, seed: 50);
        var expected = nn.functional.cross_entropy(logits, labels, weight: tensor(weights.Select(w => (float)w).ToArray()));
        var loss = new WeightedCrossEntropyLoss(new LossOptions { ClassWeights = weights });
        Assert.Equal(Scalar(expected), Scalar(loss.forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void Forward_NoWeights_AveragesEachPresentClassEqually()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 4, 5, seed: 51);
        labels = labels.where(labels.ne(3), tensor(0L)); // class 3 absent: it must not dilute the mean
        var logits = RandomLogits(2, 4, 5, seed: 51);
        var perVoxel = Array(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None));
        var flatLabels = Array(labels);
        var expected = Enumerable.Range(0, 3)
            .Select(c => Enumerable.Range(0, perVoxel.Length).Where(i => flatLabels[i] == c).Average(i => perVoxel[i]))
            .Average();
        Assert.Equal(expected, Scalar(new WeightedCrossEntropyLoss().forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void Constructor_Sigmoid_ThrowsNamingActivation()
    {
        var e = Assert.Throws<ArgumentException>(() => new WeightedCrossEntropyLoss(new LossOptions { Activation = LossActivation.Sigmoid }));
        Assert.Contains("Activation", e.Message);
    }
}
