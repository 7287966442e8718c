using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Tversky loss (Salehi et al. 2017, "Tversky loss function for image segmentation using 3D fully
/// convolutional deep networks", MLMI, arXiv:1706.05721). Per sample and scored class (per class over
/// the batch with <see cref="LossOptions.Batch"/>):
/// <code>
/// TP = Σ p·t,  FP = Σ p·(1 − t),  FN = Σ (1 − p)·t
/// L = 1 − (TP + smoothNumerator) / (TP + α·FP + β·FN + smoothDenominator)
/// </code>
/// α = <see cref="LossOptions.TverskyAlpha"/> weighs false positives, β = <see cref="LossOptions.TverskyBeta"/>
/// false negatives (MONAI's convention); α = β = 0.5 is the plain Dice loss, β &gt; α favours recall.
/// Reduction, class weights and the empty-class rule as <see cref="DiceLoss"/>.
/// </summary>
public sealed class TverskyLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults) including <see cref="LossOptions.TverskyAlpha"/> and <see cref="LossOptions.TverskyBeta"/>.</param>
    public TverskyLoss(LossOptions? options = null) : base(nameof(TverskyLoss), options, LossActivation.Softmax)
    {
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot)
    {
        var o = Settings;
        var p = LossMath.ScoredChannels(LossMath.Activate(logits, Activation), o.IncludeBackground);
        var t = LossMath.ScoredChannels(oneHot, o.IncludeBackground);
        var hard = LossMath.ScoredChannels(LossMath.HardPrediction(logits, Activation), o.IncludeBackground);
        var dims = LossMath.SumDimensions(p, o.Batch);
        var truePositive = (p * t).sum(dims);
        // Σp(1−t) = Σp − Σpt and Σ(1−p)t = Σt − Σpt: no (B, C, D, H, W) temporaries for the complements.
        var falsePositive = p.sum(dims) - truePositive;
        var falseNegative = t.sum(dims) - truePositive;
        var denominator = truePositive + (o.TverskyAlpha * falsePositive) + (o.TverskyBeta * falseNegative) + o.SmoothDenominator;
        var terms = 1 - (truePositive + o.SmoothNumerator) / denominator.clamp_min(1e-12);
        var scored = LossMath.Scored(t, hard, dims, o.ExcludeEmptyClasses);
        var weights = LossMath.ScoredWeights(o.ClassWeights, logits, o.IncludeBackground);
        return LossMath.Reduce(terms, scored, weights, o.Reduction);
    }
}
