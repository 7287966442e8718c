using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Pieces every loss shares: target conversion, activations, the background slice, the hard prediction
/// used by the empty-class rule, and reduction of per-term tensors. All results are new tensors in the
/// caller's dispose scope; inputs are never disposed.
/// </summary>
internal static class LossMath
{
    /// <summary>Throws unless logits are floating point of shape (B, C, spatial…) with at least one spatial dimension.</summary>
    public static void CheckLogits(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() < 3)
            throw new ArgumentException($"logits must have shape (B, C, D, H, W) (at least one spatial dimension), got {Shape(logits)}", nameof(logits));
        if (!logits.is_floating_point())
            throw new ArgumentException($"logits must be floating point, got {logits.dtype}", nameof(logits));
    }

    /// <summary>
    /// The target as a one-hot (or soft, multi-label) tensor shaped like <paramref name="logits"/>, in
    /// the logits' dtype and device.
    /// </summary>
    public static Tensor ToOneHot(Tensor logits, Tensor target, TargetFormat format)
    {
        ArgumentNullException.ThrowIfNull(target);
        var channels = logits.shape[1];
        bool oneHot;
        if (target.dim() == logits.dim() - 1)
        {
            if (format == TargetFormat.OneHot)
                throw new ArgumentException($"target {Shape(target)} has no class channel but LossOptions.Target is OneHot; expected {Shape(logits)}", nameof(target));
            oneHot = false;
        }
        else if (target.dim() == logits.dim())
        {
            var targetChannels = target.shape[1];
            oneHot = format switch
            {
                TargetFormat.OneHot when targetChannels == channels => true,
                TargetFormat.ClassIndices when targetChannels == 1 => false,
                TargetFormat.Auto when targetChannels == channels => true,
                TargetFormat.Auto when targetChannels == 1 => false,
                _ => throw new ArgumentException(
                    $"target {Shape(target)} does not match logits {Shape(logits)} with LossOptions.Target={format}: " +
                    $"expected one-hot (B, {channels}, …) or class indices (B, …) / (B, 1, …)", nameof(target)),
            };
        }
        else
        {
            throw new ArgumentException($"target {Shape(target)} must be class indices (B, D, H, W) or one-hot {Shape(logits)}", nameof(target));
        }

        var spatialOffset = oneHot || target.dim() == logits.dim() ? 2 : 1;
        var sameSize = target.shape[0] == logits.shape[0] && target.dim() - spatialOffset == logits.dim() - 2;
        for (var d = 2; sameSize && d < logits.dim(); d++)
            sameSize = target.shape[d - 2 + spatialOffset] == logits.shape[d];
        if (!sameSize)
            throw new ArgumentException($"target {Shape(target)} must have the batch and spatial size of logits {Shape(logits)}", nameof(target));

        if (oneHot)
            return target.to(logits.dtype, logits.device);

        var indices = target.dim() == logits.dim() ? target.squeeze(1) : target.alias();
        if (indices.is_floating_point())
        {
            using var rounded = indices.round();
            if (indices.ne(rounded).any().item<bool>())
                throw new ArgumentException("class-index target holds non-integer values", nameof(target));
        }
        else if (indices.dtype == ScalarType.Bool)
        {
            indices = indices.to(ScalarType.Int64);
        }
        indices = indices.to(ScalarType.Int64, logits.device);
        var min = indices.min().item<long>();
        var max = indices.max().item<long>();
        // A single logit channel is a binary foreground map: labels 0/1 (background/foreground).
        var limit = channels == 1 ? 2 : channels;
        if (min < 0 || max >= limit)
            throw new ArgumentException($"target holds class {(min < 0 ? min : max)} but logits have {channels} channel(s) (valid labels 0..{limit - 1})", nameof(target));
        if (channels == 1)
            return indices.eq(1).unsqueeze(1).to(logits.dtype);
        var hot = nn.functional.one_hot(indices, channels);
        return hot.permute(ChannelFirst(hot.dim())).to(logits.dtype);
    }

    /// <summary>Probabilities from logits.</summary>
    public static Tensor Activate(Tensor logits, LossActivation activation) => activation switch
    {
        LossActivation.Softmax => logits.shape[1] == 1 ? logits.sigmoid() : logits.softmax(1),
        LossActivation.Sigmoid => logits.sigmoid(),
        _ => logits.alias(),
    };

    /// <summary>
    /// The hard (thresholded) prediction as a one-hot float tensor shaped like the logits, without
    /// gradient: argmax over classes for softmax or probabilities, logit &gt; 0 for sigmoid; a single
    /// channel is thresholded at probability 0.5.
    /// </summary>
    public static Tensor HardPrediction(Tensor logits, LossActivation activation)
    {
        using var noGrad = no_grad();
        if (logits.shape[1] == 1 || activation == LossActivation.Sigmoid)
            return activation == LossActivation.None ? logits.gt(0.5).to(logits.dtype) : logits.gt(0).to(logits.dtype);
        var hot = nn.functional.one_hot(logits.argmax(1), logits.shape[1]);
        return hot.permute(ChannelFirst(hot.dim())).to(logits.dtype);
    }

    /// <summary>Drops channel 0 when the background is excluded and there is more than one channel.</summary>
    public static Tensor ScoredChannels(Tensor x, bool includeBackground) =>
        includeBackground || x.shape[1] == 1 ? x.alias() : x.narrow(1, 1, x.shape[1] - 1);

    /// <summary>Class weights for the scored channels as a 1-D tensor, or null when uniform.</summary>
    public static Tensor? ScoredWeights(double[]? weights, Tensor logits, bool includeBackground)
    {
        if (weights is null) return null;
        var channels = logits.shape[1];
        if (weights.Length != channels)
            throw new ArgumentException($"LossOptions.ClassWeights has {weights.Length} weight(s) but logits have {channels} channel(s)", nameof(weights));
        var w = tensor(weights, dtype: logits.dtype, device: logits.device);
        return includeBackground || channels == 1 ? w : w.narrow(0, 1, channels - 1);
    }

    /// <summary>Dimensions summed for one Dice-family term: spatial, plus batch when batch-pooled.</summary>
    public static long[] SumDimensions(Tensor x, bool batch)
    {
        var dims = new List<long>();
        if (batch) dims.Add(0);
        for (long d = 2; d < x.dim(); d++) dims.Add(d);
        return [.. dims];
    }

    /// <summary>
    /// Which terms are scored under the empty-class rule: false where the target and the hard
    /// prediction are both empty (summed over <paramref name="dims"/>).
    /// </summary>
    public static Tensor Scored(Tensor target, Tensor hard, long[] dims, bool excludeEmpty)
    {
        using var noGrad = no_grad();
        var targetPresent = target.sum(dims).gt(0);
        if (!excludeEmpty) return ones_like(targetPresent, dtype: ScalarType.Bool);
        return targetPresent.logical_or(hard.sum(dims).gt(0));
    }

    /// <summary>
    /// Reduces terms (…, C') with a scored mask of the same shape and optional class weights (C').
    /// Mean is Σ w·L / Σ w over scored terms (0 when none is scored, still attached to the graph);
    /// None returns w·L with unscored terms 0.
    /// </summary>
    public static Tensor Reduce(Tensor terms, Tensor scored, Tensor? classWeights, LossReduction reduction)
    {
        var mask = scored.to(terms.dtype);
        var weights = classWeights is null ? mask : mask * classWeights;
        // where() rather than a product so a non-finite unscored term cannot poison the sum.
        var weighted = where(scored, terms, zeros_like(terms)) * (classWeights ?? ones(1, dtype: terms.dtype, device: terms.device));
        return reduction switch
        {
            LossReduction.None => weighted,
            LossReduction.Sum => weighted.sum(),
            _ => weighted.sum() / weights.sum().clamp_min(1e-12),
        };
    }

    /// <summary>Permutation moving the last (one-hot) dimension to position 1.</summary>
    public static long[] ChannelFirst(long dims)
    {
        var order = new long[dims];
        order[0] = 0;
        order[1] = dims - 1;
        for (var d = 2; d < dims; d++) order[d] = d - 1;
        return order;
    }

    public static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";
}
