using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks;

/// <summary>
/// One network configuration for a test: zoo name, channels, classes, spatial size and the options
/// that keep it small. Sizes are the smallest valid ones so the whole table stays fast on 2 cores.
/// </summary>
public sealed record NetworkCase(string Name, int InChannels, int Classes, int D, int H, int W, int BaseFilters = 0, int Depth = 0)
{
    /// <summary>Options for <see cref="ModelZoo.Create"/>: the case's size as InputSize (checked at build time), plus width/depth overrides.</summary>
    public ModelOptions Options => new()
    {
        InputSize = [D, H, W],
        BaseFilters = BaseFilters > 0 ? BaseFilters : null,
        Depth = Depth > 0 ? Depth : null,
    };

    public SegmentationNetwork Create() => ModelZoo.Create(Name, InChannels, Classes, Options);

    public Tensor Input(int batch = 1) => torch.randn([batch, InChannels, D, H, W]);

    public override string ToString() =>
        $"{Name} in={InChannels} classes={Classes} {D}x{H}x{W}" + (BaseFilters > 0 ? $" f={BaseFilters}" : "") + (Depth > 0 ? $" depth={Depth}" : "");
}

/// <summary>The configurations the network tests run.</summary>
public static class NetworkCases
{
    /// <summary>Two configurations per model across 1–4 input channels and 2–9 classes, including cubic and non-cubic sizes.</summary>
    public static IReadOnlyList<NetworkCase> Shapes { get; } =
    [
        new("UNET3D", 1, 2, 32, 32, 32),
        new("UNET3D", 4, 9, 32, 48, 32, BaseFilters: 4),
        new("VNET", 1, 2, 32, 32, 32),
        new("VNET", 3, 5, 32, 32, 32),
        new("VNET2", 1, 3, 16, 16, 16),
        new("VNET2", 3, 4, 16, 24, 16),
        new("DENSENET1", 1, 2, 8, 8, 8),
        new("DENSENET1", 4, 9, 8, 6, 4),
        new("DENSENET2", 1, 2, 6, 6, 6),
        new("DENSENET2", 4, 5, 6, 8, 4),
        new("DENSENET3", 2, 2, 8, 8, 8),
        new("DENSENET3", 4, 9, 4, 6, 8),
        new("HYPERDENSENET", 1, 2, 8, 8, 8),
        new("HYPERDENSENET", 4, 3, 4, 4, 6),
        new("SKIPDENSENET3D", 1, 3, 32, 32, 32),
        new("SKIPDENSENET3D", 4, 9, 32, 32, 48),
        new("DENSEVOXELNET", 1, 2, 8, 8, 8),
        new("DENSEVOXELNET", 3, 9, 16, 8, 12),
        new("RESNET3DVAE", 2, 4, 16, 16, 16),
        new("RESNET3DVAE", 1, 3, 32, 16, 16, BaseFilters: 8),
        new("RESNETMED3D", 1, 2, 16, 16, 16),
        new("RESNETMED3D", 4, 9, 16, 24, 16),
        new("HIGHRESNET", 1, 2, 8, 8, 8),
        new("HIGHRESNET", 4, 9, 6, 8, 10),
        new("UNET3D_CICEK", 1, 2, 16, 16, 16),
        new("UNET3D_CICEK", 3, 7, 8, 8, 16, BaseFilters: 4, Depth: 2),
    ];

    /// <summary>One small configuration per model, for the (more expensive) backward-pass tests.</summary>
    public static IReadOnlyList<NetworkCase> Small { get; } =
    [
        new("UNET3D", 2, 3, 32, 32, 32, BaseFilters: 4),
        new("VNET", 3, 4, 32, 32, 32),
        new("VNET2", 2, 3, 16, 16, 16),
        new("DENSENET1", 3, 4, 6, 6, 6),
        new("DENSENET2", 2, 3, 6, 6, 6),
        new("DENSENET3", 2, 4, 6, 6, 6),
        new("HYPERDENSENET", 2, 3, 6, 6, 6),
        new("SKIPDENSENET3D", 2, 3, 32, 32, 32),
        new("DENSEVOXELNET", 1, 3, 8, 8, 8),
        new("RESNET3DVAE", 2, 3, 16, 16, 16, BaseFilters: 8),
        new("RESNETMED3D", 1, 3, 16, 16, 16),
        new("HIGHRESNET", 2, 3, 6, 6, 6),
        new("UNET3D_CICEK", 2, 3, 16, 16, 16, BaseFilters: 4),
    ];

    public static TheoryData<string> ShapeNames() => Names(Shapes);

    public static TheoryData<string> SmallNames() => Names(Small);

    public static NetworkCase Find(string key) =>
        Shapes.Concat(Small).First(c => c.ToString() == key);

    /// <summary>Loads TorchSharp (with its diagnosis on failure) and seeds torch's generator.</summary>
    public static void Seed(long seed = 1234)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(seed);
    }

    private static TheoryData<string> Names(IEnumerable<NetworkCase> cases)
    {
        var data = new TheoryData<string>();
        foreach (var c in cases) data.Add(c.ToString());
        return data;
    }
}
