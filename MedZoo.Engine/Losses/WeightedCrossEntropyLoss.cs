using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Weighted cross-entropy over softmax probabilities (the class-weighted loss compared in Sudre et al. 2017,
/// arXiv:1707.03237):
/// <code>
/// L = Σ_voxels Σ_c w_c t_c (−log softmax(x)_c) / Σ_voxels Σ_c w_c t_c
/// </code>
/// which for a one-hot target is torch's <c>cross_entropy(weight=w)</c> with mean reduction; Sum drops the
/// denominator; None returns the per-voxel map (B, D, H, W). Weights are
/// <see cref="LossOptions.ClassWeights"/> when given, otherwise the inverse voxel frequency of each class in
/// the batch's target (w_c = 1 / Σ t_c, 0 for absent classes), so every present class contributes equally
/// (class-balanced). MedicalZooPytorch's version (from pytorch-3dunet) instead derives weights from the
/// prediction, w_c = Σ(1 − p_c) / Σ p_c; we weight by the target, which does not move as the model learns.
/// Cross-entropy is a distribution over every class, so the background is always included, and absent
/// classes cannot fail (only voxels of target classes carry a term).
/// </summary>
public sealed class WeightedCrossEntropyLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults); the activation must be Softmax (the default).</param>
    public WeightedCrossEntropyLoss(LossOptions? options = null) : base(nameof(WeightedCrossEntropyLoss), options, LossActivation.Softmax)
    {
        RequireActivation(nameof(WeightedCrossEntropyLoss), LossActivation.Softmax);
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot)
    {
        Tensor weights;
        if (Settings.ClassWeights is not null)
        {
            weights = LossMath.ScoredWeights(Settings.ClassWeights, logits, includeBackground: true)!;
        }
        else
        {
            using var noGrad = no_grad();
            var dims = LossMath.SumDimensions(oneHot, batch: true);
            var counts = oneHot.sum(dims);
            weights = where(counts.gt(0), counts.clamp_min(1e-12).reciprocal(), zeros_like(counts));
        }
        return CrossEntropy(logits, oneHot, weights, Settings.Reduction);
    }

    /// <summary>Softmax cross-entropy of logits (B, C, …) against a one-hot target, with optional class weights (C).</summary>
    internal static Tensor CrossEntropy(Tensor logits, Tensor oneHot, Tensor? classWeights, LossReduction reduction)
    {
        if (logits.shape[1] < 2)
            throw new ArgumentException($"softmax cross-entropy needs at least 2 classes, logits have {logits.shape[1]}; use Activation=Sigmoid for a single channel", nameof(logits));
        var logProbabilities = logits.log_softmax(1);
        var weighted = classWeights is null ? oneHot : oneHot * ChannelView(classWeights, logits.dim());
        var perVoxel = -(weighted * logProbabilities).sum(1);
        return reduction switch
        {
            LossReduction.None => perVoxel,
            LossReduction.Sum => perVoxel.sum(),
            _ => perVoxel.sum() / weighted.sum().clamp_min(1e-12),
        };
    }

    /// <summary>
    /// Binary cross-entropy with logits per scored channel: softplus(x) − x·t (stable for large |x|),
    /// times the class weight; Mean averages over every element, None returns (B, C', …).
    /// </summary>
    internal static Tensor BinaryCrossEntropy(Tensor logits, Tensor oneHot, LossOptions o)
    {
        var x = LossMath.ScoredChannels(logits, o.IncludeBackground);
        var t = LossMath.ScoredChannels(oneHot, o.IncludeBackground);
        var perElement = nn.functional.softplus(x) - (x * t);
        if (LossMath.ScoredWeights(o.ClassWeights, logits, o.IncludeBackground) is { } w)
            perElement = perElement * ChannelView(w, logits.dim());
        return o.Reduction switch
        {
            LossReduction.None => perElement,
            LossReduction.Sum => perElement.sum(),
            _ => perElement.mean(),
        };
    }

    /// <summary>A (C) vector reshaped to broadcast over (B, C, …).</summary>
    internal static Tensor ChannelView(Tensor perChannel, long dims)
    {
        var shape = Enumerable.Repeat(1L, (int)dims).ToArray();
        shape[1] = perChannel.shape[0];
        return perChannel.view(shape);
    }
}
