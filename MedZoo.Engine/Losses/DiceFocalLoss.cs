using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Dice + focal (MONAI's DiceFocalLoss; Zhu et al. 2019, AnatomyNet, arXiv:1808.05238):
/// <code>
/// L = λ_dice · Dice(logits, target) + λ_focal · Focal(logits, target)
/// </code>
/// with <see cref="DiceLoss"/> and <see cref="FocalLoss"/> sharing the options; λ from
/// <see cref="LossOptions.LambdaDice"/> and <see cref="LossOptions.LambdaFocal"/>. Reduction Mean or Sum.
/// </summary>
public sealed class DiceFocalLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults); activation Softmax or Sigmoid.</param>
    public DiceFocalLoss(LossOptions? options = null) : base(nameof(DiceFocalLoss), options, LossActivation.Softmax)
    {
        RequireActivation(nameof(DiceFocalLoss), LossActivation.Softmax, LossActivation.Sigmoid);
        RequireScalarReduction(Settings, nameof(DiceFocalLoss));
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot)
    {
        var o = Settings;
        var dice = DiceLoss.Terms(logits, oneHot, o, Activation, reduce: true);
        var focal = FocalLoss.Terms(logits, oneHot, o, Activation, o.Reduction);
        return (o.LambdaDice * dice) + (o.LambdaFocal * focal);
    }
}
