using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// DENSEVOXELNET: DenseVoxNet (Yu et al. 2017, "Automatic 3D Cardiovascular MR Segmentation with
/// Densely-Connected Volumetric ConvNets", arXiv:1708.00573) as MedicalZoo's DenseVoxelNet.py: a
/// stride-2 1×1×1 conv to 16 channels, a dense block of 12 layers (growth 12, dropout 0.2) → 160
/// channels, a transition (BN-ReLU-1×1×1 conv, 2×2×2 max-pool), a second dense block → 304
/// channels, and BN-ReLU-1×1×1 conv plus two stride-2 transposed convs back to full resolution and a
/// 1×1×1 classifier. An auxiliary side path up-samples the transition's features with one transposed
/// conv and classifies them with the same classifier (shared weights, as the reference).
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). D, H, W divisible by 4 and at
/// least 8. <see cref="SegmentationNetwork.ForwardWithAuxiliary"/> returns the side path's logits,
/// also (B, classes, D, H, W), as the one auxiliary output (the reference returns a tuple, which
/// breaks callers expecting one tensor).
/// </para>
/// <para>Same layers and parameter count as the reference for every channel/class count.</para>
/// </summary>
public sealed class DenseVoxelNet : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "DENSEVOXELNET";

    private const long InitFeatures = 16;
    private const long GrowthRate = 12;
    private const int LayersPerBlock = 12;
    private const double DropRate = 0.2;
    private const long UpFeatures = 64;

    private readonly Convolution3d conv_init;
    private readonly Sequential dense_1;
    private readonly Sequential trans;
    private readonly Sequential dense_2;
    private readonly Sequential up_block;
    private readonly Convolution3d conv_final;
    private readonly TransposedConvolution3d transpose;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    public DenseVoxelNet(int inChannels, int classes) : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        conv_init = Layers.Conv3d(inChannels, InitFeatures, 1, stride: 2, bias: false);
        dense_1 = DenseBlock.Create(InitFeatures, LayersPerBlock, GrowthRate, DropRate, bottleneckChannels: 0, out var width1);
        trans = nn.Sequential(("norm", nn.BatchNorm3d(width1)), ("relu", nn.ReLU(inplace: true)),
                              ("conv", Layers.Conv3d(width1, width1, 1)));
        dense_2 = DenseBlock.Create(width1, LayersPerBlock, GrowthRate, DropRate, bottleneckChannels: 0, out var width2);
        up_block = nn.Sequential(
            ("norm", nn.BatchNorm3d(width2)),
            ("relu", nn.ReLU(inplace: true)),
            ("conv", Layers.Conv3d(width2, width2, 1, bias: false)),
            ("transp_conv_1", Layers.ConvTranspose3d(width2, 128, 2, stride: 2)),
            ("transp_conv_2", Layers.ConvTranspose3d(128, UpFeatures, 2, stride: 2)));
        conv_final = Layers.Conv3d(UpFeatures, classes, 1, bias: false);
        transpose = Layers.ConvTranspose3d(width1, UpFeatures, 2, stride: 2);
        RegisterComponents();
    }

    /// <summary>Divisible by 4, at least 8.</summary>
    public static InputConstraints Limits { get; } =
        new(4, 8, "a stride-2 conv and a 2×2×2 max-pool halve D, H, W twice, and batch norm needs more than one voxel in the second block");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var skip = trans.call(dense_1.call(conv_init.call(input)));
        var pooled = nn.functional.max_pool3d(skip, [2, 2, 2], [2, 2, 2]);
        var logits = conv_final.call(up_block.call(dense_2.call(pooled)));
        if (!auxiliary) return SegmentationOutput.Of(logits);
        var side = conv_final.call(transpose.call(skip));
        return new SegmentationOutput(logits, [side]);
    }
}
