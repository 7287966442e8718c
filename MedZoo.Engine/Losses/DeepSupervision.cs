using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Deep supervision as nnU-Net trains it (Isensee et al. 2021): the loss of every output level against
/// the target brought to that level's size, weighted 1, 1/2, 1/4, … from the full-resolution output down
/// and normalised to sum 1. nnU-Net additionally gives its coarsest level weight 0; here every level
/// counts, so a model's auxiliary outputs are all trained.
/// </summary>
public static class DeepSupervision
{
    /// <summary>Weights of <paramref name="levels"/> outputs (main first): 2^−i normalised to sum 1.</summary>
    public static double[] LevelWeights(int levels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 1);
        var weights = Enumerable.Range(0, levels).Select(i => Math.Pow(0.5, i)).ToArray();
        var total = weights.Sum();
        return weights.Select(w => w / total).ToArray();
    }

    /// <summary>
    /// A one-hot target (B, C, D, H, W) resized to <paramref name="spatialSize"/> (d, h, w):
    /// <see cref="DeepSupervisionTargetMode.Nearest"/> subsamples (stays one-hot);
    /// <see cref="DeepSupervisionTargetMode.MaxPool"/> marks a class wherever it occurs in the block (may
    /// mark several classes per voxel, which overlap losses accept). Returns a new tensor.
    /// </summary>
    public static Tensor DownsampleTarget(Tensor oneHot, ReadOnlySpan<long> spatialSize, DeepSupervisionTargetMode mode)
    {
        ArgumentNullException.ThrowIfNull(oneHot);
        var spatial = (int)oneHot.dim() - 2;
        if (spatial is < 1 or > 3 || spatialSize.Length != spatial)
            throw new ArgumentException($"target {LossMath.Shape(oneHot)} and size ({string.Join(", ", spatialSize.ToArray())}) must have the same 1 to 3 spatial dimensions", nameof(spatialSize));
        var size = spatialSize.ToArray();
        if (oneHot.shape.AsSpan(2).SequenceEqual(size))
            return oneHot.clone();
        if (mode == DeepSupervisionTargetMode.Nearest)
            return nn.functional.interpolate(oneHot, size, mode: InterpolationMode.Nearest);
        using var scope = NewDisposeScope();
        var pooled = oneHot.alias();
        for (var axis = 0; axis < spatial; axis++)
            pooled = AdaptiveMax(pooled, axis + 2, size[axis]);
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adaptive max-pooling along one dimension with torch's bins [⌊i·n/m⌋, ⌈(i+1)·n/m⌉). Max is separable
    /// over a box, so pooling the axes one after another equals adaptive_max_pool3d — which TorchSharp
    /// 0.107 cannot be used for: its adaptive_max_pool3d calls the 1-D native kernel and throws.
    /// </summary>
    private static Tensor AdaptiveMax(Tensor x, int dim, long outputSize)
    {
        var inputSize = x.shape[dim];
        if (inputSize == outputSize) return x.alias();
        var bins = new Tensor[outputSize];
        for (long i = 0; i < outputSize; i++)
        {
            var start = i * inputSize / outputSize;
            var end = ((i + 1) * inputSize + outputSize - 1) / outputSize;
            bins[i] = x.narrow(dim, start, end - start).amax([dim], keepdim: true);
        }
        return cat(bins, dim);
    }

    /// <summary>
    /// Σ_i weight_i · loss(level_i logits, target at level i's size) over the main logits and
    /// <see cref="SegmentationOutput.DeepSupervision"/> (finest first). Level logits must share the main
    /// output's batch and class count. The loss's reduction must be Mean or Sum.
    /// </summary>
    public static Tensor Combine(SegmentationLoss loss, SegmentationOutput output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(output);
        if (loss.Settings.Reduction == LossReduction.None)
            throw new ArgumentException("LossOptions.Reduction must be Mean or Sum to combine deep-supervision levels", nameof(loss));
        using var scope = NewDisposeScope();
        var main = output.Logits;
        var oneHot = loss.PrepareTarget(main, target);
        var weights = LevelWeights(output.DeepSupervision.Count + 1);
        var total = loss.ForwardOneHot(main, oneHot) * weights[0];
        for (var i = 0; i < output.DeepSupervision.Count; i++)
        {
            var logits = output.DeepSupervision[i];
            if (logits.dim() != main.dim() || logits.shape[0] != main.shape[0] || logits.shape[1] != main.shape[1])
                throw new ArgumentException($"deep-supervision output {i} {LossMath.Shape(logits)} must have the batch and classes of the main logits {LossMath.Shape(main)}", nameof(output));
            var levelTarget = DownsampleTarget(oneHot, logits.shape.AsSpan(2), loss.Settings.DeepSupervisionTarget);
            total = total + (loss.ForwardOneHot(logits, levelTarget) * weights[i + 1]);
        }
        return total.MoveToOuterDisposeScope();
    }
}
