using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// ResNet basic block in 3D (He et al. 2016): 3×3×3 conv (stride, dilation) → BN → ReLU →
/// 3×3×3 conv → BN, plus a shortcut (identity, or 1×1×1 conv + BN when the shape changes), → ReLU.
/// Input (B, inChannels, D, H, W) → output (B, planes, D/stride, H/stride, W/stride).
/// </summary>
public sealed class BasicBlock3d : nn.Module<Tensor, Tensor>
{
    /// <summary>Output channels per plane (1 for the basic block).</summary>
    public const int Expansion = 1;

    private readonly Convolution3d conv1;
    private readonly BatchNorm3d bn1;
    private readonly Convolution3d conv2;
    private readonly BatchNorm3d bn2;
    private readonly Sequential? downsample;

    public BasicBlock3d(long inChannels, long planes, long stride = 1, long dilation = 1) : base(nameof(BasicBlock3d))
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(planes, 1, nameof(planes));
        Check.AtLeast(stride, 1, nameof(stride));
        Check.AtLeast(dilation, 1, nameof(dilation));
        conv1 = Layers.Conv3d(inChannels, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn1 = nn.BatchNorm3d(planes);
        conv2 = Layers.Conv3d(planes, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm3d(planes);
        downsample = ResidualShortcut.Create(inChannels, planes * Expansion, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv1.ThenNorm(input, bn1).relu_();
        x = conv2.ThenNorm(x, bn2);
        // In-place add and ReLU on batch norm's fresh output (or, folded for inference, the convolution's): its backward does not need it.
        x.add_(downsample is null ? input : downsample.call(input));
        return x.relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ResNet bottleneck block in 3D (He et al. 2016): 1×1×1 conv → BN → ReLU → 3×3×3 conv (stride,
/// dilation) → BN → ReLU → 1×1×1 conv to 4·planes → BN, plus a shortcut, → ReLU.
/// Input (B, inChannels, D, H, W) → output (B, 4·planes, D/stride, H/stride, W/stride).
/// </summary>
public sealed class Bottleneck3d : nn.Module<Tensor, Tensor>
{
    /// <summary>Output channels per plane.</summary>
    public const int Expansion = 4;

    private readonly Convolution3d conv1;
    private readonly BatchNorm3d bn1;
    private readonly Convolution3d conv2;
    private readonly BatchNorm3d bn2;
    private readonly Convolution3d conv3;
    private readonly BatchNorm3d bn3;
    private readonly Sequential? downsample;

    public Bottleneck3d(long inChannels, long planes, long stride = 1, long dilation = 1) : base(nameof(Bottleneck3d))
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(planes, 1, nameof(planes));
        Check.AtLeast(stride, 1, nameof(stride));
        Check.AtLeast(dilation, 1, nameof(dilation));
        conv1 = Layers.Conv3d(inChannels, planes, 1, bias: false);
        bn1 = nn.BatchNorm3d(planes);
        conv2 = Layers.Conv3d(planes, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn2 = nn.BatchNorm3d(planes);
        conv3 = Layers.Conv3d(planes, planes * Expansion, 1, bias: false);
        bn3 = nn.BatchNorm3d(planes * Expansion);
        downsample = ResidualShortcut.Create(inChannels, planes * Expansion, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv1.ThenNorm(input, bn1).relu_();
        x = conv2.ThenNorm(x, bn2).relu_();
        x = conv3.ThenNorm(x, bn3);
        x.add_(downsample is null ? input : downsample.call(input));
        return x.relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>The projection shortcut of a residual block (ResNet's type B).</summary>
internal static class ResidualShortcut
{
    /// <summary>1×1×1 conv (stride) + BN when the block changes channels or resolution; null for identity.</summary>
    public static Sequential? Create(long inChannels, long outChannels, long stride) =>
        stride == 1 && inChannels == outChannels
            ? null
            : nn.Sequential(("0", Layers.Conv3d(inChannels, outChannels, 1, stride: stride, bias: false)),
                            ("1", nn.BatchNorm3d(outChannels)));
}
