using System.Globalization;

namespace MedZoo.Engine.Losses;

/// <summary>How logits become probabilities before a loss compares them with the target.</summary>
public enum LossActivation
{
    /// <summary>Softmax over the class channel: classes are mutually exclusive (one label per voxel).</summary>
    Softmax,

    /// <summary>Sigmoid per channel: each channel is an independent binary problem (multi-label, e.g. BraTS regions).</summary>
    Sigmoid,

    /// <summary>The input already holds probabilities in [0, 1] (Dice-family losses only).</summary>
    None,
}

/// <summary>How the target tensor is laid out.</summary>
public enum TargetFormat
{
    /// <summary>
    /// Decided from the shape: (B, D, H, W) or (B, 1, D, H, W) with more than one logit channel →
    /// class indices; (B, C, D, H, W) with C equal to the logits' channels → one-hot.
    /// </summary>
    Auto,

    /// <summary>Class indices in [0, C), shape (B, D, H, W) or (B, 1, D, H, W), any numeric dtype holding integers.</summary>
    ClassIndices,

    /// <summary>One-hot (or soft / multi-label) target of shape (B, C, D, H, W) with values in [0, 1].</summary>
    OneHot,
}

/// <summary>How per-term losses are reduced (MONAI's <c>reduction</c>).</summary>
public enum LossReduction
{
    /// <summary>Weighted mean over the terms that are scored (see the empty-class rule).</summary>
    Mean,

    /// <summary>Weighted sum over the terms that are scored.</summary>
    Sum,

    /// <summary>
    /// No reduction: Dice-family losses return (B, C') terms ((C') with <see cref="LossOptions.Batch"/>),
    /// excluded terms as 0; voxel-wise losses return their per-voxel map. Not available for combined losses.
    /// </summary>
    None,
}

/// <summary>Class weighting of the generalized Dice loss (Sudre et al. 2017).</summary>
public enum GeneralizedDiceWeighting
{
    /// <summary>w_c = 1 / (Σ t_c)² — the paper's choice.</summary>
    Square,

    /// <summary>w_c = 1 / Σ t_c.</summary>
    Simple,

    /// <summary>w_c = 1.</summary>
    Uniform,
}

/// <summary>How a target is brought to the size of a deep-supervision output.</summary>
public enum DeepSupervisionTargetMode
{
    /// <summary>Nearest-neighbour subsampling of the label map (nnU-Net's order-0 resampling); stays one label per voxel.</summary>
    Nearest,

    /// <summary>Max-pooling of the one-hot target: a coarse voxel belongs to every class present in its block.</summary>
    MaxPool,
}

/// <summary>
/// One option set shared by every segmentation loss, MONAI-style, so the CLI, trainer and dashboard
/// configure any loss the same way (<see cref="LossFactory.Create"/>). Loss-specific fields are ignored
/// by losses that do not use them. Call <see cref="Validate"/> (losses call it on construction and keep
/// a copy, so later edits do not change a built loss).
/// <para>
/// <b>Empty-class rule</b> (shared with <c>MedZoo.Engine.Metrics</c>): a per-sample, per-class term —
/// per-class over the whole batch when <see cref="Batch"/> is set — whose target is empty and whose hard
/// prediction is empty (argmax for softmax / none, logit &gt; 0 for sigmoid) is not scored: it is left out
/// of the mean and contributes 0 to a sum. A class present in only one of them is scored normally (a
/// Dice term of 0, i.e. loss 1, when the target is empty but the hard prediction is not). This is the
/// metrics' rule (both empty → excluded; one empty → Dice 0) applied to soft terms, so a model is never
/// penalised for correctly predicting that a class is absent, yet false positives still are.
/// </para>
/// </summary>
public sealed class LossOptions
{
    /// <summary>Probability mapping of the logits; null picks the loss's natural one (sigmoid for BCE-Dice, softmax otherwise).</summary>
    public LossActivation? Activation { get; set; }

    /// <summary>
    /// Score channel 0 (background) in Dice-family and focal terms. Default false (nnU-Net's choice;
    /// MONAI defaults to true): background dominates the voxel count and masks foreground errors.
    /// Softmax cross-entropy always uses every class (it is a distribution over all of them). Ignored
    /// for single-channel logits, whose only channel is the foreground.
    /// </summary>
    public bool IncludeBackground { get; set; }

