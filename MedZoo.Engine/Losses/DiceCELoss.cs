using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Dice + cross-entropy (MONAI's DiceCELoss; the nnU-Net default loss, Isensee et al. 2021):
/// <code>
/// L = λ_dice · Dice(logits, target) + λ_ce · CE(logits, target)
/// </code>
/// Dice as <see cref="DiceLoss"/> (with its empty-class rule); CE is softmax cross-entropy over every class
/// with <see cref="LossOptions.ClassWeights"/> (uniform when null), or, with Sigmoid activation, binary
/// cross-entropy per scored channel (see <see cref="WeightedCrossEntropyLoss"/>). λ from
/// <see cref="LossOptions.LambdaDice"/> and <see cref="LossOptions.LambdaCrossEntropy"/>. Reduction Mean or Sum.
/// </summary>
public sealed class DiceCELoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults); activation Softmax or Sigmoid.</param>
    public DiceCELoss(LossOptions? options = null) : base(nameof(DiceCELoss), options, LossActivation.Softmax)
    {
        RequireActivation(nameof(DiceCELoss), LossActivation.Softmax, LossActivation.Sigmoid);
        RequireScalarReduction(Settings, nameof(DiceCELoss));
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot)
    {
        var o = Settings;
        var dice = DiceLoss.Terms(logits, oneHot, o, Activation, reduce: true);
        var crossEntropy = Activation == LossActivation.Sigmoid || logits.shape[1] == 1
            ? WeightedCrossEntropyLoss.BinaryCrossEntropy(logits, oneHot, o)
            : WeightedCrossEntropyLoss.CrossEntropy(logits, oneHot, LossMath.ScoredWeights(o.ClassWeights, logits, includeBackground: true), o.Reduction);
        return (o.LambdaDice * dice) + (o.LambdaCrossEntropy * crossEntropy);
    }
}
