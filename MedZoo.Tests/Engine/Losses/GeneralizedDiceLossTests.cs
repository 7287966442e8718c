using MedZoo.Engine.Losses;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class GeneralizedDiceLossTests
{
    // Ten voxels along W: 0-3 class 1 (predicted perfectly), 4-5 class 2 (probability 0.5), 6-9 background.
    // Square weights w1 = 1/16, w2 = 1/4: 1 − 2(4/16 + 1/4) / (8/16 + 3/4) = 0.2.
    private static readonly float[] Probabilities =
    [
        0, 0, 0, 0, 0.5f, 0.5f, 1, 1, 1, 1, // background
        1, 1, 1, 1, 0, 0, 0, 0, 0, 0,       // class 1
        0, 0, 0, 0, 0.5f, 0.5f, 0, 0, 0, 0, // class 2
    ];

    private static readonly long[] HandLabels = [1, 1, 1, 1, 2, 2, 0, 0, 0, 0];

    [Fact]
    public void Forward_HandCase_MatchesSudreFormula()
    {
        using var scope = NewDisposeScope();
        var loss = new GeneralizedDiceLoss(new LossOptions { Activation = LossActivation.None, SmoothNumerator = 0, SmoothDenominator = 0 });
        Assert.Equal(0.2, Scalar(loss.forward(Values(Probabilities, 1, 3, 1, 1, 10), Labels(HandLabels, 1, 1, 1, 10))), 1e-6);
    }

    [Fact]
    public void Forward_ExtraClassEmptyEverywhere_LeavesValueUnchanged()
    {
        using var scope = NewDisposeScope();
        var withEmpty = Probabilities.Concat(new float[10]).ToArray();
        var loss = new GeneralizedDiceLoss(new LossOptions { Activation = LossActivation.None, SmoothNumerator = 0, SmoothDenominator = 0 });
        Assert.Equal(0.2, Scalar(loss.forward(Values(withEmpty, 1, 4, 1, 1, 10), Labels(HandLabels, 1, 1, 1, 10))), 1e-6);
    }

    [Theory]
    [InlineData(GeneralizedDiceWeighting.Square)]
    [InlineData(GeneralizedDiceWeighting.Simple)]
    [InlineData(GeneralizedDiceWeighting.Uniform)]
    public void Forward_PerfectPrediction_IsNearZero(GeneralizedDiceWeighting weighting)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 4, 5, seed: 20);
        var loss = new GeneralizedDiceLoss(new LossOptions { GeneralizedDiceWeighting = weighting });
        Assert.InRange(Scalar(loss.forward(ConfidentLogits(labels, 4), labels)), 0, 1e-4);
    }

    [Fact]
    public void Forward_UniformWeightsOneClass_EqualsDice()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 2, 5, seed: 21);
        var logits = RandomLogits(2, 2, 5, seed: 21);
        var gdl = new GeneralizedDiceLoss(new LossOptions { GeneralizedDiceWeighting = GeneralizedDiceWeighting.Uniform });
        Assert.Equal(Scalar(new DiceLoss().forward(logits, labels)), Scalar(gdl.forward(logits, labels)), 1e-6);
    }
}
