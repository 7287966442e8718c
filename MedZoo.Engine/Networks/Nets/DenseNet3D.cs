using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// The densely connected path shared by DENSENET1/2/3 (Dolz et al. 2018, "HyperDense-Net: A
/// hyper-densely connected CNN for multi-modal image segmentation", arXiv:1804.02967, single- and
/// dual-path baselines): a dense block of padded 3×3×3 BN-ReLU-conv layers, then three 1×1×1 convs
/// (400, 200, 150 channels, no bias, dropout 0.5 after each; like the reference, no activation
/// between them). (B, inChannels, D, H, W) → features (B, 150, D, H, W).
/// </summary>
internal static class DensePath
{
    /// <summary>Output channels of <see cref="Features"/>.</summary>
    public const long FeatureChannels = 150;

    /// <summary>Growth rates of the reference's _HyperDenseBlock (9 layers, +450 channels).</summary>
    public static readonly long[] NineLayers = [25, 25, 25, 50, 50, 50, 75, 75, 75];

    /// <summary>Growth rates of the reference's _HyperDenseBlockEarlyFusion (8 layers, +425 channels).</summary>
    public static readonly long[] EightLayers = [25, 25, 50, 50, 50, 75, 75, 75];

    /// <summary>
    /// The path's feature extractor. The reference hard-codes the dense block's output width (451,
    /// 452, 426, 477 or 503 by input-count cases), which is wrong for most inputs; here it is
    /// computed, inChannels + Σ growth.
    /// </summary>
    public static Sequential Features(long inChannels, long[] growth, double dropRate) =>
        nn.Sequential(
            ("denseblock1", DenseBlock.Create(inChannels, growth, dropRate, bottleneckChannels: 0, out var width)),
            ("conv1x1_1", Layers.Conv3d(width, 400, 1, bias: false)),
            ("drop_1", nn.Dropout(0.5)),
            ("conv1x1_2", Layers.Conv3d(400, 200, 1, bias: false)),
            ("drop_2", nn.Dropout(0.5)),
            ("conv1x1_3", Layers.Conv3d(200, FeatureChannels, 1, bias: false)),
            ("drop_3", nn.Dropout(0.5)));
}

/// <summary>
/// DENSENET1: single-path dense network (Dolz et al. 2018, arXiv:1804.02967) as MedicalZoo's
/// SinglePathDenseNet: all modalities enter one dense path (early fusion), then a 1×1×1 classifier.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W); any D, H, W >= 2 (no pooling).
/// </para>
/// <para>
/// Same parameter count as the reference for 1 and 2 inputs. The reference hard-codes the dense
/// block's output width as 452 for 2 inputs and 451 otherwise, so it crashes for 3 or more inputs;
/// here the width is inChannels + 450.
/// </para>
/// </summary>
public sealed class SinglePathDenseNet : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "DENSENET1";

    /// <summary>Dense-layer dropout MedicalZoo uses.</summary>
    public const double DefaultDropRate = 0.1;

    private readonly Sequential features;
    private readonly Convolution3d classifier;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="dropRate">Dropout after each dense layer, in [0, 1).</param>
    public SinglePathDenseNet(int inChannels, int classes, double dropRate = DefaultDropRate)
        : base(ZooName, inChannels, classes, InputConstraints.FullResolution)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.Probability(dropRate, nameof(dropRate));
        features = DensePath.Features(inChannels, DensePath.NineLayers, dropRate);
        classifier = Layers.Conv3d(DensePath.FeatureChannels, classes, 1, bias: false);
        RegisterComponents();
    }

    protected override SegmentationOutput Run(Tensor input, bool auxiliary) =>
        SegmentationOutput.Of(classifier.call(features.call(input)));
}

