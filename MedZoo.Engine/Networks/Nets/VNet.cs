using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// VNET: V-Net (Milletari, Navab and Ahmadi 2016, "V-Net: Fully Convolutional Neural Networks for
/// Volumetric Medical Image Segmentation", arXiv:1606.04797) as MedicalZooPytorch builds it:
/// 5×5×5 convolutions with residual stages, four 2×2×2 stride-2 down-sampling convs (16 → 256
/// channels), transposed-conv up-sampling with skip concatenation, BN and PReLU activations
/// (MedicalZoo's create_model passes elu=False).
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). D, H, W divisible by 16 and at
/// least 32 (batch norm needs more than one voxel at the 1/16 bottleneck when training with batch 1).
/// </para>
/// <para>
/// Same layers and parameter count as the reference. Differs in the input stage: the reference
/// repeats the input int(16 / inChannels) times for its residual, which crashes for 3, 5, 6, 7, …
/// inputs; see <see cref="VNetInputTransition"/>.
/// </para>
/// </summary>
public sealed class VNet : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "VNET";

    private readonly VNetInputTransition in_tr;
    private readonly VNetDownTransition down_tr32;
    private readonly VNetDownTransition down_tr64;
    private readonly VNetDownTransition down_tr128;
    private readonly VNetDownTransition down_tr256;
    private readonly VNetUpTransition up_tr256;
    private readonly VNetUpTransition up_tr128;
    private readonly VNetUpTransition up_tr64;
    private readonly VNetUpTransition up_tr32;
    private readonly VNetOutputTransition out_tr;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    public VNet(int inChannels, int classes) : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        in_tr = new VNetInputTransition(inChannels);
        down_tr32 = new VNetDownTransition(16, 1, dropout: false);
        down_tr64 = new VNetDownTransition(32, 2, dropout: false);
        down_tr128 = new VNetDownTransition(64, 3, dropout: true);
        down_tr256 = new VNetDownTransition(128, 2, dropout: true);
        up_tr256 = new VNetUpTransition(256, 256, 2, dropout: true);
        up_tr128 = new VNetUpTransition(256, 128, 2, dropout: true);
        up_tr64 = new VNetUpTransition(128, 64, 1, dropout: false);
        up_tr32 = new VNetUpTransition(64, 32, 1, dropout: false);
        out_tr = new VNetOutputTransition(32, classes);
        RegisterComponents();
    }

    /// <summary>Divisible by 16, at least 32.</summary>
    public static InputConstraints Limits { get; } =
        new(16, 32, "four stride-2 convolutions halve D, H, W, and batch norm needs more than one voxel at the 1/16 bottleneck");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var out16 = in_tr.call(input);
        var out32 = down_tr32.call(out16);
        var out64 = down_tr64.call(out32);
        var out128 = down_tr128.call(out64);
        var x = up_tr256.call(down_tr256.call(out128), out128);
        x = up_tr128.call(x, out64);
        x = up_tr64.call(x, out32);
        x = up_tr32.call(x, out16);
        return SegmentationOutput.Of(out_tr.call(x));
    }
}

/// <summary>
/// VNET2: MedicalZoo's "V-Net light", <see cref="VNet"/> without its deepest stage (down_tr256 and
/// up_tr256): three down-samplings, 16 → 128 channels.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W). D, H, W divisible by 8 and at
/// least 16. Same layers and parameter count as the reference; the input stage works for any
/// channel count (see <see cref="VNetInputTransition"/>).
/// </para>
/// </summary>
public sealed class VNetLight : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "VNET2";

    private readonly VNetInputTransition in_tr;
    private readonly VNetDownTransition down_tr32;
    private readonly VNetDownTransition down_tr64;
    private readonly VNetDownTransition down_tr128;
    private readonly VNetUpTransition up_tr128;
    private readonly VNetUpTransition up_tr64;
    private readonly VNetUpTransition up_tr32;
    private readonly VNetOutputTransition out_tr;

    /// <param name="inChannels">Input channels (modalities), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    public VNetLight(int inChannels, int classes) : base(ZooName, inChannels, classes, Limits)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        in_tr = new VNetInputTransition(inChannels);
        down_tr32 = new VNetDownTransition(16, 1, dropout: false);
        down_tr64 = new VNetDownTransition(32, 2, dropout: false);
        down_tr128 = new VNetDownTransition(64, 3, dropout: true);
        up_tr128 = new VNetUpTransition(128, 128, 2, dropout: true);
        up_tr64 = new VNetUpTransition(128, 64, 1, dropout: false);
        up_tr32 = new VNetUpTransition(64, 32, 1, dropout: false);
        out_tr = new VNetOutputTransition(32, classes);
        RegisterComponents();
    }

    /// <summary>Divisible by 8, at least 16.</summary>
    public static InputConstraints Limits { get; } =
        new(8, 16, "three stride-2 convolutions halve D, H, W, and batch norm needs more than one voxel at the 1/8 bottleneck");

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var out16 = in_tr.call(input);
        var out32 = down_tr32.call(out16);
        var out64 = down_tr64.call(out32);
        var x = up_tr128.call(down_tr128.call(out64), out64);
        x = up_tr64.call(x, out32);
        x = up_tr32.call(x, out16);
        return SegmentationOutput.Of(out_tr.call(x));
    }
}
