using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Soft Dice loss (Milletari et al. 2016, V-Net, arXiv:1606.04797), MONAI-style.
/// For each sample b and scored class c (each class over the whole batch with <see cref="LossOptions.Batch"/>):
/// <code>
/// L_bc = 1 − (2 Σ p·t + smoothNumerator) / (Σ p + Σ t + smoothDenominator)      (plain)
/// L_bc = 1 − (2 Σ p·t + smoothNumerator) / (Σ p² + Σ t² + smoothDenominator)    (SquaredDenominator, V-Net)
/// </code>
/// sums over D, H, W; p = activation(logits) (B, C, D, H, W); t the one-hot target. Terms are reduced by
/// <see cref="LossOptions.Reduction"/> with class weights; terms whose class is empty in both target and
/// hard prediction are not scored (the empty-class rule on <see cref="LossOptions"/>). The result lies in
/// [0, 1]: ≈ 0 for a perfect prediction, ≈ 1 when nothing overlaps.
/// <para>
/// <b>MedicalZoo mode</b> (<see cref="LossOptions.MedicalZooDice"/>; factory name "medicalzoo_dice", which
/// also scores the background as MedicalZoo does by default) reproduces MedicalZooPytorch's <c>DiceLoss</c>
/// (<c>lib/losses3D/dice.py</c>, <c>BaseClass.py</c>, <c>basic.py</c>, adapted from pytorch-3dunet): the
/// target is expanded to one-hot; probabilities come from a softmax over all channels (sigmoid with
/// Activation=Sigmoid; one stored release of MedicalZoo defaults to sigmoid, the one with
/// <c>skip_background_class</c> to softmax); each channel is flattened over batch and space together, so
/// there is one Dice per class for the whole batch:
/// <c>dice_c = 2·w_c·Σ p·t / max(Σ p² + Σ t², 1e-6)</c> (weights multiply the numerator only, no smoothing);
/// the loss is <c>1 − mean_c dice_c</c>. A class absent from the target therefore scores 0 whatever the
/// prediction — the bug the empty-class rule fixes — and the background is scored unless
/// <see cref="LossOptions.IncludeBackground"/> is false, in which case we drop channel 0 after normalising
/// over all channels. MedicalZoo's <c>skip_background_class=True</c> path differs and is not reproduced:
/// it removes channel 0 before the softmax (normalising over the foreground channels only) and then drops
/// the first remaining Dice again (<c>per_channel_dice[1:]</c>), so class 1 is never scored.
/// MedicalZoo also returns the per-channel Dice values; use <see cref="PerClassSoftDice"/> for those.
/// </para>
/// </summary>
public sealed class DiceLoss : SegmentationLoss
{
    /// <param name="options">Flags (null → defaults): activation, background, target format, smoothing,
    /// batch, reduction, class weights, <see cref="LossOptions.SquaredDenominator"/>, <see cref="LossOptions.MedicalZooDice"/>.</param>
    public DiceLoss(LossOptions? options = null) : base(nameof(DiceLoss), options, LossActivation.Softmax)
    {
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot) =>
        Settings.MedicalZooDice ? MedicalZoo(logits, oneHot) : Terms(logits, oneHot, Settings, Activation, reduce: true);

    /// <summary>
    /// Soft Dice per class (index = class, background included), pooled over the whole batch, for
    /// progress reporting (e.g. a training step's per-class Dice): <c>(2Σ p·t + sn) / (Σ p + Σ t + sd)</c>
    /// with the options' activation and smoothing; NaN for a class empty in both the target and the hard
    /// prediction (the empty-class rule). Computed without gradient.
    /// </summary>
    public static double[] PerClassSoftDice(Tensor logits, Tensor target, LossOptions? options = null)
    {
        LossMath.CheckLogits(logits);
        var o = (options ?? new LossOptions()).Clone();
        o.Validate();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var activation = o.Activation ?? LossActivation.Softmax;
        var t = LossMath.ToOneHot(logits, target, o.Target);
        var p = LossMath.Activate(logits, activation);
        var hard = LossMath.HardPrediction(logits, activation);
        var dims = LossMath.SumDimensions(p, batch: true);
        var dice = ((2 * (p * t).sum(dims)) + o.SmoothNumerator) / (p.sum(dims) + t.sum(dims) + o.SmoothDenominator).clamp_min(1e-12);
        var scored = LossMath.Scored(t, hard, dims, excludeEmpty: true);
        var values = where(scored, dice, full_like(dice, double.NaN)).to(ScalarType.Float64).cpu();
        return values.data<double>().ToArray();
    }

    /// <summary>Reduced Dice loss (or its unreduced terms) shared with the combined losses.</summary>
    internal static Tensor Terms(Tensor logits, Tensor oneHot, LossOptions o, LossActivation activation, bool reduce)
    {
        var p = LossMath.ScoredChannels(LossMath.Activate(logits, activation), o.IncludeBackground);
        var t = LossMath.ScoredChannels(oneHot, o.IncludeBackground);
        var hard = LossMath.ScoredChannels(LossMath.HardPrediction(logits, activation), o.IncludeBackground);
        var dims = LossMath.SumDimensions(p, o.Batch);
        var intersection = (p * t).sum(dims);
        var denominator = o.SquaredDenominator ? (p * p).sum(dims) + (t * t).sum(dims) : p.sum(dims) + t.sum(dims);
        var terms = 1 - ((2 * intersection) + o.SmoothNumerator) / (denominator + o.SmoothDenominator).clamp_min(1e-12);
        var scored = LossMath.Scored(t, hard, dims, o.ExcludeEmptyClasses);
        var weights = LossMath.ScoredWeights(o.ClassWeights, logits, o.IncludeBackground);
        return LossMath.Reduce(terms, scored, weights, reduce ? o.Reduction : LossReduction.None);
    }

    private Tensor MedicalZoo(Tensor logits, Tensor oneHot)
    {
        var p = LossMath.Activate(logits, Activation);
        var dims = LossMath.SumDimensions(p, batch: true);
        var intersection = (p * oneHot).sum(dims);
        if (LossMath.ScoredWeights(Settings.ClassWeights, logits, includeBackground: true) is { } w)
            intersection = intersection * w;
        var dice = 2 * intersection / ((p * p).sum(dims) + (oneHot * oneHot).sum(dims)).clamp_min(1e-6);
        return 1 - LossMath.ScoredChannels(dice.unsqueeze(0), Settings.IncludeBackground).mean();
    }
}
