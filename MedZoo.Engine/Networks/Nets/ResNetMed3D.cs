using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// RESNETMED3D: the Med3D segmentation network (Chen, Ma and Zheng 2019, "Med3D: Transfer Learning
/// for 3D Medical Image Analysis", arXiv:1904.00625) as MedicalZoo's ResNet3DMedNet.py: a 3D ResNet
/// encoder (7×7×7 stride-2 conv, 3×3×3 stride-2 max-pool, four stages of 64, 128, 256, 512 planes;
/// stage 2 strides by 2, stages 3 and 4 keep the resolution with dilations 2 and 4) and a decoder of
/// three 2×2×2 stride-2 transposed convs (256 channels, BN, ReLU), a 3×3×3 conv to 128 and a 1×1×1
/// classifier. Depth 18 (what MedicalZoo's create_model builds: 36,166,912 parameters for 2 inputs and
/// 4 classes) by default; 10, 18 and 34 use basic blocks, 50, 101, 152 and 200 bottlenecks.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). D, H, W divisible by 8 and at
/// least 16.
/// </para>
/// <para>
/// Same layers and parameter count as the reference. One difference for depths >= 50: the
/// reference's bottleneck accepts a dilation but never applies it; here stages 3 and 4 are dilated
/// for every depth, as the paper describes (no parameter changes).
/// </para>
/// </summary>
public sealed class ResNetMed3D : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "RESNETMED3D";

    /// <summary>The depth MedicalZoo's create_model builds (lib/medzoo/__init__.py: <c>depth = 18</c>).</summary>
    public const int DefaultDepth = 18;

    /// <summary>
    /// The depth of a checkpoint that records none: MedZoo used 10 as the default before it followed
    /// create_model's 18, and checkpoints record the depth explicitly since then.
    /// </summary>
    public const int UnrecordedCheckpointDepth = 10;

    /// <summary>Blocks per stage for each supported depth.</summary>
    public static IReadOnlyDictionary<int, int[]> StageBlocks { get; } = new Dictionary<int, int[]>
    {
        [10] = [1, 1, 1, 1], [18] = [2, 2, 2, 2], [34] = [3, 4, 6, 3], [50] = [3, 4, 6, 3],
        [101] = [3, 4, 23, 3], [152] = [3, 8, 36, 3], [200] = [3, 24, 36, 3],
    };

    private readonly Convolution3d conv1;
    private readonly BatchNorm3d bn1;
    private readonly MaxPool3d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Sequential segm;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="depth">ResNet depth: 10, 18, 34, 50, 101, 152 or 200.</param>
    public ResNetMed3D(int inChannels, int classes, int depth = DefaultDepth) : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        if (!StageBlocks.TryGetValue(depth, out var blocks))
            throw new ArgumentOutOfRangeException(nameof(depth), depth,
                $"depth must be one of {string.Join(", ", StageBlocks.Keys)}, got {depth}");
        var bottleneck = depth >= 50;
        var expansion = bottleneck ? Bottleneck3d.Expansion : BasicBlock3d.Expansion;
        conv1 = Layers.Conv3d(inChannels, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm3d(64);
        maxpool = nn.MaxPool3d(3, stride: 2, padding: 1);
        long width = 64;
        layer1 = Stage(ref width, 64, blocks[0], stride: 1, dilation: 1, bottleneck);
        layer2 = Stage(ref width, 128, blocks[1], stride: 2, dilation: 1, bottleneck);
        layer3 = Stage(ref width, 256, blocks[2], stride: 1, dilation: 2, bottleneck);
        layer4 = Stage(ref width, 512, blocks[3], stride: 1, dilation: 4, bottleneck);
        segm = nn.Sequential(
            ("transp_1", UpStage(512 * expansion)),
            ("transp_2", UpStage(256)),
            ("transp_3", UpStage(256)),
            ("conv_1", nn.Sequential(("0", Layers.Conv3d(256, 128, 3, padding: 1, bias: false)),
                                     ("1", nn.BatchNorm3d(128)), ("2", nn.ReLU(inplace: true)))),
            ("conv_final", Layers.Conv3d(128, classes, 1, bias: false)));
        RegisterComponents();

        // The reference's initialisation: He-normal (fan-out) convolution weights. After registration,
        // because modules() lists registered submodules only.
        ParameterInitialization.HeNormalConvolutions(this, nn.init.FanInOut.FanOut, nn.init.NonlinearityType.ReLU);
    }

    /// <summary>Divisible by 8, at least 16.</summary>
    public static InputConstraints Limits { get; } =
        new(8, 16, "the stem conv, the max-pool and stage 2 halve D, H, W, and batch norm needs more than one voxel at 1/8 resolution");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var x = maxpool.call(conv1.ThenNorm(input, bn1).relu_());
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return SegmentationOutput.Of(segm.call(x));
    }

    private static Sequential Stage(ref long width, long planes, int count, long stride, long dilation, bool bottleneck)
    {
        var stage = nn.Sequential();
        for (var i = 0; i < count; i++)
        {
            var s = i == 0 ? stride : 1;
            nn.Module<Tensor, Tensor> block = bottleneck
                ? new Bottleneck3d(width, planes, s, dilation)
                : new BasicBlock3d(width, planes, s, dilation);
            stage.append(i.ToString(System.Globalization.CultureInfo.InvariantCulture), block);
            width = planes * (bottleneck ? Bottleneck3d.Expansion : BasicBlock3d.Expansion);
        }
        return stage;
    }

    private static Sequential UpStage(long inChannels) =>
        nn.Sequential(("0", Layers.ConvTranspose3d(inChannels, 256, 2, stride: 2)), ("1", nn.BatchNorm3d(256)),
                      ("2", nn.ReLU(inplace: true)));
}
