using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// SKIPDENSENET3D: 3D densely connected network with skip connections (Bui, Shin and Moon 2017,
/// "3D Densely Convolutional Networks for Volumetric Segmentation", arXiv:1709.03199) as
/// MedicalZoo's SkipDenseNet3D.py: three padded 3×3×3 convs (32 channels), a 2×2×2 stride-2 conv,
/// four dense blocks of 4 bottleneck layers (growth 16, bottleneck 64) separated by transitions
/// (BN-ReLU-1×1×1 conv halving the channels, BN-ReLU-2×2×2 stride-2 conv); each block's output is
/// up-sampled to full resolution by a transposed conv to <c>classes</c> channels; those four maps
/// and the first features are concatenated and classified by BN-ReLU-1×1×1 conv.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). D, H, W divisible by 16 and at
/// least 32 (batch norm needs more than one voxel in the last block when training with batch 1).
/// </para>
/// <para>
/// Differences from the reference: MedicalZoo's create_model never passes in_channels (its model
/// always expects 2 inputs); here inChannels is honoured. The reference's up-sampling transposed
/// convs use groups = classes, which requires the block widths (96, 112, 120, 124) to be multiples
/// of classes, so it fails for 3, 5, 6, 7, 9… classes; here groups = gcd(width, classes), which is
/// the reference's value whenever the reference works. Parameter count equals the reference's for
/// 2 inputs and 2 or 4 classes.
/// </para>
/// </summary>
public sealed class SkipDenseNet3D : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "SKIPDENSENET3D";

    /// <summary>Dense-layer dropout MedicalZoo uses.</summary>
    public const double DefaultDropRate = 0.1;

    private const long GrowthRate = 16;
    private const long InitFeatures = 32;
    private const long BottleneckFactor = 4;
    private static readonly int[] BlockLayers = [4, 4, 4, 4];

    private readonly Sequential features;
    private readonly Sequential features_bn;
    private readonly Convolution3d conv_pool_first;
    private readonly ModuleList<Sequential> dense_blocks;
    private readonly ModuleList<Sequential> transit_blocks;
    private readonly ModuleList<TransposedConvolution3d> upsampling_blocks;
    private readonly BatchNorm3d bn_class;
    private readonly Convolution3d conv_class;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="dropRate">Dropout after each dense layer, in [0, 1).</param>
    public SkipDenseNet3D(int inChannels, int classes, double dropRate = DefaultDropRate)
        : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.Probability(dropRate, nameof(dropRate));
        features = nn.Sequential(
            ("conv0", Layers.Conv3d(inChannels, InitFeatures, 3, padding: 1, bias: false)),
            ("norm0", nn.BatchNorm3d(InitFeatures)),
            ("relu0", nn.ReLU(inplace: true)),
            ("conv1", Layers.Conv3d(InitFeatures, InitFeatures, 3, padding: 1, bias: false)),
            ("norm1", nn.BatchNorm3d(InitFeatures)),
            ("relu1", nn.ReLU(inplace: true)),
            ("conv2", Layers.Conv3d(InitFeatures, InitFeatures, 3, padding: 1, bias: false)));
        features_bn = nn.Sequential(("norm2", nn.BatchNorm3d(InitFeatures)), ("relu2", nn.ReLU(inplace: true)));
        conv_pool_first = Layers.Conv3d(InitFeatures, InitFeatures, 2, stride: 2, bias: false);

        dense_blocks = nn.ModuleList<Sequential>();
        transit_blocks = nn.ModuleList<Sequential>();
        upsampling_blocks = nn.ModuleList<TransposedConvolution3d>();
        var width = InitFeatures;
        for (var i = 0; i < BlockLayers.Length; i++)
        {
            dense_blocks.Add(DenseBlock.Create(width, BlockLayers[i], GrowthRate, dropRate, BottleneckFactor * GrowthRate, out width));
            var scale = 1L << (i + 1);
            upsampling_blocks.Add(Layers.ConvTranspose3d(width, classes, scale + 2, stride: scale, padding: 1,
                                                     groups: GreatestCommonDivisor(width, classes), bias: false));
            if (i == BlockLayers.Length - 1) break;
            var half = width / 2;
            transit_blocks.Add(nn.Sequential(
                ("norm", nn.BatchNorm3d(width)),
                ("relu", nn.ReLU(inplace: true)),
                ("conv", Layers.Conv3d(width, half, 1, bias: false)),
                ("pool_norm", nn.BatchNorm3d(half)),
                ("pool_relu", nn.ReLU(inplace: true)),
                ("pool", Layers.Conv3d(half, half, 2, stride: 2))));
            width = half;
        }
        var fused = classes * BlockLayers.Length + InitFeatures;
        bn_class = nn.BatchNorm3d(fused);
        conv_class = Layers.Conv3d(fused, classes, 1);

        RegisterComponents();

        // The reference's initialisation: He-normal convolution weights (transposed convs keep the default).
        // After registration, because modules() lists registered submodules only.
        ParameterInitialization.HeNormalConvolutions(this);
    }

    /// <summary>Divisible by 16, at least 32.</summary>
    public static InputConstraints Limits { get; } =
        new(16, 32, "four stride-2 convolutions halve D, H, W, and batch norm needs more than one voxel in the 1/16-resolution block");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var first = features.call(input);
        var x = conv_pool_first.call(features_bn.call(first));
        var fused = new Tensor[dense_blocks.Count + 1];
        for (var i = 0; i < dense_blocks.Count; i++)
        {
            x = dense_blocks[i].call(x);
            fused[i] = upsampling_blocks[i].call(x);
            if (i < transit_blocks.Count) x = transit_blocks[i].call(x);
        }
        fused[^1] = first;
        var logits = conv_class.call(bn_class.call(torch.cat(fused, 1)).relu_());
        return SegmentationOutput.Of(logits);
    }

    private static long GreatestCommonDivisor(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
