using TorchSharp;
using TorchSharp.Modules;
using MedZoo.Engine.Networks.Blocks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// UNET3D: the 3D U-Net variant of Isensee et al. 2017 ("Brain Tumor Segmentation and Radiomics
/// Survival Prediction: Contribution to the BRATS 2017 Challenge", arXiv:1802.10508) as
/// MedicalZooPytorch's Unet3D.py builds it: a context pathway of pre-activation residual blocks
/// (instance norm, leaky ReLU, spatial dropout 0.6) with four stride-2 convolutions, a localization
/// pathway with nearest-neighbour up-sampling, and deep supervision: 1×1×1 segmentation layers at
/// 1/4 and 1/2 resolution are up-sampled and summed into the full-resolution logits.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). D, H, W must be divisible by 16
/// and at least 32 (instance norm needs more than one voxel at the 1/16-resolution bottleneck).
/// <see cref="SegmentationNetwork.ForwardWithAuxiliary"/> returns the deep-supervision sums as
/// auxiliary logits: (B, classes, D/2, H/2, W/2) then (B, classes, D/4, H/4, W/4).
/// </para>
/// <para>
/// Same layers and parameter count as the reference for every channel/class count (8 base filters
/// by default; MedicalZoo's create_model fixes 8). Like the reference, each context level applies
/// its one pre-activation conv block twice (shared weights) around the dropout.
/// </para>
/// </summary>
public sealed class UNet3D : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "UNET3D";

    /// <summary>MedicalZoo's base_n_filter.</summary>
    public const int DefaultBaseFilters = 8;

    private readonly Convolution3d conv3d_c1_1;
    private readonly Convolution3d conv3d_c1_2;
    private readonly Sequential lrelu_conv_c1;
    private readonly InstanceNorm3d inorm3d_c1;
    private readonly Convolution3d conv3d_c2;
    private readonly Sequential norm_lrelu_conv_c2;
    private readonly InstanceNorm3d inorm3d_c2;
    private readonly Convolution3d conv3d_c3;
    private readonly Sequential norm_lrelu_conv_c3;
    private readonly InstanceNorm3d inorm3d_c3;
    private readonly Convolution3d conv3d_c4;
    private readonly Sequential norm_lrelu_conv_c4;
    private readonly InstanceNorm3d inorm3d_c4;
    private readonly Convolution3d conv3d_c5;
    private readonly Sequential norm_lrelu_conv_c5;
    private readonly Sequential norm_lrelu_upscale_conv_norm_lrelu_l0;
    private readonly Convolution3d conv3d_l0;
    private readonly InstanceNorm3d inorm3d_l0;
    private readonly Sequential conv_norm_lrelu_l1;
    private readonly Convolution3d conv3d_l1;
    private readonly Sequential norm_lrelu_upscale_conv_norm_lrelu_l1;
    private readonly Sequential conv_norm_lrelu_l2;
    private readonly Convolution3d conv3d_l2;
    private readonly Sequential norm_lrelu_upscale_conv_norm_lrelu_l2;
    private readonly Sequential conv_norm_lrelu_l3;
    private readonly Convolution3d conv3d_l3;
    private readonly Sequential norm_lrelu_upscale_conv_norm_lrelu_l3;
    private readonly Sequential conv_norm_lrelu_l4;
    private readonly Convolution3d conv3d_l4;
    private readonly Convolution3d ds2_1x1_conv3d;
    private readonly Convolution3d ds3_1x1_conv3d;
    private readonly Dropout3d dropout3d;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="baseFilters">Channels of the first level (doubled per level up to 16×), >= 1.</param>
    public UNet3D(int inChannels, int classes, int baseFilters = DefaultBaseFilters)
        : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.AtLeast(baseFilters, 1, nameof(baseFilters));
        long f = baseFilters;
        conv3d_c1_1 = Conv(inChannels, f);
        conv3d_c1_2 = Conv(f, f);
        lrelu_conv_c1 = nn.Sequential(("0", nn.LeakyReLU()), ("1", Conv(f, f)));
        inorm3d_c1 = nn.InstanceNorm3d(f);
        conv3d_c2 = Conv(f, 2 * f, stride: 2);
        norm_lrelu_conv_c2 = NormLReluConv(2 * f, 2 * f);
        inorm3d_c2 = nn.InstanceNorm3d(2 * f);
        conv3d_c3 = Conv(2 * f, 4 * f, stride: 2);
        norm_lrelu_conv_c3 = NormLReluConv(4 * f, 4 * f);
        inorm3d_c3 = nn.InstanceNorm3d(4 * f);
        conv3d_c4 = Conv(4 * f, 8 * f, stride: 2);
        norm_lrelu_conv_c4 = NormLReluConv(8 * f, 8 * f);
        inorm3d_c4 = nn.InstanceNorm3d(8 * f);
        conv3d_c5 = Conv(8 * f, 16 * f, stride: 2);
        norm_lrelu_conv_c5 = NormLReluConv(16 * f, 16 * f);
        norm_lrelu_upscale_conv_norm_lrelu_l0 = NormLReluUpscaleConvNormLRelu(16 * f, 8 * f);
        conv3d_l0 = Conv(8 * f, 8 * f, kernel: 1);
        inorm3d_l0 = nn.InstanceNorm3d(8 * f);
        conv_norm_lrelu_l1 = ConvNormLRelu(16 * f, 16 * f);
        conv3d_l1 = Conv(16 * f, 8 * f, kernel: 1);
        norm_lrelu_upscale_conv_norm_lrelu_l1 = NormLReluUpscaleConvNormLRelu(8 * f, 4 * f);
        conv_norm_lrelu_l2 = ConvNormLRelu(8 * f, 8 * f);
        conv3d_l2 = Conv(8 * f, 4 * f, kernel: 1);
        norm_lrelu_upscale_conv_norm_lrelu_l2 = NormLReluUpscaleConvNormLRelu(4 * f, 2 * f);
        conv_norm_lrelu_l3 = ConvNormLRelu(4 * f, 4 * f);
        conv3d_l3 = Conv(4 * f, 2 * f, kernel: 1);
        norm_lrelu_upscale_conv_norm_lrelu_l3 = NormLReluUpscaleConvNormLRelu(2 * f, f);
        conv_norm_lrelu_l4 = ConvNormLRelu(2 * f, 2 * f);
        conv3d_l4 = Conv(2 * f, classes, kernel: 1);
        ds2_1x1_conv3d = Conv(8 * f, classes, kernel: 1);
        ds3_1x1_conv3d = Conv(4 * f, classes, kernel: 1);
        dropout3d = nn.Dropout3d(0.6);
        RegisterComponents();
    }

    /// <summary>Divisible by 16 (four stride-2 convs), at least 32 (instance norm at the bottleneck).</summary>
    public static InputConstraints Limits { get; } =
        new(16, 32, "four stride-2 convolutions halve D, H, W, and instance norm needs more than one voxel at the 1/16 bottleneck");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        // Level 1 context: pre-activation residual block.
        var x = conv3d_c1_1.call(input);
        var residual = x;
        x = lrelu_conv_c1.call(dropout3d.call(conv3d_c1_2.call(F.leaky_relu(x))));
        x.add_(residual);   // conv output: its backward needs only its input
        var context1 = F.leaky_relu(x);
        x = F.leaky_relu(inorm3d_c1.call(x), inplace: true);

        var context2 = ContextLevel(conv3d_c2, norm_lrelu_conv_c2, inorm3d_c2, x);
        var context3 = ContextLevel(conv3d_c3, norm_lrelu_conv_c3, inorm3d_c3, context2);
        var context4 = ContextLevel(conv3d_c4, norm_lrelu_conv_c4, inorm3d_c4, context3);
        x = ContextLevel(conv3d_c5, norm_lrelu_conv_c5, null, context4);

        x = norm_lrelu_upscale_conv_norm_lrelu_l0.call(x);
        x = F.leaky_relu(inorm3d_l0.call(conv3d_l0.call(x)), inplace: true);

        // Localization pathway; levels 2 and 3 feed the deep-supervision layers.
        x = conv_norm_lrelu_l1.call(torch.cat(new[] { x, context4 }, 1));
        x = norm_lrelu_upscale_conv_norm_lrelu_l1.call(conv3d_l1.call(x));
        var ds2 = conv_norm_lrelu_l2.call(torch.cat(new[] { x, context3 }, 1));
        x = norm_lrelu_upscale_conv_norm_lrelu_l2.call(conv3d_l2.call(ds2));
        var ds3 = conv_norm_lrelu_l3.call(torch.cat(new[] { x, context2 }, 1));
        x = norm_lrelu_upscale_conv_norm_lrelu_l3.call(conv3d_l3.call(ds3));
        x = conv_norm_lrelu_l4.call(torch.cat(new[] { x, context1 }, 1));
        var logits = conv3d_l4.call(x);

        var quarter = ds2_1x1_conv3d.call(ds2);                         // (B, classes, D/4, H/4, W/4)
        var half = ds3_1x1_conv3d.call(ds3).add_(Upsample2(quarter));    // (B, classes, D/2, H/2, W/2)
        logits.add_(Upsample2(half));
        return auxiliary ? new SegmentationOutput(logits, [half, quarter]) : SegmentationOutput.Of(logits);
    }

    private Tensor ContextLevel(Convolution3d down, Sequential block, InstanceNorm3d? norm, Tensor x)
    {
        x = down.call(x);
        var residual = x;
        x = block.call(dropout3d.call(block.call(x)));
        x.add_(residual);
        return norm is null ? x : F.leaky_relu(norm.call(x), inplace: true);
    }

    private static Tensor Upsample2(Tensor x) =>
        F.interpolate(x, scale_factor: [2.0, 2.0, 2.0], mode: InterpolationMode.Nearest);

    private static Convolution3d Conv(long inChannels, long outChannels, long kernel = 3, long stride = 1) =>
        Layers.Conv3d(inChannels, outChannels, kernel, stride: stride, padding: kernel / 2, bias: false);

    private static Sequential NormLReluConv(long inChannels, long outChannels) =>
        nn.Sequential(("0", nn.InstanceNorm3d(inChannels)), ("1", nn.LeakyReLU(inplace: true)), ("2", Conv(inChannels, outChannels)));

    private static Sequential ConvNormLRelu(long inChannels, long outChannels) =>
        nn.Sequential(("0", Conv(inChannels, outChannels)), ("1", nn.InstanceNorm3d(outChannels)), ("2", nn.LeakyReLU(inplace: true)));

    private static Sequential NormLReluUpscaleConvNormLRelu(long inChannels, long outChannels) =>
        nn.Sequential(
            ("0", nn.InstanceNorm3d(inChannels)),
            ("1", nn.LeakyReLU(inplace: true)),
            ("2", nn.Upsample(scale_factor: [2.0, 2.0, 2.0], mode: UpsampleMode.Nearest)),
            ("3", Conv(inChannels, outChannels)),
            ("4", nn.InstanceNorm3d(outChannels)),
            ("5", nn.LeakyReLU(inplace: true)));
}
