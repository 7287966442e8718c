using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>The activation of a <see cref="PreActivationConv"/>.</summary>
public enum PreActivation
{
    /// <summary>ReLU.</summary>
    ReLU,
    /// <summary>PReLU with one learned slope shared by all channels (HyperDenseNet).</summary>
    PReLU,
}

/// <summary>
/// Pre-activation convolution (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
/// [BN →] activation → k×k×k conv, padded ("same") so D, H, W are kept, optionally dilated.
/// Input (B, inChannels, D, H, W) → output (B, outChannels, D, H, W).
/// Used by HIGHRESNET (BN, ReLU, dilations 1/2/4) and HYPERDENSENET (BN, PReLU).
/// </summary>
public sealed class PreActivationConv : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm3d? norm;
    private readonly PReLU? prelu;
    private readonly Convolution3d conv;
    private readonly bool inplaceRelu;

    public PreActivationConv(long inChannels, long outChannels, long kernelSize = 3, long dilation = 1,
                             bool batchNorm = true, PreActivation activation = PreActivation.ReLU, bool bias = true)
        : base(nameof(PreActivationConv))
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(outChannels, 1, nameof(outChannels));
        Check.AtLeast(kernelSize, 1, nameof(kernelSize));
        Check.AtLeast(dilation, 1, nameof(dilation));
        if (kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "kernelSize must be odd to keep D, H, W");
        if (batchNorm) norm = nn.BatchNorm3d(inChannels);
        if (activation == PreActivation.PReLU) prelu = nn.PReLU(1);
        conv = Layers.Conv3d(inChannels, outChannels, kernelSize, padding: dilation * (kernelSize / 2), dilation: dilation, bias: bias);
        // Without a norm the activation would overwrite the caller's tensor.
        inplaceRelu = batchNorm;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = norm is null ? input : norm.call(input);
        x = prelu is not null ? prelu.call(x) : nn.functional.relu(x, inplace: inplaceRelu);
        return conv.call(x).MoveToOuterDisposeScope();
    }
}

/// <summary>Plain convolution stacks built as <see cref="Sequential"/>s (which free intermediates as they go).</summary>
public static class ConvBlocks
{
    /// <summary>
    /// Two padded 3×3×3 convolutions, each followed by BN and ReLU (Çiçek et al. 2016):
    /// (B, inChannels, D, H, W) → (B, midChannels, …) → (B, outChannels, D, H, W).
    /// </summary>
    public static Sequential DoubleConv(long inChannels, long midChannels, long outChannels) =>
        nn.Sequential(
            ("conv1", Layers.Conv3d(inChannels, midChannels, 3, padding: 1)),
            ("bn1", nn.BatchNorm3d(midChannels)),
            ("relu1", nn.ReLU(inplace: true)),
            ("conv2", Layers.Conv3d(midChannels, outChannels, 3, padding: 1)),
            ("bn2", nn.BatchNorm3d(outChannels)),
            ("relu2", nn.ReLU(inplace: true)));
}
