using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks;

/// <summary>
/// What a segmentation network produces in one forward pass: the main logits, and auxiliary outputs
/// kept apart from them (MedicalZoo returns tuples that break callers expecting one tensor).
/// All tensors belong to the caller's dispose scope.
/// </summary>
/// <param name="Logits">(B, classes, D, H, W), same spatial size as the input.</param>
/// <param name="DeepSupervision">Lower-resolution logits (B, classes, d, h, w), finest first; empty when the model has none.</param>
/// <param name="Vae">The VAE branch of RESNET3DVAE; null for other models.</param>
public sealed record SegmentationOutput(Tensor Logits, IReadOnlyList<Tensor> DeepSupervision, VaeOutput? Vae = null)
{
    /// <summary>Output with logits only.</summary>
    public static SegmentationOutput Of(Tensor logits) => new(logits, []);
}

/// <summary>The variational auto-encoder branch's outputs (Myronenko 2018).</summary>
/// <param name="Reconstruction">(B, inChannels, D, H, W) reconstruction of the input.</param>
/// <param name="Mean">(B, latent) mean of the latent Gaussian.</param>
/// <param name="LogVariance">(B, latent) log-variance of the latent Gaussian.</param>
public sealed record VaeOutput(Tensor Reconstruction, Tensor Mean, Tensor LogVariance);

/// <summary>
/// A network of the zoo. <c>forward</c> (from <see cref="nn.Module{T,TResult}"/>) returns the main
/// logits only, so every model can be used as a plain <c>Module&lt;Tensor, Tensor&gt;</c> (inference,
/// sliding window); <see cref="ForwardWithAuxiliary"/> also returns deep-supervision and VAE outputs
/// for training.
/// </summary>
public interface ISegmentationNetwork
{
    /// <summary>Input channels (modalities).</summary>
    int InChannels { get; }

    /// <summary>Output classes, background included.</summary>
    int Classes { get; }

    /// <summary>Forward pass returning the main logits and any auxiliary outputs.</summary>
    SegmentationOutput ForwardWithAuxiliary(Tensor input);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the constraint when the input's shape cannot be
    /// processed (wrong channel count, spatial size not divisible by the required factor, too small).
    /// </summary>
    void ValidateInputShape(ReadOnlySpan<long> shape);
}
