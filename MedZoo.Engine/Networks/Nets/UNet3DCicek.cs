using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// UNET3D_CICEK: the original 3D U-Net (Çiçek, Abdulkadir, Lienkamp, Brox and Ronneberger 2016,
/// "3D U-Net: Learning Dense Volumetric Segmentation from Sparse Annotation", arXiv:1606.06650).
/// Analysis path: per level two 3×3×3 conv + BN + ReLU, the second doubling the channels before
/// the 2×2×2 max-pool (level l: f·2^l then f·2^(l+1) channels, f = baseFilters); the bottom level
/// likewise. Synthesis path: per level a 2×2×2 stride-2 transposed conv keeping the channel count,
/// concatenation with the analysis features of that level, two 3×3×3 conv + BN + ReLU to f·2^(l+1);
/// a 1×1×1 conv to classes. With the paper's depth 3 (three poolings) and f = 32 the widths are
/// 32-64, 64-128, 128-256, 256-512 down and 256, 128, 64 up, as in the paper's figure.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). Unlike the paper (valid
/// convolutions, 132×132×116 → 44×44×28), convolutions are padded so the output has the input's
/// size: D, H, W must be divisible by 2^depth and at least 2^(depth+1) (batch norm needs more than
/// one voxel at the bottom level when training with batch 1).
/// </para>
/// <para>
/// Parameters: for 3 inputs, 3 classes, f = 32 and depth 3 this network has 19,075,523; the paper
/// reports 19,069,955, the difference being the 4,672 affine parameters of batch norm (not counted
/// by Caffe's BatchNorm layer) and the 896 biases of the three transposed convs.
/// </para>
/// </summary>
public sealed class UNet3DCicek : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "UNET3D_CICEK";

    /// <summary>The paper's width of the first level.</summary>
    public const int DefaultBaseFilters = 32;

    /// <summary>The paper's number of poolings.</summary>
    public const int DefaultDepth = 3;

    /// <summary>Deepest supported network (2^6 = 64-voxel divisibility is already more than patches allow on CPU).</summary>
    public const int MaxDepth = 6;

    private readonly ModuleList<Sequential> analysis;
    private readonly ModuleList<TransposedConvolution3d> upconvs;
    private readonly ModuleList<Sequential> synthesis;
    private readonly Convolution3d head;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="baseFilters">Width f of the first convolution, >= 1.</param>
    /// <param name="depth">Number of 2×2×2 max-poolings, 1 to <see cref="MaxDepth"/>.</param>
    public UNet3DCicek(int inChannels, int classes, int baseFilters = DefaultBaseFilters, int depth = DefaultDepth)
        : base(ZooName, inChannels, classes, LimitsFor(depth))
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.AtLeast(baseFilters, 1, nameof(baseFilters));
        long f = baseFilters;
        analysis = nn.ModuleList<Sequential>();
        long width = inChannels;
        for (var level = 0; level <= depth; level++)
        {
            analysis.Add(ConvBlocks.DoubleConv(width, f << level, f << (level + 1)));
            width = f << (level + 1);
        }
        upconvs = nn.ModuleList<TransposedConvolution3d>();
        synthesis = nn.ModuleList<Sequential>();
        for (var level = depth - 1; level >= 0; level--)
        {
            upconvs.Add(Layers.ConvTranspose3d(width, width, 2, stride: 2));
            var skip = f << (level + 1);
            synthesis.Add(ConvBlocks.DoubleConv(width + skip, skip, skip));
            width = skip;
        }
        head = Layers.Conv3d(width, classes, 1);
        Depth = depth;
        RegisterComponents();
    }

    /// <summary>Number of poolings.</summary>
    public int Depth { get; }

    /// <summary>Divisible by 2^depth, at least 2^(depth+1).</summary>
    public static InputConstraints LimitsFor(int depth)
    {
        if (depth < 1 || depth > MaxDepth)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, $"depth must be in [1, {MaxDepth}], got {depth}");
        return new(1 << depth, 2 << depth,
            $"{depth} max-poolings halve D, H, W, and batch norm needs more than one voxel at the bottom level");
    }

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var skips = new Tensor[Depth];
        var x = input;
        for (var level = 0; level < Depth; level++)
        {
            skips[level] = analysis[level].call(x);
            x = nn.functional.max_pool3d(skips[level], [2, 2, 2], [2, 2, 2]);
        }
        x = analysis[Depth].call(x);
        for (var i = 0; i < Depth; i++)
            x = synthesis[i].call(torch.cat(new[] { upconvs[i].call(x), skips[Depth - 1 - i] }, 1));
        return SegmentationOutput.Of(head.call(x));
    }
}
