using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Losses;

/// <summary>
/// Training loss of RESNET3DVAE (Myronenko 2018, "3D MRI brain tumor segmentation using autoencoder
/// regularization", BrainLes, arXiv:1810.11654):
/// <code>
/// L = L_seg + w_rec · L_L2 + w_KL · L_KL
/// L_L2 = mean over voxels and channels of (reconstruction − input)²                 (B, C_in, D, H, W)
/// L_KL = mean over the batch of (1/N) Σ_latent (μ² + σ² − log σ² − 1),  N = C_in·D·H·W voxels of one input
/// </code>
/// with w_rec = w_KL = 0.1 (<see cref="LossOptions.VaeReconstructionWeight"/>, <see cref="LossOptions.VaeKlWeight"/>)
/// as in the paper, and L_seg the segmentation loss (soft Dice in the paper; any factory loss here,
/// <see cref="LossOptions.VaeSegmentationLoss"/>). The paper writes L_L2 as a squared L2 norm; like its
/// public re-implementations (and MONAI's SegResNetVAE) we take the mean, which keeps the 0.1 weight
/// meaningful whatever the patch size. μ and log σ² come from <see cref="VaeOutput"/> (B, latent).
/// <para>
/// The VAE terms need the network's input and its VAE branch, so use <see cref="Compute"/>;
/// <c>forward(logits, target)</c> returns the segmentation term alone (for validation, where the VAE
/// branch is not evaluated).
/// </para>
/// </summary>
public sealed class VaeLoss : SegmentationLoss
{
    private readonly SegmentationLoss segmentation;

    /// <param name="segmentation">The segmentation term L_seg (owned by this loss afterwards).</param>
    /// <param name="options">VAE weights and reduction (Mean or Sum); null → defaults.</param>
    public VaeLoss(SegmentationLoss segmentation, LossOptions? options = null)
        : base(nameof(VaeLoss), options, (segmentation ?? throw new ArgumentNullException(nameof(segmentation))).Activation)
    {
        if (segmentation is VaeLoss)
            throw new ArgumentException("the segmentation term of a VaeLoss cannot itself be a VaeLoss", nameof(segmentation));
        RequireScalarReduction(Settings, nameof(VaeLoss));
        this.segmentation = segmentation;
        RegisterComponents();
    }

    /// <summary>The segmentation term L_seg.</summary>
    public SegmentationLoss Segmentation => segmentation;

    /// <summary>
    /// L_seg on <paramref name="output"/> (with deep supervision when present) plus the weighted
    /// reconstruction and KL terms. Throws <see cref="InvalidOperationException"/> when the output has
    /// no VAE branch (a model other than RESNET3DVAE) and <see cref="ArgumentNullException"/> without the input.
    /// </summary>
    public override Tensor Compute(SegmentationOutput output, Tensor target, Tensor? input = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var vae = output.Vae ?? throw new InvalidOperationException("the VAE loss needs a model with a VAE branch (RESNET3DVAE); this output has none");
        ArgumentNullException.ThrowIfNull(input, nameof(input));
        using var scope = NewDisposeScope();
        var segmentationLoss = segmentation.Compute(output, target);
        var (reconstruction, kl) = VaeTerms(vae, input);
        var total = segmentationLoss + (Settings.VaeReconstructionWeight * reconstruction) + (Settings.VaeKlWeight * kl);
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The unweighted VAE terms (L_L2, L_KL) as scalars, for logging. Shapes: reconstruction and input
    /// (B, C_in, D, H, W); mean and log-variance (B, latent).
    /// </summary>
    public static (Tensor Reconstruction, Tensor Kl) VaeTerms(VaeOutput vae, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(input);
        if (!vae.Reconstruction.shape.SequenceEqual(input.shape))
            throw new ArgumentException($"VAE reconstruction {LossMath.Shape(vae.Reconstruction)} must match the input {LossMath.Shape(input)}", nameof(vae));
        if (vae.Mean.dim() != 2 || !vae.Mean.shape.SequenceEqual(vae.LogVariance.shape) || vae.Mean.shape[0] != input.shape[0])
            throw new ArgumentException($"VAE mean {LossMath.Shape(vae.Mean)} and log-variance {LossMath.Shape(vae.LogVariance)} must both be (B, latent) with B = {input.shape[0]}", nameof(vae));
        using var scope = NewDisposeScope();
        var difference = vae.Reconstruction - input;
        var reconstruction = (difference * difference).mean();
        var voxels = input[0].numel();
        var mu = vae.Mean;
        var logVariance = vae.LogVariance;
        var kl = ((mu * mu) + logVariance.exp() - logVariance - 1).sum(1).mean() / voxels;
        return (reconstruction.MoveToOuterDisposeScope(), kl.MoveToOuterDisposeScope());
    }

    private protected override Tensor ComputeOneHot(Tensor logits, Tensor oneHot) => segmentation.ForwardOneHot(logits, oneHot);
}
