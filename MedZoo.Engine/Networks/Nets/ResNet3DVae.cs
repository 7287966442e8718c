using TorchSharp;
using TorchSharp.Modules;
using MedZoo.Engine.Networks.Blocks;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// RESNET3DVAE: the encoder-decoder with variational auto-encoder regularisation of Myronenko 2018
/// ("3D MRI brain tumor segmentation using autoencoder regularization", arXiv:1810.11654) as
/// MedicalZoo's ResNet3D_VAE.py. Encoder: 3×3×3 conv to b = baseFilters channels, spatial dropout
/// 0.2, residual "green" blocks (GroupNorm(8)-ReLU-conv twice) at b, 2b, 4b, 8b channels (1, 2, 2, 4
/// blocks) separated by stride-2 3×3×3 convs. Decoder: per level a 1×1×1 conv halving the channels,
/// ×2 nearest up-sampling, the encoder features added, one green block; a 3×3×3 conv to classes.
/// VAE branch (from the 1/8-resolution features): GroupNorm-ReLU-stride-2 conv to 16 channels, a
/// dense layer to 8b values split into the latent mean and log-variance (latent size 4b = 128 by
/// default), a sample z = μ + σ·ε (z = μ in eval mode), a dense layer back to 16×(D/16)×(H/16)×(W/16),
/// then up-sampling stages like the decoder's to a reconstruction of the input.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). <c>forward</c> (segmentation only)
/// accepts any D, H, W divisible by 8 and >= 8. <see cref="SegmentationNetwork.ForwardWithAuxiliary"/>
/// also runs the VAE, whose dense layers are sized for one input size: D, H, W must equal
/// <see cref="InputSize"/> (each divisible by 16; default 64³, MedicalZoo's default --dim). It returns
/// <see cref="VaeOutput"/>: reconstruction (B, inChannels, D, H, W), mean and log-variance (B, 4b).
/// </para>
/// <para>
/// Same parameter count as the reference for every channel/class count and input size. Two fixes:
/// the reference computes the log-variance as log() of a linear layer's output, which is NaN
/// wherever that output is negative (it is, at initialisation); here the second half of the output
/// is the log-variance itself, as in the paper. And the reference's green block adds its shortcut
/// after the first convolution (y = conv(h) + h, h = ReLU(GN(conv(ReLU(GN(x)))))), so the block
/// input never reaches the output; here the shortcut carries the block input, as in the paper
/// (y = x + conv(ReLU(GN(conv(ReLU(GN(x))))))).
/// </para>
/// </summary>
public sealed class ResNet3DVae : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "RESNET3DVAE";

    /// <summary>The reference's start_channels.</summary>
    public const int DefaultBaseFilters = 32;

    /// <summary>MedicalZoo's default --dim, used when no input size is given.</summary>
    public static IReadOnlyList<int> DefaultInputSize { get; } = [64, 64, 64];

    /// <summary>Channels of the VAE's bottleneck feature map (the reference's encoder_channels).</summary>
    private const long VaeChannels = 16;

    private readonly Convolution3d blue_1;
    private readonly Dropout3d drop;
    private readonly GreenBlock green_1;
    private readonly Convolution3d down_1;
    private readonly Sequential green_2;
    private readonly Convolution3d down_2;
    private readonly Sequential green_3;
    private readonly Convolution3d down_3;
    private readonly Sequential green_4;
    private readonly Sequential up_1;
    private readonly GreenBlock dec_green_1;
    private readonly Sequential up_2;
    private readonly GreenBlock dec_green_2;
    private readonly Sequential up_3;
    private readonly GreenBlock dec_green_3;
    private readonly Convolution3d blue;
    private readonly Sequential vae_down;
    private readonly LinearLayer vae_linear_1;
    private readonly LinearLayer vae_linear_vu;
    private readonly Sequential vae_vu;
    private readonly Sequential vae_up2;
    private readonly GreenBlock vae_block2;
    private readonly Sequential vae_up1;
    private readonly GreenBlock vae_block1;
    private readonly Sequential vae_up0;
    private readonly GreenBlock vae_block0;
    private readonly Convolution3d vae_end;

    private readonly long latent;
    private readonly long[] vaeGrid;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="baseFilters">Encoder width b at full resolution, a multiple of 8 (GroupNorm uses 8 groups).</param>
    /// <param name="inputSize">(D, H, W) the VAE is built for, each divisible by 16; null: 64³.</param>
    public ResNet3DVae(int inChannels, int classes, int baseFilters = DefaultBaseFilters, IReadOnlyList<int>? inputSize = null)
        : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.MultipleOf(baseFilters, 8, nameof(baseFilters), "group normalisation uses 8 groups");
        var size = inputSize ?? DefaultInputSize;
        if (size.Count != 3)
            throw new ArgumentException($"inputSize must have 3 values (D, H, W), got {size.Count}", nameof(inputSize));
        VaeLimits.ValidateSpatial(ZooName, size.Select(s => (long)s).ToArray(), nameof(inputSize));
        InputSize = size.ToArray();
        long b = baseFilters;
        latent = 4 * b;
        vaeGrid = [size[0] / 16, size[1] / 16, size[2] / 16];
        var vaeCells = VaeChannels * vaeGrid[0] * vaeGrid[1] * vaeGrid[2];

        blue_1 = Layers.Conv3d(inChannels, b, 3, padding: 1);
        drop = nn.Dropout3d(0.2);
        green_1 = new GreenBlock(b);
        down_1 = Down(b, 2 * b);
        green_2 = Greens(2 * b, 2);
        down_2 = Down(2 * b, 4 * b);
        green_3 = Greens(4 * b, 2);
        down_3 = Down(4 * b, 8 * b);
        green_4 = Greens(8 * b, 4);

        up_1 = Up(8 * b, 4 * b);
        dec_green_1 = new GreenBlock(4 * b);
        up_2 = Up(4 * b, 2 * b);
        dec_green_2 = new GreenBlock(2 * b);
        up_3 = Up(2 * b, b);
        dec_green_3 = new GreenBlock(b);
        blue = Layers.Conv3d(b, classes, 3, padding: 1);

        vae_down = nn.Sequential(("0", GreenBlock.GroupNorm8(8 * b)), ("1", nn.ReLU()),
                                 ("2", Layers.Conv3d(8 * b, VaeChannels, 3, stride: 2, padding: 1)));
        vae_linear_1 = new LinearLayer(vaeCells, 2 * latent);
        vae_linear_vu = new LinearLayer(latent, vaeCells);
        vae_vu = Up(VaeChannels, 8 * b);
        vae_up2 = Up(8 * b, 4 * b);
        vae_block2 = new GreenBlock(4 * b);
        vae_up1 = Up(4 * b, 2 * b);
        vae_block1 = new GreenBlock(2 * b);
        vae_up0 = Up(2 * b, b);
        vae_block0 = new GreenBlock(b);
        vae_end = Layers.Conv3d(b, inChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>The (D, H, W) the VAE branch was built for.</summary>
    public IReadOnlyList<int> InputSize { get; }

    /// <summary>Size of the latent vector (half of the dense layer's 8·baseFilters outputs).</summary>
    public long LatentSize => latent;

    /// <summary>Segmentation path: divisible by 8, at least 8.</summary>
    public static InputConstraints Limits { get; } =
        new(8, 8, "three stride-2 convolutions halve D, H, W; the VAE branch (ForwardWithAuxiliary) also needs the exact inputSize, each divisible by 16");

    /// <summary>What the VAE branch needs of its input size.</summary>
    public static InputConstraints VaeLimits { get; } =
        new(16, 16, "the VAE branch halves D, H, W four times before its dense layers");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        if (auxiliary)
        {
            var shape = input.shape;
            if (shape[2] != InputSize[0] || shape[3] != InputSize[1] || shape[4] != InputSize[2])
                throw new ArgumentException(
                    $"{ZooName}: ForwardWithAuxiliary needs spatial size ({string.Join(", ", InputSize)}), the inputSize its VAE " +
                    $"dense layers were built for, got {InputConstraints.Format(shape.AsSpan(2))}", nameof(input));
        }
        var x1 = green_1.call(drop.call(blue_1.call(input)));
        var x2 = green_2.call(down_1.call(x1));
        var x3 = green_3.call(down_2.call(x2));
        var x4 = green_4.call(down_3.call(x3));

        var y = dec_green_1.call(up_1.call(x4).add_(x3));
        y = dec_green_2.call(up_2.call(y).add_(x2));
        y = dec_green_3.call(up_3.call(y).add_(x1));
        var logits = blue.call(y);
        if (!auxiliary) return SegmentationOutput.Of(logits);

        var v = vae_linear_1.call(vae_down.call(x4).flatten(1));
        var mean = v.narrow(1, 0, latent);
        var logVariance = v.narrow(1, latent, latent);
        var z = training ? mean + torch.randn_like(mean) * (0.5 * logVariance).exp() : mean;
        var r = nn.functional.relu(vae_linear_vu.call(z)).view(-1, VaeChannels, vaeGrid[0], vaeGrid[1], vaeGrid[2]);
        r = vae_block2.call(vae_up2.call(vae_vu.call(r)));
        r = vae_block1.call(vae_up1.call(r));
        r = vae_block0.call(vae_up0.call(r));
        return new SegmentationOutput(logits, [], new VaeOutput(vae_end.call(r), mean, logVariance));
    }

    private static Convolution3d Down(long inChannels, long outChannels) =>
        Layers.Conv3d(inChannels, outChannels, 3, stride: 2, padding: 1);

    private static Sequential Greens(long channels, int count)
    {
        var s = nn.Sequential();
        for (var i = 0; i < count; i++) s.append(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new GreenBlock(channels));
        return s;
    }

    /// <summary>1×1×1 conv then ×2 nearest up-sampling (the reference's UpBlock2).</summary>
    private static Sequential Up(long inChannels, long outChannels) =>
        nn.Sequential(("conv_1", Layers.Conv3d(inChannels, outChannels, 1)),
                      ("up_sample_1", nn.Upsample(scale_factor: [2.0, 2.0, 2.0], mode: UpsampleMode.Nearest)));
}

