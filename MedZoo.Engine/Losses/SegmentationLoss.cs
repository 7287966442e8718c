using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Base of every MedZoo segmentation loss: a parameter-free TorchSharp module
/// <c>forward(logits, target)</c> → loss.
/// <list type="bullet">
/// <item><description>logits: (B, C, D, H, W) raw network outputs (any number ≥ 1 of spatial dimensions works).</description></item>
/// <item><description>target: class indices (B, D, H, W) or (B, 1, D, H, W), or one-hot (B, C, D, H, W); see <see cref="LossOptions.Target"/>.
/// With a single logit channel the target is a binary foreground mask (labels 0/1) and Softmax acts as Sigmoid.</description></item>
/// <item><description>result: a scalar for Mean/Sum reduction, differentiable with respect to the logits.</description></item>
/// </list>
/// Each call runs in its own dispose scope, so intermediates are freed at once and only the result
/// reaches the caller's scope; the inputs are never disposed. Absent classes follow the empty-class
/// rule described on <see cref="LossOptions"/>.
/// </summary>
public abstract class SegmentationLoss : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LossOptions _options;

    private protected SegmentationLoss(string name, LossOptions? options, LossActivation naturalActivation) : base(name)
    {
        _options = (options ?? new LossOptions()).Clone();
        _options.Validate();
        Activation = _options.Activation ?? naturalActivation;
    }

    /// <summary>A copy of the options the loss was built with.</summary>
    public LossOptions Options => _options.Clone();

    /// <summary>The activation in use (the options' or the loss's natural one).</summary>
    public LossActivation Activation { get; }

    /// <summary>The options without copying (read-only by convention), for the losses and deep supervision.</summary>
    internal LossOptions Settings => _options;

    /// <summary>Loss of logits (B, C, D, H, W) against a target (see the class remarks).</summary>
    public sealed override Tensor forward(Tensor logits, Tensor target)
    {
        LossMath.CheckLogits(logits);
        using var scope = NewDisposeScope();
        var oneHot = LossMath.ToOneHot(logits, target, _options.Target);
        return ComputeOneHot(logits, oneHot).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training loss for a whole network output: the main logits, combined with the
    /// deep-supervision outputs when there are any and <see cref="LossOptions.DeepSupervision"/> is set
    /// (<see cref="DeepSupervision.Combine"/>). <see cref="VaeLoss"/> adds its VAE terms and needs
    /// <paramref name="input"/>, the network's input image; other losses ignore it.
    /// </summary>
    public virtual Tensor Compute(SegmentationOutput output, Tensor target, Tensor? input = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        return _options.DeepSupervision && output.DeepSupervision.Count > 0
            ? DeepSupervision.Combine(this, output, target)
            : forward(output.Logits, target);
    }

    /// <summary>Loss against a target already converted to one-hot (B, C, …) in the logits' dtype.</summary>
    internal Tensor ForwardOneHot(Tensor logits, Tensor oneHot)
    {
        LossMath.CheckLogits(logits);
        if (!oneHot.shape.SequenceEqual(logits.shape))
            throw new ArgumentException($"one-hot target {LossMath.Shape(oneHot)} must match logits {LossMath.Shape(logits)}", nameof(oneHot));
        using var scope = NewDisposeScope();
        return ComputeOneHot(logits, oneHot).MoveToOuterDisposeScope();
    }

    /// <summary>Converts a target to the one-hot form this loss compares against (for deep supervision).</summary>
    internal Tensor PrepareTarget(Tensor logits, Tensor target)
    {
        LossMath.CheckLogits(logits);
        return LossMath.ToOneHot(logits, target, _options.Target);
    }

    /// <summary>
    /// The loss proper. Runs inside a dispose scope opened by the caller; returns a tensor of that scope.
    /// </summary>
    private protected abstract Tensor ComputeOneHot(Tensor logits, Tensor oneHot);

    /// <summary>Throws when a combined loss is asked for an unreduced result it cannot form.</summary>
    private protected static void RequireScalarReduction(LossOptions options, string loss)
    {
        if (options.Reduction == LossReduction.None)
            throw new ArgumentException($"LossOptions.Reduction must be Mean or Sum for {loss}: its terms have different shapes", nameof(options.Reduction));
    }

    /// <summary>Throws unless the resolved activation is one of <paramref name="allowed"/>.</summary>
    private protected void RequireActivation(string loss, params LossActivation[] allowed)
    {
        if (!allowed.Contains(Activation))
            throw new ArgumentException($"LossOptions.Activation must be {string.Join(" or ", allowed)} for {loss}, got {Activation}", nameof(LossOptions.Activation));
    }
}