    /// <summary>Layout of the target; <see cref="TargetFormat.Auto"/> decides from its shape.</summary>
    public TargetFormat Target { get; set; } = TargetFormat.Auto;

    /// <summary>Added to the numerator of Dice/Tversky ratios (MONAI's smooth_nr). Default 1e-5.</summary>
    public double SmoothNumerator { get; set; } = 1e-5;

    /// <summary>Added to the denominator of Dice/Tversky ratios (MONAI's smooth_dr). Default 1e-5.</summary>
    public double SmoothDenominator { get; set; } = 1e-5;

    /// <summary>
    /// Batch reduction: sum intersections and volumes over the batch before forming the ratio (one
    /// term per class, nnU-Net's batch Dice) instead of one term per sample and class.
    /// </summary>
    public bool Batch { get; set; }

    /// <summary>Reduction of the terms; combined losses need <see cref="LossReduction.Mean"/> or <see cref="LossReduction.Sum"/>.</summary>
    public LossReduction Reduction { get; set; } = LossReduction.Mean;

    /// <summary>
    /// One weight per logit channel (background included, even when it is excluded), or null for
    /// uniform. Dice-family: weighted mean Σ w_c L_c / Σ w_c over scored terms. Cross-entropy: weighted
    /// mean over voxels as torch's <c>cross_entropy(weight=…)</c>. Focal: the per-class α_c factor.
    /// </summary>
    public double[]? ClassWeights { get; set; }

    /// <summary>
    /// Apply the empty-class rule: a class absent from both the target and the prediction is not scored, so
    /// predicting correctly that a class is absent costs nothing. Default true; false scores every term (MONAI's behaviour).
    /// </summary>
    /// <remarks>The class remarks give the rule in full.</remarks>
    public bool ExcludeEmptyClasses { get; set; } = true;

    /// <summary>Dice/Tversky denominator with squared terms Σp² + Σt² (V-Net, Milletari et al. 2016) instead of Σp + Σt.</summary>
    public bool SquaredDenominator { get; set; }

    /// <summary>
    /// The dice loss reproduces MedicalZooPytorch's Dice arithmetic:
    /// batch-pooled per-class Dice with a squared denominator clamped at 1e-6, no smoothing, weights on
    /// the numerator only, absent classes scored 0. The smoothing, batch, squared, empty-class and
    /// reduction fields then do not apply.
    /// </summary>
    public bool MedicalZooDice { get; set; }

    /// <summary>Class weighting of the generalized_dice loss: square (inverse squared volume, Sudre 2017), simple (inverse volume) or uniform.</summary>
    public GeneralizedDiceWeighting GeneralizedDiceWeighting { get; set; } = GeneralizedDiceWeighting.Square;

    /// <summary>Tversky α: weight of false positives (Salehi et al. 2017). α = β = 0.5 gives Dice.</summary>
    public double TverskyAlpha { get; set; } = 0.5;

    /// <summary>Tversky β: weight of false negatives.</summary>
    public double TverskyBeta { get; set; } = 0.5;

    /// <summary>Focal γ (Lin et al. 2017); 0 gives cross-entropy. Default 2.</summary>
    public double FocalGamma { get; set; } = 2;

    /// <summary>
    /// Focal α in [0, 1], or null for none. Sigmoid: α for positives, 1 − α for negatives. Softmax: 1 − α
    /// for background, α for the other classes (MONAI's convention).
    /// </summary>
    public double? FocalAlpha { get; set; }

    /// <summary>Weight of the Dice term in combined losses (MONAI's lambda_dice; MedicalZoo's BCE-Dice β).</summary>
    public double LambdaDice { get; set; } = 1;

    /// <summary>Weight of the cross-entropy / BCE term in combined losses (MONAI's lambda_ce; MedicalZoo's BCE-Dice α).</summary>
    public double LambdaCrossEntropy { get; set; } = 1;

    /// <summary>Weight of the focal term in the dice_focal loss.</summary>
    public double LambdaFocal { get; set; } = 1;

    /// <summary>Weight of the VAE's L2 reconstruction term; 0.1 as in Myronenko 2018.</summary>
    public double VaeReconstructionWeight { get; set; } = 0.1;

    /// <summary>Weight of the VAE's KL term; 0.1 as in Myronenko 2018.</summary>
    public double VaeKlWeight { get; set; } = 0.1;