/// <summary>
/// DENSENET2: dual-path dense network with late fusion (Dolz et al. 2018, arXiv:1804.02967) as
/// MedicalZoo's DualPathDenseNet: one dense path per modality, their 150-channel features
/// concatenated, then a 1×1×1 classifier.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W); any D, H, W >= 2 (no pooling).
/// </para>
/// <para>
/// Every modality gets a 9-layer path. The reference only builds paths for 2 or 3 inputs
/// (otherwise it returns None); for 2 it uses an 8-layer block whose width it hard-codes as 503
/// instead of 426, so it crashes. Here any number of modalities works and 2 inputs get the same
/// 9-layer paths as 3. The reference's paths are whole SinglePathDenseNets, each with a 150 →
/// classes classifier that is built but never used; ours has none, so for 3 inputs our parameter
/// count is the reference's minus 3·150·classes (the same layers otherwise).
/// </para>
/// </summary>
public sealed class DualPathDenseNet : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "DENSENET2";

    /// <summary>Dense-layer dropout MedicalZoo uses (none).</summary>
    public const double DefaultDropRate = 0.0;

    private readonly ModuleList<Sequential> streams;
    private readonly Convolution3d classifier;

    /// <param name="inChannels">Input channels (modalities, one path each), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="dropRate">Dropout after each dense layer, in [0, 1).</param>
    public DualPathDenseNet(int inChannels, int classes, double dropRate = DefaultDropRate)
        : base(ZooName, inChannels, classes, InputConstraints.FullResolution)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.Probability(dropRate, nameof(dropRate));
        streams = nn.ModuleList<Sequential>();
        for (var i = 0; i < inChannels; i++) streams.Add(DensePath.Features(1, DensePath.NineLayers, dropRate));
        classifier = Layers.Conv3d(inChannels * DensePath.FeatureChannels, classes, 1, bias: false);
        RegisterComponents();
    }

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var features = new Tensor[streams.Count];
        for (var i = 0; i < features.Length; i++) features[i] = streams[i].call(input.narrow(1, i, 1));
        return SegmentationOutput.Of(classifier.call(features.Length == 1 ? features[0] : torch.cat(features, 1)));
    }
}

/// <summary>
/// DENSENET3: dual-single dense network, "disentangled modalities with early fusion" (Dolz et al.
/// 2018, arXiv:1804.02967) as MedicalZoo's DualSingleDenseNet: each modality gets one dense layer of
/// its own (1 → 26 channels), their outputs are concatenated and go through one 8-layer dense path
/// and a 1×1×1 classifier.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W); any D, H, W >= 2 (no pooling).
/// </para>
/// <para>
/// Same parameter count as the reference for 2 and 3 inputs. The reference only works for 2 or 3
/// inputs (otherwise it returns None), sends both of 2 inputs through its first early layer (the
/// second never trains), and drops out the early layers for 2 inputs but not for 3. Here every
/// modality uses its own early layer, with the same dropout for any count.
/// </para>
/// </summary>
public sealed class DualSingleDenseNet : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "DENSENET3";

    /// <summary>Dense-layer dropout MedicalZoo uses.</summary>
    public const double DefaultDropRate = 0.1;

    private const long EarlyGrowth = 25;

    private readonly ModuleList<DenseLayer> early_convs;
    private readonly Sequential stream_1;
    private readonly Convolution3d classifier;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    /// <param name="dropRate">Dropout after each dense layer, in [0, 1).</param>
    public DualSingleDenseNet(int inChannels, int classes, double dropRate = DefaultDropRate)
        : base(ZooName, inChannels, classes, InputConstraints.FullResolution)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        Check.Probability(dropRate, nameof(dropRate));
        early_convs = nn.ModuleList<DenseLayer>();
        for (var i = 0; i < inChannels; i++) early_convs.Add(new DenseLayer(1, EarlyGrowth, dropRate));
        stream_1 = DensePath.Features(inChannels * (1 + EarlyGrowth), DensePath.EightLayers, dropRate);
        classifier = Layers.Conv3d(DensePath.FeatureChannels, classes, 1, bias: false);
        RegisterComponents();
    }

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var early = new Tensor[early_convs.Count];
        for (var i = 0; i < early.Length; i++) early[i] = early_convs[i].call(input.narrow(1, i, 1));
        var fused = early.Length == 1 ? early[0] : torch.cat(early, 1);
        return SegmentationOutput.Of(classifier.call(stream_1.call(fused)));
    }
}
