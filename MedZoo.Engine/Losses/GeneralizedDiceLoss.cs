using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Generalized Dice loss (Sudre et al. 2017, "Generalised Dice overlap as a deep learning loss function
/// for highly unbalanced segmentations", DLMIA, arXiv:1707.03237). One term per sample (per batch with
/// <see cref="LossOptions.Batch"/>), pooling the scored classes with weights that undo their size:
/// <code>
/// L_b = 1 − (2 Σ_c w_c Σ p·t + smoothNumerator) / (Σ_c w_c (Σ p + Σ t) + smoothDenominator)
/// w_c = 1/(Σ t)² (Square) | 1/Σ t (Simple) | 1 (Uniform), times the class weight when given
/// </code>
/// shapes as <see cref="DiceLoss"/>. A class with an empty target but a non-empty hard prediction gets the
/// largest finite weight of its sample (MONAI's rule; its 1/0 weight is infinite). A class empty in both
/// target and hard prediction gets weight 0 (the empty-class rule); a sample with no scored class is not
/// scored. Weights are constants (no gradient flows through them).
/// </summary>
public sealed class GeneralizedDiceLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults) including <see cref="LossOptions.GeneralizedDiceWeighting"/>.</param>
    public GeneralizedDiceLoss(LossOptions? options = null) : base(nameof(GeneralizedDiceLoss), options, LossActivation.Softmax)
    {
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot)
    {
        var o = Settings;
        var p = LossMath.ScoredChannels(LossMath.Activate(logits, Activation), o.IncludeBackground);
        var t = LossMath.ScoredChannels(oneHot, o.IncludeBackground);
        var hard = LossMath.ScoredChannels(LossMath.HardPrediction(logits, Activation), o.IncludeBackground);
        var dims = LossMath.SumDimensions(p, o.Batch);
        var intersection = (p * t).sum(dims);
        var denominator = p.sum(dims) + t.sum(dims);
        var scored = LossMath.Scored(t, hard, dims, o.ExcludeEmptyClasses);

        Tensor weights;
        using (no_grad())
        {
            var volume = t.sum(dims);
            var present = volume.gt(0);
            var safe = where(present, volume, ones_like(volume));
            var raw = o.GeneralizedDiceWeighting switch
            {
                GeneralizedDiceWeighting.Square => (safe * safe).reciprocal(),
                GeneralizedDiceWeighting.Simple => safe.reciprocal(),
                _ => ones_like(volume),
            };
            raw = where(present, raw, zeros_like(raw));
            var largest = raw.amax([-1L], keepdim: true).expand_as(raw);
            weights = where(present, raw, largest) * scored.to(raw.dtype);
            if (LossMath.ScoredWeights(o.ClassWeights, logits, o.IncludeBackground) is { } classWeights)
                weights = weights * classWeights;
        }

        var terms = 1 - ((2 * (weights * intersection).sum(-1)) + o.SmoothNumerator) / ((weights * denominator).sum(-1) + o.SmoothDenominator).clamp_min(1e-12);
        var sampleScored = scored.any(-1);
        return LossMath.Reduce(terms, sampleScored, null, o.Reduction);
    }
}