    /// <summary>Segmentation term of the vae loss, by name as <c>--loss</c> takes it (the paper uses soft Dice: dice).</summary>
    public string VaeSegmentationLoss { get; set; } = "dice";

    /// <summary>For models with deep-supervision outputs: the loss is taken at every output level, weighted 1, 1/2, 1/4, … from full resolution down and normalised to sum 1 (nnU-Net's scheme).</summary>
    public bool DeepSupervision { get; set; } = true;

    /// <summary>How targets are downsampled for deep-supervision outputs.</summary>
    public DeepSupervisionTargetMode DeepSupervisionTarget { get; set; } = DeepSupervisionTargetMode.Nearest;

    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first invalid field and what it must be.</summary>
    public void Validate()
    {
        if (Activation is { } a && !Enum.IsDefined(a))
            throw Bad(nameof(Activation), a, "must be Softmax, Sigmoid or None");
        if (!Enum.IsDefined(Target))
            throw Bad(nameof(Target), Target, "must be Auto, ClassIndices or OneHot");
        if (!Enum.IsDefined(Reduction))
            throw Bad(nameof(Reduction), Reduction, "must be Mean, Sum or None");
        if (!Enum.IsDefined(GeneralizedDiceWeighting))
            throw Bad(nameof(GeneralizedDiceWeighting), GeneralizedDiceWeighting, "must be Square, Simple or Uniform");
        if (!Enum.IsDefined(DeepSupervisionTarget))
            throw Bad(nameof(DeepSupervisionTarget), DeepSupervisionTarget, "must be Nearest or MaxPool");
        NonNegative(nameof(SmoothNumerator), SmoothNumerator);
        NonNegative(nameof(SmoothDenominator), SmoothDenominator);
        NonNegative(nameof(TverskyAlpha), TverskyAlpha);
        NonNegative(nameof(TverskyBeta), TverskyBeta);
        if (TverskyAlpha + TverskyBeta <= 0)
            throw new InvalidOptionException(nameof(TverskyAlpha), $"{nameof(TverskyAlpha)} + {nameof(TverskyBeta)} must be positive, got 0", nameof(LossOptions));
        NonNegative(nameof(FocalGamma), FocalGamma);
        if (FocalAlpha is { } alpha && !(alpha >= 0 && alpha <= 1))
            throw Bad(nameof(FocalAlpha), alpha, "must be in [0, 1], or left empty for none");
        NonNegative(nameof(LambdaDice), LambdaDice);
        NonNegative(nameof(LambdaCrossEntropy), LambdaCrossEntropy);
        NonNegative(nameof(LambdaFocal), LambdaFocal);
        NonNegative(nameof(VaeReconstructionWeight), VaeReconstructionWeight);
        NonNegative(nameof(VaeKlWeight), VaeKlWeight);
        if (string.IsNullOrWhiteSpace(VaeSegmentationLoss))
            throw new InvalidOptionException(nameof(VaeSegmentationLoss), $"must name a segmentation loss (e.g. \"dice\")", nameof(LossOptions));
        if (ClassWeights is { } w)
        {
            if (w.Length == 0)
                throw new InvalidOptionException(nameof(ClassWeights), $"must have one weight per class, or be left empty for equal weights; got none", nameof(LossOptions));
            for (var i = 0; i < w.Length; i++)
                if (!double.IsFinite(w[i]) || w[i] < 0)
                    throw new InvalidOptionException(nameof(ClassWeights), $"weight {i + 1} must be a finite number ≥ 0, got {Format(w[i])}", nameof(LossOptions));
            if (w.All(v => v == 0))
                throw new InvalidOptionException(nameof(ClassWeights), $"at least one weight must be positive", nameof(LossOptions));
        }
    }

    /// <summary>A deep copy.</summary>
    public LossOptions Clone()
    {
        var copy = (LossOptions)MemberwiseClone();
        copy.ClassWeights = ClassWeights is null ? null : (double[])ClassWeights.Clone();
        return copy;
    }

    private static void NonNegative(string field, double value)
    {
        if (!double.IsFinite(value) || value < 0)
            throw Bad(field, value, "must be a finite number ≥ 0");
    }

    private static InvalidOptionException Bad(string field, object value, string rule) =>
        new(field, $"{rule}, got {(value is double d ? Format(d) : value)}", nameof(LossOptions));

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
