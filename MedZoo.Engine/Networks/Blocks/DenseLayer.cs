using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// One layer of a densely connected block (Huang et al. 2017, "Densely Connected Convolutional
/// Networks"): BN → ReLU → [1×1×1 bottleneck conv → BN → ReLU] → k×k×k conv (no bias, padded) →
/// dropout, and the new feature maps are concatenated to the input.
/// Input (B, inChannels, D, H, W) → output (B, inChannels + growthRate, D, H, W).
/// Used by DENSENET1/2/3 (no bottleneck), SKIPDENSENET3D (bottleneck 4·growth) and DENSEVOXELNET.
/// </summary>
public sealed class DenseLayer : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm3d norm1;
    private readonly Convolution3d conv1;
    private readonly BatchNorm3d? norm2;
    private readonly Convolution3d? conv2;
    private readonly Dropout? drop_layer;

    /// <param name="inChannels">Channels of the layer's input.</param>
    /// <param name="growthRate">New channels the layer adds.</param>
    /// <param name="dropRate">Element-wise dropout on the new channels (0: none).</param>
    /// <param name="bottleneckChannels">Width of a 1×1×1 bottleneck before the main conv (0: none).</param>
    /// <param name="kernelSize">Main conv kernel (odd; padded to keep D, H, W).</param>
    public DenseLayer(long inChannels, long growthRate, double dropRate = 0, long bottleneckChannels = 0, long kernelSize = 3)
        : base(nameof(DenseLayer))
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(growthRate, 1, nameof(growthRate));
        Check.Probability(dropRate, nameof(dropRate));
        Check.AtLeast(bottleneckChannels, 0, nameof(bottleneckChannels));
        InChannels = inChannels;
        OutChannels = inChannels + growthRate;
        norm1 = nn.BatchNorm3d(inChannels);
        if (bottleneckChannels > 0)
        {
            conv1 = Layers.Conv3d(inChannels, bottleneckChannels, 1, bias: false);
            norm2 = nn.BatchNorm3d(bottleneckChannels);
            conv2 = Layers.Conv3d(bottleneckChannels, growthRate, kernelSize, padding: kernelSize / 2, bias: false);
        }
        else
        {
            conv1 = Layers.Conv3d(inChannels, growthRate, kernelSize, padding: kernelSize / 2, bias: false);
        }
        if (dropRate > 0) drop_layer = nn.Dropout(dropRate);
        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public long InChannels { get; }

    /// <summary>Channels of the output: input plus growth rate.</summary>
    public long OutChannels { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // In-place ReLU is safe: batch norm's backward needs its input, not its output.
        var features = conv1.call(nn.functional.relu(norm1.call(input), inplace: true));
        if (norm2 is not null && conv2 is not null)
            features = conv2.call(nn.functional.relu(norm2.call(features), inplace: true));
        if (drop_layer is not null) features = drop_layer.call(features);
        return torch.cat(new[] { input, features }, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>Builds dense blocks: a sequence of <see cref="DenseLayer"/>s named denselayer1, denselayer2, ...</summary>
public static class DenseBlock
{
    /// <summary>
    /// A dense block whose layer i adds <paramref name="growthRates"/>[i] channels.
    /// Input (B, inChannels, D, H, W) → output (B, inChannels + Σ growth, D, H, W).
    /// </summary>
    public static Sequential Create(long inChannels, IReadOnlyList<long> growthRates, double dropRate,
                                    long bottleneckChannels, out long outChannels)
    {
        ArgumentNullException.ThrowIfNull(growthRates);
        if (growthRates.Count == 0) throw new ArgumentException("a dense block needs at least one layer", nameof(growthRates));
        var block = nn.Sequential();
        var channels = inChannels;
        for (var i = 0; i < growthRates.Count; i++)
        {
            var layer = new DenseLayer(channels, growthRates[i], dropRate, bottleneckChannels);
            block.append($"denselayer{i + 1}", layer);
            channels = layer.OutChannels;
        }
        outChannels = channels;
        return block;
    }

    /// <summary>A dense block of <paramref name="layers"/> layers that each add <paramref name="growthRate"/> channels.</summary>
    public static Sequential Create(long inChannels, int layers, long growthRate, double dropRate,
                                    long bottleneckChannels, out long outChannels)
    {
        Check.AtLeast(layers, 1, nameof(layers));
        return Create(inChannels, Enumerable.Repeat(growthRate, layers).ToArray(), dropRate, bottleneckChannels, out outChannels);
    }
}
