using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Binary cross-entropy + Dice over sigmoid channels, MedicalZooPytorch's <c>BCEDiceLoss</c>
/// (<c>lib/losses3D/BCE_dice.py</c>, α·BCE + β·Dice) with MedZoo's Dice:
/// <code>
/// L = λ_ce · mean(softplus(x) − x·t) + λ_dice · Dice(sigmoid(x), t)
/// </code>
/// over the scored channels (<see cref="LossOptions.IncludeBackground"/> applies to both terms, since
/// every sigmoid channel is an independent binary problem); λ_ce = <see cref="LossOptions.LambdaCrossEntropy"/>
/// (MedicalZoo's α), λ_dice = <see cref="LossOptions.LambdaDice"/> (β). Logits (B, C, D, H, W), target as any
/// loss. MedicalZoo applies BCE to every channel and returns the per-channel Dice too; the Dice term here
/// follows <see cref="DiceLoss"/> (empty-class rule, smoothing) rather than MedicalZoo's arithmetic.
/// </summary>
public sealed class BCEDiceLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults); the activation must be Sigmoid (the default here).</param>
    public BCEDiceLoss(LossOptions? options = null) : base(nameof(BCEDiceLoss), options, LossActivation.Sigmoid)
    {
        RequireActivation(nameof(BCEDiceLoss), LossActivation.Sigmoid);
        RequireScalarReduction(Settings, nameof(BCEDiceLoss));
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot)
    {
        var o = Settings;
        var bce = WeightedCrossEntropyLoss.BinaryCrossEntropy(logits, oneHot, o);
        var dice = DiceLoss.Terms(logits, oneHot, o, Activation, reduce: true);
        return (o.LambdaCrossEntropy * bce) + (o.LambdaDice * dice);
    }
}
