using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// V-Net's convolution unit (Milletari et al. 2016): 5×5×5 padded conv → BN → PReLU (one slope per
/// channel). (B, C, D, H, W) → (B, C, D, H, W).
/// </summary>
public sealed class VNetConv : nn.Module<Tensor, Tensor>
{
    private readonly PReLU relu1;
    private readonly Convolution3d conv1;
    private readonly BatchNorm3d bn1;

    public VNetConv(long channels) : base(nameof(VNetConv))
    {
        relu1 = nn.PReLU(channels);
        conv1 = Layers.Conv3d(channels, channels, 5, padding: 2);
        bn1 = nn.BatchNorm3d(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return relu1.call(conv1.ThenNorm(input, bn1)).MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="count"/> units in a row, named 0, 1, ….</summary>
    public static Sequential Stack(long channels, int count)
    {
        var ops = nn.Sequential();
        for (var i = 0; i < count; i++) ops.append(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new VNetConv(channels));
        return ops;
    }
}

/// <summary>
/// V-Net's input stage: 5×5×5 conv to 16 channels → BN, plus the input repeated to 16 channels as a
/// residual, → PReLU. (B, inChannels, D, H, W) → (B, 16, D, H, W).
/// MedicalZoo repeats the input <c>16 / inChannels</c> times (integer division), which yields 15
/// channels for 3 inputs and crashes; here channel i of the residual is input channel
/// i mod inChannels, which is the same for 1, 2, 4, 8 and 16 inputs and works for any count
/// (with more than 16 inputs the residual carries the first 16).
/// </summary>
public sealed class VNetInputTransition : nn.Module<Tensor, Tensor>
{
    /// <summary>Output channels.</summary>
    public const int Features = 16;

    private readonly Convolution3d conv1;
    private readonly BatchNorm3d bn1;
    private readonly PReLU relu1;
    private readonly long inChannels;

    public VNetInputTransition(long inChannels) : base(nameof(VNetInputTransition))
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        this.inChannels = inChannels;
        conv1 = Layers.Conv3d(inChannels, Features, 5, padding: 2);
        bn1 = nn.BatchNorm3d(Features);
        relu1 = nn.PReLU(Features);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var repeats = (Features + inChannels - 1) / inChannels;
        var residual = repeats == 1 ? input.narrow(1, 0, Features) : input.repeat(1, repeats, 1, 1, 1).narrow(1, 0, Features);
        // Batch norm's backward does not need its output, so the residual can be added in place.
        var x = conv1.ThenNorm(input, bn1).add_(residual);
        return relu1.call(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// V-Net's down-sampling stage: 2×2×2 stride-2 conv doubling the channels → BN → PReLU, then
/// <c>convs</c> <see cref="VNetConv"/> units with a residual connection, → PReLU.
/// (B, C, D, H, W) → (B, 2C, D/2, H/2, W/2).
/// </summary>
public sealed class VNetDownTransition : nn.Module<Tensor, Tensor>
{
    private readonly Convolution3d down_conv;
    private readonly BatchNorm3d bn1;
    private readonly PReLU relu1;
    private readonly PReLU relu2;
    private readonly Dropout3d? do1;
    private readonly Sequential ops;

    public VNetDownTransition(long inChannels, int convs, bool dropout) : base(nameof(VNetDownTransition))
    {
        Check.AtLeast(convs, 1, nameof(convs));
        var outChannels = 2 * inChannels;
        down_conv = Layers.Conv3d(inChannels, outChannels, 2, stride: 2);
        bn1 = nn.BatchNorm3d(outChannels);
        relu1 = nn.PReLU(outChannels);
        relu2 = nn.PReLU(outChannels);
        if (dropout) do1 = nn.Dropout3d();
        ops = VNetConv.Stack(outChannels, convs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var down = relu1.call(down_conv.ThenNorm(input, bn1));
        var x = ops.call(do1 is null ? down : do1.call(down));
        // ops ends in a PReLU, whose backward needs its input, not its output.
        return relu2.call(x.add_(down)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// V-Net's up-sampling stage: 2×2×2 stride-2 transposed conv to outChannels/2 → BN → PReLU,
/// concatenated with the (dropped-out) skip features of outChannels/2 channels, then
/// <c>convs</c> <see cref="VNetConv"/> units with a residual connection, → PReLU.
/// (B, inChannels, D, H, W) and skip (B, outChannels/2, 2D, 2H, 2W) → (B, outChannels, 2D, 2H, 2W).
/// </summary>
public sealed class VNetUpTransition : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TransposedConvolution3d up_conv;
    private readonly BatchNorm3d bn1;
    private readonly Dropout3d? do1;
    private readonly Dropout3d do2;
    private readonly PReLU relu1;
    private readonly PReLU relu2;
    private readonly Sequential ops;

    public VNetUpTransition(long inChannels, long outChannels, int convs, bool dropout) : base(nameof(VNetUpTransition))
    {
        Check.AtLeast(convs, 1, nameof(convs));
        up_conv = Layers.ConvTranspose3d(inChannels, outChannels / 2, 2, stride: 2);
        bn1 = nn.BatchNorm3d(outChannels / 2);
        if (dropout) do1 = nn.Dropout3d();
        do2 = nn.Dropout3d();
        relu1 = nn.PReLU(outChannels / 2);
        relu2 = nn.PReLU(outChannels);
        ops = VNetConv.Stack(outChannels, convs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor skip)
    {
        using var scope = NewDisposeScope();
        var up = relu1.call(up_conv.ThenNorm(do1 is null ? input : do1.call(input), bn1));
        var cat = torch.cat(new[] { up, do2.call(skip) }, 1);
        return relu2.call(ops.call(cat).add_(cat)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// V-Net's output stage: 5×5×5 conv to classes → BN → PReLU → 1×1×1 conv.
/// (B, inChannels, D, H, W) → logits (B, classes, D, H, W).
/// </summary>
public sealed class VNetOutputTransition : nn.Module<Tensor, Tensor>
{
    private readonly Convolution3d conv1;
    private readonly BatchNorm3d bn1;
    private readonly Convolution3d conv2;
    private readonly PReLU relu1;

    public VNetOutputTransition(long inChannels, long classes) : base(nameof(VNetOutputTransition))
    {
        conv1 = Layers.Conv3d(inChannels, classes, 5, padding: 2);
        bn1 = nn.BatchNorm3d(classes);
        conv2 = Layers.Conv3d(classes, classes, 1);
        relu1 = nn.PReLU(classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return conv2.call(relu1.call(conv1.ThenNorm(input, bn1))).MoveToOuterDisposeScope();
    }
}