/// <summary>
/// Myronenko's residual "green" block: x + conv(ReLU(GN(conv(ReLU(GN(x)))))) with GroupNorm(8) and
/// padded 3×3×3 convs. (B, C, D, H, W) → (B, C, D, H, W); C must be a multiple of 8.
/// </summary>
internal sealed class GreenBlock : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm norm_1;
    private readonly Convolution3d conv_1;
    private readonly GroupNorm norm_2;
    private readonly Convolution3d conv_2;

    public GreenBlock(long channels) : base(nameof(GreenBlock))
    {
        norm_1 = GroupNorm8(channels);
        conv_1 = Layers.Conv3d(channels, channels, 3, padding: 1);
        norm_2 = GroupNorm8(channels);
        conv_2 = Layers.Conv3d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>
    /// GroupNorm with 8 groups and PyTorch's initial affine parameters (weight 1, bias 0).
    /// TorchSharp 0.107's GroupNorm allocates them with torch.empty and never initialises them, so
    /// they start as whatever the memory held (NaN and 1e33 were observed).
    /// </summary>
    internal static GroupNorm GroupNorm8(long channels)
    {
        var norm = nn.GroupNorm(8, channels);
        using (torch.no_grad())
        {
            norm.weight!.fill_(1);
            norm.bias!.zero_();
        }
        return norm;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // In-place ReLU on group norm's fresh output; group norm's backward needs its input only.
        var x = conv_1.call(nn.functional.relu(norm_1.call(input), inplace: true));
        x = conv_2.call(nn.functional.relu(norm_2.call(x), inplace: true));
        return x.add_(input).MoveToOuterDisposeScope();
    }
}
