using MedZoo.Engine;
using MedZoo.Engine.Losses;

namespace MedZoo.Tests.Engine.Losses;

public class LossOptionsTests
{
    public static TheoryData<string, Action<LossOptions>> BadOptions => new()
    {
        { "SmoothNumerator", o => o.SmoothNumerator = -1 },
        { "SmoothDenominator", o => o.SmoothDenominator = double.NaN },
        { "TverskyAlpha", o => o.TverskyAlpha = -0.1 },
        { "TverskyBeta", o => o.TverskyBeta = double.PositiveInfinity },
        { "TverskyAlpha", o => { o.TverskyAlpha = 0; o.TverskyBeta = 0; } },
        { "FocalGamma", o => o.FocalGamma = -2 },
        { "FocalAlpha", o => o.FocalAlpha = 1.5 },
        { "LambdaDice", o => o.LambdaDice = -1 },
        { "LambdaCrossEntropy", o => o.LambdaCrossEntropy = double.NaN },
        { "LambdaFocal", o => o.LambdaFocal = -3 },
        { "VaeReconstructionWeight", o => o.VaeReconstructionWeight = -0.1 },
        { "VaeKlWeight", o => o.VaeKlWeight = double.NegativeInfinity },
        { "VaeSegmentationLoss", o => o.VaeSegmentationLoss = " " },
        { "ClassWeights", o => o.ClassWeights = [] },
        { "ClassWeights", o => o.ClassWeights = [1, -1] },
        { "ClassWeights", o => o.ClassWeights = [0, 0] },
        { "Activation", o => o.Activation = (LossActivation)7 },
        { "Reduction", o => o.Reduction = (LossReduction)9 },
        { "Target", o => o.Target = (TargetFormat)5 },
        { "GeneralizedDiceWeighting", o => o.GeneralizedDiceWeighting = (GeneralizedDiceWeighting)4 },
        { "DeepSupervisionTarget", o => o.DeepSupervisionTarget = (DeepSupervisionTargetMode)3 },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_BadField_ThrowsNamingIt(string field, Action<LossOptions> spoil)
    {
        var options = new LossOptions();
        spoil(options);
        var e = Assert.Throws<InvalidOptionException>(options.Validate);
        Assert.Contains("LossOptions." + field, e.Message);
        Assert.Equal(field, e.ParamName);
        Assert.Throws<InvalidOptionException>(() => new DiceLoss(options));
    }

    [Fact]
    public void Validate_Defaults_Pass()
    {
        new LossOptions().Validate();
        new LossOptions { ClassWeights = [0, 1, 2], FocalAlpha = 0.25 }.Validate();
    }

    [Fact]
    public void Loss_OptionsChangedAfterConstruction_KeepsItsCopy()
    {
        var options = new LossOptions { ClassWeights = [1, 2] };
        using var loss = new DiceLoss(options);
        options.ClassWeights[1] = 5;
        options.SquaredDenominator = true;
        Assert.Equal(2, loss.Options.ClassWeights![1]);
        Assert.False(loss.Options.SquaredDenominator);
    }

    [Fact]
    public void Loss_ClassWeightsOfWrongLength_ThrowsNamingTheField()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var labels = LossTestData.Labels(1, 3, 4, seed: 90);
        var logits = LossTestData.RandomLogits(1, 3, 4, seed: 90);
        var e = Assert.Throws<ArgumentException>(() => new DiceLoss(new LossOptions { ClassWeights = [1, 1] }).forward(logits, labels));
        Assert.Contains("ClassWeights", e.Message);
    }
}
