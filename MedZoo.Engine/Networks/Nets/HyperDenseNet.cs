using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Nets;

/// <summary>
/// HYPERDENSENET: HyperDense-Net (Dolz et al. 2018, "HyperDense-Net: A hyper-densely connected CNN
/// for multi-modal image segmentation", arXiv:1804.02967) as MedicalZoo's HyperDensenet.py: one
/// path per modality, nine [BN →] PReLU → 3×3×3 conv layers per path (25, 25, 25, 50, 50, 50, 75,
/// 75, 75 channels), and hyper-dense connectivity: every layer of every path receives the outputs
/// of all previous layers of all paths (its own path first, then the others in order). The
/// concatenation of all paths goes through 1×1×1 convs to 400, 200 and 150 channels (no activation
/// between them, as in the reference) and a 1×1×1 classifier.
/// <para>
/// Input (B, inChannels, D, H, W) → logits (B, classes, D, H, W); any D, H, W >= 2 (no pooling).
/// </para>
/// <para>
/// Differences from the reference, which has two hard-coded classes for 2 and 3 modalities, raises
/// for any other count, and uses valid convolutions so its output loses 18 voxels per axis:
/// any number of modalities works; the 3×3×3 convolutions are padded, so the output has the input's
/// size and no centre-cropping is needed; the 2-modality reference's final stride-3 transposed conv
/// (which only scales the shrunken output by 3, to a size that is still not the input's) is dropped.
/// For 3 inputs the parameter count equals the reference's; for 2 it is classes²·27 + classes lower.
/// </para>
/// </summary>
public sealed class HyperDenseNet : SegmentationNetwork
{
    /// <summary>The zoo name.</summary>
    public const string ZooName = "HYPERDENSENET";

    private static readonly long[] Growth = [25, 25, 25, 50, 50, 50, 75, 75, 75];

    private readonly ModuleList<ModuleList<PreActivationConv>> paths;
    private readonly Convolution3d fully_1;
    private readonly Convolution3d fully_2;
    private readonly Convolution3d fully_3;
    private readonly Convolution3d final;

    /// <param name="inChannels">Input channels (modalities, one path each), >= 1.</param>
    /// <param name="classes">Output classes including background, >= 2.</param>
    public HyperDenseNet(int inChannels, int classes) : base(ZooName, inChannels, classes, InputConstraints.FullResolution)
    {
        using var constructionScope = torch.NewDisposeScope(); // frees TorchSharp's init temporaries (see SegmentationNetwork)
        paths = nn.ModuleList<ModuleList<PreActivationConv>>();
        long n = inChannels;
        for (var p = 0; p < n; p++)
        {
            var path = nn.ModuleList<PreActivationConv>();
            long inputWidth = 1, seen = 0;
            for (var layer = 0; layer < Growth.Length; layer++)
            {
                // The first layer sees only its own modality and has no batch norm (as the reference).
                path.Add(new PreActivationConv(inputWidth, Growth[layer], 3, batchNorm: layer > 0, activation: PreActivation.PReLU));
                seen += Growth[layer];
                inputWidth = n * seen;
            }
            paths.Add(path);
        }
        fully_1 = Layers.Conv3d(n * n * Growth.Sum(), 400, 1);
        fully_2 = Layers.Conv3d(400, 200, 1);
        fully_3 = Layers.Conv3d(200, 150, 1);
        final = Layers.Conv3d(150, classes, 1);
        RegisterComponents();
    }

    protected override SegmentationOutput Run(Tensor input, bool auxiliary)
    {
        var n = paths.Count;
        var outputs = new Tensor[n];
        var inputs = new Tensor[n];
        for (var p = 0; p < n; p++) outputs[p] = paths[p][0].call(input.narrow(1, p, 1));
        for (var p = 0; p < n; p++) inputs[p] = Connect(null, outputs, p);
        for (var layer = 1; layer < Growth.Length; layer++)
        {
            for (var p = 0; p < n; p++) outputs[p] = paths[p][layer].call(inputs[p]);
            for (var p = 0; p < n; p++)
            {
                var previous = inputs[p];
                inputs[p] = Connect(previous, outputs, p);
                // Autograd keeps what backward needs; freeing the handle now bounds inference memory.
                previous.Dispose();
            }
            foreach (var o in outputs) o.Dispose();
        }
        var x = n == 1 ? inputs[0] : torch.cat(inputs, 1);
        return SegmentationOutput.Of(final.call(fully_3.call(fully_2.call(fully_1.call(x)))));
    }

    /// <summary>Path p's next input: its previous input, its own new output, then the other paths' outputs.</summary>
    private static Tensor Connect(Tensor? previous, Tensor[] outputs, int p)
    {
        var parts = new List<Tensor>(outputs.Length + 1);
        if (previous is not null) parts.Add(previous);
        parts.Add(outputs[p]);
        for (var q = 0; q < outputs.Length; q++)
            if (q != p) parts.Add(outputs[q]);
        return parts.Count == 1 ? parts[0] : torch.cat(parts, 1);
    }
}
