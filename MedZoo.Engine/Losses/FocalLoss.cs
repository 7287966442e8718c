using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection", arXiv:1708.02002), which
/// down-weights voxels that are already well classified by (1 − p_t)^γ.
/// <code>
/// Softmax:  ℓ(voxel) = −Σ_c α_c w_c t_c (1 − p_c)^γ log p_c          over scored classes → mean over voxels
/// Sigmoid:  ℓ(c, voxel) = −w_c [α t (1 − p)^γ log p + (1 − α)(1 − t) p^γ log(1 − p)] → mean over elements
/// </code>
/// γ = <see cref="LossOptions.FocalGamma"/> (0 gives cross-entropy); α = <see cref="LossOptions.FocalAlpha"/>
/// (softmax: 1 − α for background, α for the other classes; none when null); w_c the class weights.
/// Logits (B, C, D, H, W); None reduction returns (B, D, H, W) for softmax and (B, C', D, H, W) for
/// sigmoid. The background channel follows <see cref="LossOptions.IncludeBackground"/> (as MONAI's
/// FocalLoss; the softmax still normalises over every class). Being voxel-wise, an absent class has no
/// term to fail.
/// </summary>
public sealed class FocalLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults) including <see cref="LossOptions.FocalGamma"/> and <see cref="LossOptions.FocalAlpha"/>; activation Softmax or Sigmoid.</param>
    public FocalLoss(LossOptions? options = null) : base(nameof(FocalLoss), options, LossActivation.Softmax)
    {
        RequireActivation(nameof(FocalLoss), LossActivation.Softmax, LossActivation.Sigmoid);
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot) =>
        Terms(logits, oneHot, Settings, Activation, Settings.Reduction);

    internal static Tensor Terms(Tensor logits, Tensor oneHot, LossOptions o, LossActivation activation, LossReduction reduction)
    {
        var gamma = o.FocalGamma;
        var classWeights = LossMath.ScoredWeights(o.ClassWeights, logits, o.IncludeBackground);
        if (activation == LossActivation.Sigmoid || logits.shape[1] == 1)
        {
            var x = LossMath.ScoredChannels(logits, o.IncludeBackground);
            var t = LossMath.ScoredChannels(oneHot, o.IncludeBackground);
            var p = x.sigmoid();
            // log σ(x) = −softplus(−x), log(1 − σ(x)) = −softplus(x): finite for any logit.
            var positive = t * Modulate(1 - p, gamma) * nn.functional.softplus(-x);
            var negative = (1 - t) * Modulate(p, gamma) * nn.functional.softplus(x);
            if (o.FocalAlpha is { } alpha)
            {
                positive = positive * alpha;
                negative = negative * (1 - alpha);
            }
            var perElement = positive + negative;
            if (classWeights is not null)
                perElement = perElement * WeightedCrossEntropyLoss.ChannelView(classWeights, logits.dim());
            return reduction switch
            {
                LossReduction.None => perElement,
                LossReduction.Sum => perElement.sum(),
                _ => perElement.mean(),
            };
        }

        var logProbabilities = logits.log_softmax(1);
        var probabilities = logProbabilities.exp();
        var perClass = -oneHot * Modulate(1 - probabilities, gamma) * logProbabilities;
        perClass = LossMath.ScoredChannels(perClass, o.IncludeBackground);
        var factors = classWeights;
        if (o.FocalAlpha is { } a)
        {
            var alphas = Enumerable.Repeat(a, (int)logits.shape[1]).ToArray();
            alphas[0] = 1 - a;
            var alphaTensor = LossMath.ScoredWeights(alphas, logits, o.IncludeBackground)!;
            factors = factors is null ? alphaTensor : factors * alphaTensor;
        }
        if (factors is not null)
            perClass = perClass * WeightedCrossEntropyLoss.ChannelView(factors, logits.dim());
        var perVoxel = perClass.sum(1);
        return reduction switch
        {
            LossReduction.None => perVoxel,
            LossReduction.Sum => perVoxel.sum(),
            _ => perVoxel.mean(),
        };
    }

    /// <summary>(1 − p_t)^γ, clamped away from 0 so γ &lt; 1 cannot produce an infinite derivative at p_t = 1.</summary>
    private static Tensor Modulate(Tensor oneMinus, double gamma) =>
        gamma == 0 ? ones_like(oneMinus) : oneMinus.clamp_min(1e-12).pow(gamma);
}
