using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// 3D convolution, (B, C_in, D, H, W) → (B, C_out, D', H', W'), with the parameters and
/// initialisation of torch.nn.Conv3d (checkpoint keys <c>weight</c> and <c>bias</c>), routed through
/// <see cref="CpuConvolution"/> so that batched CPU calls stay exact.
/// </summary>
public sealed class Convolution3d : nn.Module<Tensor, Tensor>
{
    private readonly ConvolutionSpec _spec;

    /// <summary>Kernel weights (C_out, C_in / groups, k, k, k).</summary>
    public Parameter weight;

    /// <summary>Bias (C_out), or null.</summary>
    public Parameter? bias;

    public Convolution3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                         long dilation = 1, long groups = 1, bool hasBias = true) : base(nameof(Convolution3d))
    {
        CpuConvolution.CheckShape(inChannels, outChannels, kernelSize, groups);
        InChannels = inChannels;
        OutChannels = outChannels;
        _spec = new ConvolutionSpec(transposed: false, stride, padding, outputPadding: 0, dilation, groups);
        weight = NewParameter([outChannels, inChannels / groups, kernelSize, kernelSize, kernelSize]);
        bias = hasBias ? NewParameter([outChannels]) : null;
        ParameterInitialization.Default(weight, bias, (inChannels / groups) * kernelSize * kernelSize * kernelSize);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    /// <summary>The layer's settings (for exporters).</summary>
    internal ConvolutionSpec Spec => _spec;

    public override Tensor forward(Tensor input) => CpuConvolution.Apply(input, weight, bias, _spec);

    /// <summary>
    /// <paramref name="norm"/>(this(<paramref name="input"/>)). For inference (under <see cref="CpuConvolution.FreezeWeights"/>,
    /// without gradients, the norm in evaluation mode) the norm is folded into this layer's weights and bias once per
    /// scope, which saves a pass over every output (see <see cref="CpuConvolution.FoldedNorm"/>).
    /// </summary>
    public Tensor ThenNorm(Tensor input, BatchNorm norm) =>
        CpuConvolution.FoldedNorm(weight, bias, norm, transposed: false, _spec.Groups) is { } folded
            ? CpuConvolution.Apply(input, folded.Weight, folded.Bias, _spec)
            : norm.call(call(input));

    // A module owns its parameters: built inside a caller's dispose scope (models often are), they
    // must not be disposed when that scope ends.
    internal static Parameter NewParameter(long[] shape)
    {
        using var data = empty(shape);
        var parameter = new Parameter(data);
        parameter.DetachFromDisposeScope();
        return parameter;
    }
}

/// <summary>
/// Transposed 3D convolution (up-sampling), with the parameters and initialisation of
/// torch.nn.ConvTranspose3d (weight (C_in, C_out / groups, k, k, k), keys <c>weight</c>/<c>bias</c>),
/// routed through <see cref="CpuConvolution"/>.
/// </summary>
public sealed class TransposedConvolution3d : nn.Module<Tensor, Tensor>
{
    private readonly ConvolutionSpec _spec;

    /// <summary>Kernel weights (C_in, C_out / groups, k, k, k).</summary>
    public Parameter weight;

    /// <summary>Bias (C_out), or null.</summary>
    public Parameter? bias;

    public TransposedConvolution3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                   long outputPadding = 0, long dilation = 1, long groups = 1, bool hasBias = true)
        : base(nameof(TransposedConvolution3d))
    {
        CpuConvolution.CheckShape(inChannels, outChannels, kernelSize, groups);
        InChannels = inChannels;
        OutChannels = outChannels;
        _spec = new ConvolutionSpec(transposed: true, stride, padding, outputPadding, dilation, groups);
        weight = Convolution3d.NewParameter([inChannels, outChannels / groups, kernelSize, kernelSize, kernelSize]);
        bias = hasBias ? Convolution3d.NewParameter([outChannels]) : null;
        // torch computes fan_in from weight.size(1) for transposed convolutions too.
        ParameterInitialization.Default(weight, bias, (outChannels / groups) * kernelSize * kernelSize * kernelSize);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    /// <summary>The layer's settings (for exporters).</summary>
    internal ConvolutionSpec Spec => _spec;

    public override Tensor forward(Tensor input) => CpuConvolution.Apply(input, weight, bias, _spec);

    /// <summary><paramref name="norm"/>(this(<paramref name="input"/>)), folded for inference as <see cref="Convolution3d.ThenNorm"/> does.</summary>
    public Tensor ThenNorm(Tensor input, BatchNorm norm) =>
        CpuConvolution.FoldedNorm(weight, bias, norm, transposed: true, _spec.Groups) is { } folded
            ? CpuConvolution.Apply(input, folded.Weight, folded.Bias, _spec)
            : norm.call(call(input));
}

/// <summary>Factories with torch.nn's names and argument names, so network code reads like the papers' reference code.</summary>
public static class Layers
{
    /// <summary>A <see cref="Convolution3d"/> (cubic kernel, stride, padding, dilation).</summary>
    public static Convolution3d Conv3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                      long dilation = 1, long groups = 1, bool bias = true) =>
        new(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias);

    /// <summary>A <see cref="TransposedConvolution3d"/> (cubic kernel).</summary>
    public static TransposedConvolution3d ConvTranspose3d(long inChannels, long outChannels, long kernelSize, long stride = 1,
                                                          long padding = 0, long output_padding = 0, long dilation = 1,
                                                          long groups = 1, bool bias = true) =>
        new(inChannels, outChannels, kernelSize, stride, padding, output_padding, dilation, groups, bias);
}
