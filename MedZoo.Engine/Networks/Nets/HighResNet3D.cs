using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// HIGHRESNET: HighRes3DNet (Li et al. 2017, "On the Compactness, Efficiency, and Representation of
/// 3D Convolutional Networks: Brain Parcellation as a Pretext Task", arXiv:1707.01992) as
/// MedicalZoo's HighResNet3D.py: full resolution throughout; a 3×3×3 conv to 16 channels, then three
/// groups of three residual blocks of two pre-activation (BN-ReLU) 3×3×3 convs with 16, 32 and 64
/// channels and dilations 1, 2 and 4; channel increases use zero-padded identity shortcuts
/// (the reference's shortcut "A"); a 1×1×1 conv to 80 channels, spatial dropout 0.5 and a
/// BN-ReLU-1×1×1 classifier.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W); any D, H, W >= 2 (no pooling).
/// </para>
/// <para>
/// Same layers, residual wiring and parameter count as the reference for every channel/class count.
/// As in the reference, the first block takes the stem conv's raw output and the first shortcut
/// its BN-ReLU.
/// </para>
/// </summary>
public sealed class HighResNet3D : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "HIGHRESNET";

    private const long Red = 16;
    private const long Dil2 = 32;
    private const long Dil4 = 64;
    private const long OutFeatures = 80;

    private readonly Convolution3d conv_init;
    private readonly Sequential conv_init_norm;
    private readonly Sequential red_blocks1;
    private readonly Sequential red_blocks2;
    private readonly Sequential red_blocks3;
    private readonly Sequential dil2block1;
    private readonly Sequential dil2block2;
    private readonly Sequential dil2block3;
    private readonly Sequential dil4block1;
    private readonly Sequential dil4block2;
    private readonly Sequential dil4block3;
    private readonly Sequential conv_out;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    public HighResNet3D(int inChannels, int classes) : base(ZooName, inChannels, classes, InputConstraints.FullResolution)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        conv_init = Layers.Conv3d(inChannels, Red, 3, padding: 1);
        conv_init_norm = nn.Sequential(("0", nn.BatchNorm3d(Red)), ("1", nn.ReLU(inplace: true)));
        red_blocks1 = Pair(Red, Red, 1);
        red_blocks2 = Pair(Red, Red, 1);
        red_blocks3 = Pair(Red, Red, 1);
        dil2block1 = Pair(Red, Dil2, 2);
        dil2block2 = Pair(Dil2, Dil2, 2);
        dil2block3 = Pair(Dil2, Dil2, 2);
        dil4block1 = Pair(Dil2, Dil4, 4);
        dil4block2 = Pair(Dil4, Dil4, 4);
        dil4block3 = Pair(Dil4, Dil4, 4);
        conv_out = nn.Sequential(
            ("0", Layers.Conv3d(Dil4, OutFeatures, 1)),
            ("1", nn.Dropout3d()),
            ("2", new PreActivationConv(OutFeatures, classes, kernelSize: 1)));
        RegisterComponents();
    }

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var stem = conv_init.call(input);
        var red1 = red_blocks1.call(stem);
        var red2 = red_blocks2.call(red1 + conv_init_norm.call(stem));
        var red3 = red_blocks3.call(red2 + red1);

        var dil21 = dil2block1.call(red3 + red2);
        var dil22 = dil2block2.call(AddZeroPadded(dil21, red3));
        var dil23 = dil2block3.call(dil22 + dil21);

        var dil41 = dil4block1.call(dil23 + dil22);
        var dil42 = dil4block2.call(AddZeroPadded(dil41, dil23));
        var dil43 = dil4block3.call(dil42 + dil41);
        // dil43 is a conv output used nowhere else, so the last sum can be in place.
        return SegmentationOutput.Of(conv_out.call(dil43.add_(dil42)));
    }

    /// <summary>
    /// wide + [0, narrow, 0] along channels: the reference's zero-padded shortcut, without
    /// materialising the zeros (one copy of <paramref name="wide"/> instead of zeros, a concatenation
    /// and a sum).
    /// </summary>
    private static Tensor AddZeroPadded(Tensor wide, Tensor narrow)
    {
        var offset = (wide.shape[1] - narrow.shape[1]) / 2;
        var sum = wide.clone();
        sum.narrow(1, offset, narrow.shape[1]).add_(narrow);
        return sum;
    }

    private static Sequential Pair(long inChannels, long outChannels, long dilation) =>
        nn.Sequential(("0", new PreActivationConv(inChannels, outChannels, 3, dilation)),
                      ("1", new PreActivationConv(outChannels, outChannels, 3, dilation)));
}
