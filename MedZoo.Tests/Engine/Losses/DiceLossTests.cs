using MedZoo.Engine.Losses;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class DiceLossTests
{
    [Theory]
    [InlineData(false, false, false, false)]
    [InlineData(true, false, false, false)]
    [InlineData(false, true, false, false)]
    [InlineData(false, false, true, false)]
    [InlineData(false, false, false, true)]
    [InlineData(true, true, true, true)]
    public void Forward_PerfectPrediction_IsNearZero(bool squared, bool batch, bool oneHotTarget, bool includeBackground)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 6, seed: 1);
        var loss = new DiceLoss(new LossOptions { SquaredDenominator = squared, Batch = batch, IncludeBackground = includeBackground });
        var target = oneHotTarget ? OneHot(labels, 3) : labels;
        Assert.InRange(Scalar(loss.forward(ConfidentLogits(labels, 3), target)), 0, 1e-4);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Forward_AllWrong_IsNearOne(bool squared, bool includeBackground)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 6, seed: 2);
        var wrong = (labels + 1).remainder(3);
        var loss = new DiceLoss(new LossOptions { SquaredDenominator = squared, IncludeBackground = includeBackground });
        Assert.InRange(Scalar(loss.forward(ConfidentLogits(wrong, 3), labels)), 1 - 1e-4, 1 + 1e-6);
    }

    [Fact]
    public void Forward_ClassAbsentFromTargetAndPrediction_IsNotScored()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 2, 4, seed: 3); // classes 0 and 1 only; class 2 absent
        var logits = AbsentClassLogits(labels, predictClass2At: -1);
        var none = new DiceLoss(new LossOptions { Reduction = LossReduction.None });
        var terms = Array(none.forward(logits, labels)); // (1, 2): classes 1 and 2
        Assert.Equal(2, terms.Length);
        Assert.InRange(terms[0], 0.01, 0.99);
        Assert.Equal(0, terms[1]);

        var mean = Scalar(new DiceLoss().forward(logits, labels));
        Assert.Equal(terms[0], mean, 1e-6);

        // Without the rule the absent class counts as a failure (term ≈ 1) though no voxel is predicted as it.
        var scoredAnyway = Scalar(new DiceLoss(new LossOptions { ExcludeEmptyClasses = false }).forward(logits, labels));
        Assert.Equal((terms[0] + 1) / 2, scoredAnyway, 1e-4);
    }

    [Fact]
    public void Forward_ClassAbsentFromTargetButPredicted_IsScoredAsFailure()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 2, 4, seed: 3);
        var logits = AbsentClassLogits(labels, predictClass2At: 5);
        var terms = Array(new DiceLoss(new LossOptions { Reduction = LossReduction.None }).forward(logits, labels));
        Assert.InRange(terms[1], 0.999, 1.0);
        Assert.Equal((terms[0] + terms[1]) / 2, Scalar(new DiceLoss().forward(logits, labels)), 1e-6);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Forward_OneHotInputs_IsSymmetric(bool squared, bool includeBackground)
    {
        using var scope = NewDisposeScope();
        var a = OneHot(Labels(2, 4, 5, seed: 4), 4);
        var b = OneHot(Labels(2, 4, 5, seed: 5), 4);
        var loss = new DiceLoss(new LossOptions { Activation = LossActivation.None, SquaredDenominator = squared, IncludeBackground = includeBackground });
        var ab = Scalar(loss.forward(a, b));
        var ba = Scalar(loss.forward(b, a));
        Assert.InRange(ab, 0.1, 0.99);
        Assert.Equal(ab, ba, 1e-6);
    }

    [Fact]
    public void Forward_IncludeBackground_AddsBackgroundColumnAndAveragesIt()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 6);
        var logits = RandomLogits(2, 3, 5, seed: 6);
        var with = Array(new DiceLoss(new LossOptions { IncludeBackground = true, Reduction = LossReduction.None }).forward(logits, labels));
        var without = Array(new DiceLoss(new LossOptions { Reduction = LossReduction.None }).forward(logits, labels));
        Assert.Equal(6, with.Length);
        Assert.Equal(4, without.Length);
        for (var b = 0; b < 2; b++)
            for (var c = 1; c < 3; c++)
                Assert.Equal(with[b * 3 + c], without[b * 2 + c - 1], 1e-6);
        Assert.Equal(with.Average(), Scalar(new DiceLoss(new LossOptions { IncludeBackground = true }).forward(logits, labels)), 1e-5);
        Assert.Equal(without.Average(), Scalar(new DiceLoss().forward(logits, labels)), 1e-5);
    }

    [Theory]
    [InlineData(new[] { 1.0, 1.0, 1.0, 1.0 })]
    [InlineData(new[] { 5.0, 0.0, 1.0, 3.0 })]
    [InlineData(new[] { 0.0, 0.0, 2.0, 0.0 })]
    public void Forward_ClassWeights_GiveWeightedMeanOfTerms(double[] weights)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 4, 5, seed: 7);
        var logits = RandomLogits(2, 4, 5, seed: 7);
        var terms = Array(new DiceLoss(new LossOptions { Reduction = LossReduction.None }).forward(logits, labels)); // (2, 3)
        double weightedSum = 0, weightTotal = 0;
        for (var i = 0; i < terms.Length; i++)
        {
            var w = weights[1 + i % 3]; // background weight is ignored when it is excluded
            weightedSum += w * terms[i];
            weightTotal += w;
        }
        var loss = new DiceLoss(new LossOptions { ClassWeights = weights });
        Assert.Equal(weightedSum / weightTotal, Scalar(loss.forward(logits, labels)), 1e-5);
        var sum = new DiceLoss(new LossOptions { ClassWeights = weights, Reduction = LossReduction.Sum });
        Assert.Equal(weightedSum, Scalar(sum.forward(logits, labels)), 1e-4);
    }

    [Theory]
    [InlineData(false, 1.0 / 3)] // 1 − 2·0.5n / (0.5n + n)
    [InlineData(true, 0.2)]      // 1 − 2·0.5n / (0.25n + n)
    public void Forward_SquaredOrPlainDenominator_MatchesHandValue(bool squared, double expected)
    {
        using var scope = NewDisposeScope();
        // Probability 0.5 for class 1 everywhere; the target is class 1 everywhere.
        var probabilities = full([1, 2, 2, 2, 2], 0.5f);
        var labels = ones([1, 2, 2, 2], ScalarType.Int64);
        var loss = new DiceLoss(new LossOptions { Activation = LossActivation.None, SquaredDenominator = squared, SmoothNumerator = 0, SmoothDenominator = 0 });
        Assert.Equal(expected, Scalar(loss.forward(probabilities, labels)), 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_SigmoidOnOneChannel_EqualsSoftmaxOnTwoChannels(bool squared)
    {
        using var scope = NewDisposeScope();
        var x = RandomLogits(2, 1, 5, seed: 8);
        var labels = Labels(2, 2, 5, seed: 8);
        var twoChannels = cat([zeros_like(x), x], 1);
        var softmax = new DiceLoss(new LossOptions { Activation = LossActivation.Softmax, SquaredDenominator = squared });
        var sigmoid = new DiceLoss(new LossOptions { Activation = LossActivation.Sigmoid, SquaredDenominator = squared });
        Assert.Equal(Scalar(softmax.forward(twoChannels, labels)), Scalar(sigmoid.forward(x, labels)), 1e-5);
    }

    [Fact]
    public void Forward_Batch_PoolsSamplesBeforeTheRatio()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 4, seed: 9);
        var logits = RandomLogits(2, 3, 4, seed: 9);
        // Batch Dice of (B=2) equals per-sample Dice of the two samples laid side by side along W.
        var sideBySide = cat([logits.narrow(0, 0, 1), logits.narrow(0, 1, 1)], 4);
        var sideLabels = cat([labels.narrow(0, 0, 1), labels.narrow(0, 1, 1)], 3);
        var batch = new DiceLoss(new LossOptions { Batch = true, Reduction = LossReduction.None }).forward(logits, labels);
        var single = new DiceLoss(new LossOptions { Reduction = LossReduction.None }).forward(sideBySide, sideLabels);
        Assert.Equal(new long[] { 2 }, batch.shape);
        Assert.Equal(Array(single), Array(batch), new ToleranceComparer(1e-6));
    }

    [Theory]
    [InlineData(LossActivation.Softmax, true, null)]
    [InlineData(LossActivation.Sigmoid, true, null)]
    [InlineData(LossActivation.Softmax, false, null)]
    [InlineData(LossActivation.Softmax, true, new[] { 1.0, 2.0, 0.5 })]
    public void Forward_MedicalZooDice_MatchesMedicalZooArithmetic(LossActivation activation, bool includeBackground, double[]? weights)
    {
        using var scope = NewDisposeScope();
        const int batch = 2, classes = 3, size = 4;
        var labels = Labels(batch, classes, size, seed: 10);
        var logits = RandomLogits(batch, classes, size, seed: 10);
        var loss = new DiceLoss(new LossOptions { MedicalZooDice = true, Activation = activation, IncludeBackground = includeBackground, ClassWeights = weights });
        var expected = MedicalZooReference(Array(logits), Array(labels), batch, classes, size * size * size, activation, includeBackground, weights);
        Assert.Equal(expected, Scalar(loss.forward(logits, labels)), 1e-5);
    }

    [Fact]
    public void Forward_MedicalZooDice_ScoresAbsentClassAsZero()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 2, 4, seed: 3);
        var logits = AbsentClassLogits(labels, predictClass2At: -1);
        var medicalZoo = Scalar(new DiceLoss(new LossOptions { MedicalZooDice = true, IncludeBackground = true }).forward(logits, labels));
        var ours = Scalar(new DiceLoss(new LossOptions { IncludeBackground = true }).forward(logits, labels));
        // Class 2 is absent from target and prediction, so its MedicalZoo Dice is exactly 0 and the loss
        // 1 − (d0 + d1 + 0)/3 cannot fall below 1/3 however good classes 0 and 1 are.
        Assert.InRange(medicalZoo, 1.0 / 3 - 1e-6, 1);
        Assert.InRange(ours, 0, 0.3);
    }

    [Fact]
    public void PerClassSoftDice_PerfectWithAbsentClass_IsOneAndNaN()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 2, 4, seed: 11);
        var dice = DiceLoss.PerClassSoftDice(ConfidentLogits(labels, 3), labels);
        Assert.Equal(3, dice.Length);
        Assert.InRange(dice[0], 0.9999, 1.0);
        Assert.InRange(dice[1], 0.9999, 1.0);
        Assert.True(double.IsNaN(dice[2]));
    }

    [Fact]
    public void PerClassSoftDice_Repeated_LeavesNoTensorBehind()
    {
        using var labels = Labels(2, 3, 4, seed: 14);
        using var logits = RandomLogits(2, 3, 4, seed: 14);
        DiceLoss.PerClassSoftDice(logits, labels);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
            DiceLoss.PerClassSoftDice(logits, labels);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Forward_TargetLayouts_GiveTheSameLoss()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 4, seed: 12);
        var logits = RandomLogits(2, 3, 4, seed: 12);
        var loss = new DiceLoss();
        var fromIndices = Scalar(loss.forward(logits, labels));
        Assert.Equal(fromIndices, Scalar(loss.forward(logits, labels.unsqueeze(1))), 1e-6);
        Assert.Equal(fromIndices, Scalar(loss.forward(logits, OneHot(labels, 3))), 1e-6);
        Assert.Equal(fromIndices, Scalar(loss.forward(logits, labels.to(ScalarType.Float32))), 1e-6);
    }

    [Theory]
    [InlineData("out of range", "class 3")]
    [InlineData("negative", "class -1")]
    [InlineData("fractional", "non-integer")]
    [InlineData("wrong size", "spatial size")]
    [InlineData("one-hot declared", "no class channel")]
    public void Forward_BadTarget_ThrowsSayingWhy(string problem, string message)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 4, seed: 13);
        var logits = RandomLogits(1, 3, 4, seed: 13);
        var options = new LossOptions();
        Tensor target = problem switch
        {
            "out of range" => WithFirstLabel(labels, 3),
            "negative" => WithFirstLabel(labels, -1),
            "fractional" => labels.to(ScalarType.Float32) + 0.5f,
            "wrong size" => Labels(1, 3, 5, seed: 13),
            _ => labels,
        };
        if (problem == "one-hot declared") options.Target = TargetFormat.OneHot;
        var e = Assert.Throws<ArgumentException>(() => new DiceLoss(options).forward(logits, target));
        Assert.Contains(message, e.Message);
    }

    private static Tensor WithFirstLabel(Tensor labels, long value)
    {
        var copy = labels.clone();
        copy[0, 0, 0, 0] = tensor(value);
        return copy;
    }

    /// <summary>Logits favouring the true class (2 vs 0) with class 2 at 1, so class 2 has probability ≈ 0.24 but is never the argmax — except at one voxel when asked.</summary>
    private static Tensor AbsentClassLogits(Tensor labels, int predictClass2At)
    {
        var logits = OneHot(labels, 3) * 2;
        logits[TensorIndex.Colon, TensorIndex.Single(2)] = ones_like(labels, ScalarType.Float32);
        if (predictClass2At >= 0)
        {
            var flat = logits.view(1, 3, -1);
            flat[0, 2, predictClass2At] = tensor(10f);
        }
        return logits;
    }

    /// <summary>MedicalZooPytorch's Dice (compute_per_channel_dice + _AbstractDiceLoss) written out with loops.</summary>
    private static double MedicalZooReference(double[] logits, double[] labels, int batch, int classes, int voxels, LossActivation activation, bool includeBackground, double[]? weights)
    {
        var dice = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            double intersection = 0, squares = 0;
            for (var b = 0; b < batch; b++)
                for (var n = 0; n < voxels; n++)
                {
                    double p;
                    if (activation == LossActivation.Sigmoid)
                    {
                        p = 1 / (1 + Math.Exp(-logits[(b * classes + c) * voxels + n]));
                    }
                    else
                    {
                        double sum = 0;
                        for (var k = 0; k < classes; k++) sum += Math.Exp(logits[(b * classes + k) * voxels + n]);
                        p = Math.Exp(logits[(b * classes + c) * voxels + n]) / sum;
                    }
                    var t = labels[b * voxels + n] == c ? 1.0 : 0.0;
                    intersection += p * t;
                    squares += p * p + t * t;
                }
            dice[c] = 2 * (weights?[c] ?? 1) * intersection / Math.Max(squares, 1e-6);
        }
        return 1 - dice.Skip(includeBackground ? 0 : 1).Average();
    }
}

/// <summary>Element-wise equality within an absolute tolerance, for Assert.Equal on arrays.</summary>
internal sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance || (double.IsNaN(x) && double.IsNaN(y));

    public int GetHashCode(double obj) => 0;
}
