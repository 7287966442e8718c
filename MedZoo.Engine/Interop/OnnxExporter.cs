using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Nets;
using static TorchSharp.torch;

namespace MedZoo.Engine.Interop;

/// <summary>
/// Writes a zoo network as an ONNX model (opset 17) for deployment: input <c>input</c>
/// (B, inChannels, D, H, W) float32, output <c>logits</c> (B, classes, D, H, W), the network in eval
/// mode (batch norm with its running statistics, no dropout). TorchSharp has no ONNX exporter, so each
/// supported network's forward pass is written out here layer by layer (<see cref="OnnxGraph"/>).
/// <para>
/// Batch, depth, height and width are dynamic (named dimensions): the networks are fully
/// convolutional, so one file serves any size the network's <see cref="InputConstraints"/> accept
/// (UNET3D and VNET: multiples of 16; VNET2: multiples of 8); ONNX Runtime reports a shape error for others.
/// </para>
/// <para>
/// Exported: <see cref="SupportedModels"/> (UNET3D, VNET, VNET2). Not yet: the DenseNets,
/// HYPERDENSENET, SKIPDENSENET3D and DENSEVOXELNET (dense concatenations, grouped transposed convs
/// and crops need their own graph code, not yet written), RESNETMED3D, HIGHRESNET and UNET3D_CICEK
/// (likewise), and RESNET3DVAE, whose segmentation path could export but whose VAE branch is sized
/// for one input size.
/// </para>
/// </summary>
public static class OnnxExporter
{
    /// <summary>Zoo names this exporter writes.</summary>
    public static IReadOnlyList<string> SupportedModels { get; } =
        [UNet3D.ZooName, VNet.ZooName, VNetLight.ZooName, UNet3DCicek.ZooName, ResNetMed3D.ZooName, HighResNet3D.ZooName,
         SinglePathDenseNet.ZooName, DualPathDenseNet.ZooName, DualSingleDenseNet.ZooName];

    /// <summary>Whether <paramref name="model"/> (a zoo name, any case) can be exported.</summary>
    public static bool Supports(string model) => SupportedModels.Contains(model.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The ONNX model of <paramref name="network"/> as bytes.</summary>
    /// <exception cref="NotSupportedException">The network is not one of <see cref="SupportedModels"/>.</exception>
    public static byte[] Export(SegmentationNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = new OnnxGraph(network);
        var (output, doc) = network switch
        {
            UNet3D => (UNet3DGraph(graph, network), "UNET3D (Isensee et al. 2017); D, H, W divisible by 16, at least 32"),
            VNet => (VNetGraph(graph, network, light: false), "VNET (Milletari et al. 2016); D, H, W divisible by 16, at least 32"),
            VNetLight => (VNetGraph(graph, network, light: true), "VNET2 (V-Net light); D, H, W divisible by 8, at least 16"),
            UNet3DCicek cicek => (CicekGraph(graph, cicek), $"UNET3D_CICEK (Cicek et al. 2016); D, H, W divisible by {1 << cicek.Depth}"),
            ResNetMed3D => (ResNetMed3DGraph(graph, network), "RESNETMED3D (Med3D, Chen et al. 2019); D, H, W divisible by 8, at least 16"),
            HighResNet3D => (HighResNetGraph(graph), "HIGHRESNET (Li et al. 2017); any D, H, W"),
            SinglePathDenseNet or DualPathDenseNet or DualSingleDenseNet => (DenseNetGraph(graph, network), $"{network.GetName()} (Dolz et al. 2018); any D, H, W"),
            _ => throw new NotSupportedException(
                $"ONNX export supports {string.Join(", ", SupportedModels)}; {network.GetName()} is not exported yet (see the README's Interop section)"),
        };
        return graph.ToModel(output, network.GetName(), $"MedZoo {doc}; input (B, {network.InChannels}, D, H, W) → logits (B, {network.Classes}, D, H, W)",
                             network.InChannels, network.Classes, spatial: null);
    }

    /// <summary>Writes the ONNX model of <paramref name="network"/> to <paramref name="destination"/>.</summary>
    public static void Export(SegmentationNetwork network, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(Export(network));
    }

    // Mirrors UNet3D.Run (main logits; deep supervision summed in, as in forward).
    private static string UNet3DGraph(OnnxGraph g, SegmentationNetwork network)
    {
        var f = network.state_dict()["conv3d_c1_1.weight"].shape[0];
        var x = g.Conv(OnnxGraph.InputName, "conv3d_c1_1");
        var t = g.Conv(g.LeakyRelu(g.Conv(g.LeakyRelu(x), "conv3d_c1_2")), "lrelu_conv_c1.1");
        x = g.Add(t, x);
        var context1 = g.LeakyRelu(x);
        x = g.LeakyRelu(g.InstanceNorm(x, "inorm3d_c1", f));
        var context2 = Context(g, 2, x, 2 * f);
        var context3 = Context(g, 3, context2, 4 * f);
        var context4 = Context(g, 4, context3, 8 * f);
        x = Context(g, 5, context4, 16 * f);
        x = Upscale(g, x, "norm_lrelu_upscale_conv_norm_lrelu_l0", 16 * f, 8 * f);
        x = g.LeakyRelu(g.InstanceNorm(g.Conv(x, "conv3d_l0"), "inorm3d_l0", 8 * f));
        x = ConvNormLRelu(g, g.Concat(x, context4), "conv_norm_lrelu_l1", 16 * f);
        x = Upscale(g, g.Conv(x, "conv3d_l1"), "norm_lrelu_upscale_conv_norm_lrelu_l1", 8 * f, 4 * f);
        var ds2 = ConvNormLRelu(g, g.Concat(x, context3), "conv_norm_lrelu_l2", 8 * f);
        x = Upscale(g, g.Conv(ds2, "conv3d_l2"), "norm_lrelu_upscale_conv_norm_lrelu_l2", 4 * f, 2 * f);
        var ds3 = ConvNormLRelu(g, g.Concat(x, context2), "conv_norm_lrelu_l3", 4 * f);
        x = Upscale(g, g.Conv(ds3, "conv3d_l3"), "norm_lrelu_upscale_conv_norm_lrelu_l3", 2 * f, f);
        x = ConvNormLRelu(g, g.Concat(x, context1), "conv_norm_lrelu_l4", 2 * f);
        var logits = g.Conv(x, "conv3d_l4");
        var quarter = g.Conv(ds2, "ds2_1x1_conv3d");
        var half = g.Add(g.Conv(ds3, "ds3_1x1_conv3d"), g.Upsample2(quarter));
        return g.Add(logits, g.Upsample2(half));
    }

    // One context level: stride-2 conv, the shared pre-activation block applied twice, residual, then norm + leaky ReLU (not at level 5).
    private static string Context(OnnxGraph g, int level, string x, long channels)
    {
        var l = OnnxGraph.Index(level);
        x = g.Conv(x, "conv3d_c" + l);
        var block = "norm_lrelu_conv_c" + l;
        string Block(string y) => g.Conv(g.LeakyRelu(g.InstanceNorm(y, block + ".0", channels)), block + ".2");
        var y = g.Add(Block(Block(x)), x);
        return level == 5 ? y : g.LeakyRelu(g.InstanceNorm(y, "inorm3d_c" + l, channels));
    }

    private static string ConvNormLRelu(OnnxGraph g, string x, string path, long channels) =>
        g.LeakyRelu(g.InstanceNorm(g.Conv(x, path + ".0"), path + ".1", channels));

    private static string Upscale(OnnxGraph g, string x, string path, long inChannels, long outChannels)
    {
        x = g.Upsample2(g.LeakyRelu(g.InstanceNorm(x, path + ".0", inChannels)));
        return g.LeakyRelu(g.InstanceNorm(g.Conv(x, path + ".3"), path + ".4", outChannels));
    }

    // Mirrors UNet3DCicek.Run: double convs (conv, BN, ReLU twice), 2×2×2 max-pools, transposed convs, skip concatenation.
    private static string CicekGraph(OnnxGraph g, UNet3DCicek network)
    {
        string Double(string x, string path)
        {
            x = g.Relu(g.BatchNorm(g.Conv(x, path + ".conv1"), path + ".bn1"));
            return g.Relu(g.BatchNorm(g.Conv(x, path + ".conv2"), path + ".bn2"));
        }
        var skips = new string[network.Depth];
        var y = OnnxGraph.InputName;
        for (var level = 0; level < network.Depth; level++)
        {
            skips[level] = Double(y, "analysis." + OnnxGraph.Index(level));
            y = g.MaxPool(skips[level], 2, 2, 0);
        }
        y = Double(y, "analysis." + OnnxGraph.Index(network.Depth));
        for (var i = 0; i < network.Depth; i++)
            y = Double(g.Concat(g.ConvTranspose(y, "upconvs." + OnnxGraph.Index(i)), skips[network.Depth - 1 - i]), "synthesis." + OnnxGraph.Index(i));
        return g.Conv(y, "head");
    }

    // Mirrors SinglePathDenseNet, DualPathDenseNet and DualSingleDenseNet: dense layers (BN, ReLU, conv,
    // optional bottleneck; output = cat(input, new)), 1×1×1 convs to 150 features, classifier.
    private static string DenseNetGraph(OnnxGraph g, SegmentationNetwork network)
    {
        var keys = network.state_dict().Keys.ToHashSet();
        string Layer(string x, string path)
        {
            var f = g.Conv(g.Relu(g.BatchNorm(x, path + ".norm1")), path + ".conv1");
            if (keys.Contains(path + ".conv2.weight")) f = g.Conv(g.Relu(g.BatchNorm(f, path + ".norm2")), path + ".conv2");
            return g.Concat(x, f);
        }
        string Features(string x, string path)
        {
            for (var i = 1; keys.Contains($"{path}.denseblock1.denselayer{i}.norm1.weight"); i++)
                x = Layer(x, $"{path}.denseblock1.denselayer{OnnxGraph.Index(i)}");
            return g.Conv(g.Conv(g.Conv(x, path + ".conv1x1_1"), path + ".conv1x1_2"), path + ".conv1x1_3");
        }
        string Channel(int c) => g.GatherChannels(OnnxGraph.InputName, [c]);
        var n = network.InChannels;
        var features = network switch
        {
            SinglePathDenseNet => Features(OnnxGraph.InputName, "features"),
            DualPathDenseNet => n == 1 ? Features(Channel(0), "streams.0")
                : g.Concat([.. Enumerable.Range(0, n).Select(c => Features(Channel(c), "streams." + OnnxGraph.Index(c)))]),
            _ => Features(n == 1 ? Layer(Channel(0), "early_convs.0")
                : g.Concat([.. Enumerable.Range(0, n).Select(c => Layer(Channel(c), "early_convs." + OnnxGraph.Index(c)))]), "stream_1"),
        };
        return g.Conv(features, "classifier");
    }

    // Mirrors ResNetMed3D.Run and BasicBlock3d / Bottleneck3d.
    private static string ResNetMed3DGraph(OnnxGraph g, SegmentationNetwork network)
    {
        var keys = network.state_dict().Keys.ToHashSet();
        string Block(string x, string path)
        {
            var y = g.Relu(g.BatchNorm(g.Conv(x, path + ".conv1"), path + ".bn1"));
            y = g.BatchNorm(g.Conv(y, path + ".conv2"), path + ".bn2");
            if (keys.Contains(path + ".conv3.weight")) y = g.BatchNorm(g.Conv(g.Relu(y), path + ".conv3"), path + ".bn3");
            var shortcut = keys.Contains(path + ".downsample.0.weight")
                ? g.BatchNorm(g.Conv(x, path + ".downsample.0"), path + ".downsample.1")
                : x;
            return g.Relu(g.Add(y, shortcut));
        }
        var x = g.MaxPool(g.Relu(g.BatchNorm(g.Conv(OnnxGraph.InputName, "conv1"), "bn1")), 3, 2, 1);
        for (var stage = 1; stage <= 4; stage++)
            for (var i = 0; keys.Contains($"layer{stage}.{i}.conv1.weight"); i++)
                x = Block(x, $"layer{stage}.{OnnxGraph.Index(i)}");
        foreach (var up in new[] { "segm.transp_1", "segm.transp_2", "segm.transp_3" })
            x = g.Relu(g.BatchNorm(g.ConvTranspose(x, up + ".0"), up + ".1"));
        x = g.Relu(g.BatchNorm(g.Conv(x, "segm.conv_1.0"), "segm.conv_1.1"));
        return g.Conv(x, "segm.conv_final");
    }

    // Mirrors HighResNet3D.Run: pre-activation pairs (BN, ReLU, dilated conv) with residual sums; the
    // shortcuts into wider blocks are zero-padded on both sides of the channel axis.
    private static string HighResNetGraph(OnnxGraph g)
    {
        string Pre(string x, string path) => g.Conv(g.Relu(g.BatchNorm(x, path + ".norm")), path + ".conv");
        string Pair(string x, string path) => Pre(Pre(x, path + ".0"), path + ".1");
        string Padded(string wide, string narrow, long wideChannels, long narrowChannels)
        {
            var offset = (wideChannels - narrowChannels) / 2;
            return g.Add(wide, g.PadChannels(narrow, offset, wideChannels - narrowChannels - offset));
        }
        var stem = g.Conv(OnnxGraph.InputName, "conv_init");
        var red1 = Pair(stem, "red_blocks1");
        var red2 = Pair(g.Add(red1, g.Relu(g.BatchNorm(stem, "conv_init_norm.0"))), "red_blocks2");
        var red3 = Pair(g.Add(red2, red1), "red_blocks3");
        var dil21 = Pair(g.Add(red3, red2), "dil2block1");
        var dil22 = Pair(Padded(dil21, red3, 32, 16), "dil2block2");
        var dil23 = Pair(g.Add(dil22, dil21), "dil2block3");
        var dil41 = Pair(g.Add(dil23, dil22), "dil4block1");
        var dil42 = Pair(Padded(dil41, dil23, 64, 32), "dil4block2");
        var dil43 = Pair(g.Add(dil42, dil41), "dil4block3");
        var x = g.Conv(g.Add(dil43, dil42), "conv_out.0");
        return Pre(x, "conv_out.2");
    }

    // Mirrors VNet.Run / VNetLight.Run and the blocks in VNetBlocks.cs.
    private static string VNetGraph(OnnxGraph g, SegmentationNetwork network, bool light)
    {
        var keys = network.state_dict().Keys.ToHashSet();
        int Convs(string path)
        {
            var n = 0;
            while (keys.Contains($"{path}.ops.{n}.conv1.weight")) n++;
            return n;
        }
        string Ops(string x, string path)
        {
            for (var i = 0; i < Convs(path); i++)
            {
                var p = $"{path}.ops.{OnnxGraph.Index(i)}";
                x = g.PRelu(g.BatchNorm(g.Conv(x, p + ".conv1"), p + ".bn1"), p + ".relu1");
            }
            return x;
        }
        string Down(string x, string path)
        {
            var down = g.PRelu(g.BatchNorm(g.Conv(x, path + ".down_conv"), path + ".bn1"), path + ".relu1");
            return g.PRelu(g.Add(Ops(down, path), down), path + ".relu2");
        }
        string Up(string x, string skip, string path)
        {
            var up = g.PRelu(g.BatchNorm(g.ConvTranspose(x, path + ".up_conv"), path + ".bn1"), path + ".relu1");
            var cat = g.Concat(up, skip);
            return g.PRelu(g.Add(Ops(cat, path), cat), path + ".relu2");
        }

        // Input stage: the residual is input channel i mod inChannels for each of the 16 features.
        var channels = Enumerable.Range(0, 16).Select(i => (long)(i % network.InChannels)).ToArray();
        var residual = g.GatherChannels(OnnxGraph.InputName, channels);
        var out16 = g.PRelu(g.Add(g.BatchNorm(g.Conv(OnnxGraph.InputName, "in_tr.conv1"), "in_tr.bn1"), residual), "in_tr.relu1");
        var out32 = Down(out16, "down_tr32");
        var out64 = Down(out32, "down_tr64");
        var out128 = Down(out64, "down_tr128");
        var y = light
            ? Up(out128, out64, "up_tr128")
            : Up(Up(Down(out128, "down_tr256"), out128, "up_tr256"), out64, "up_tr128");
        y = Up(y, out32, "up_tr64");
        y = Up(y, out16, "up_tr32");
        var o = g.PRelu(g.BatchNorm(g.Conv(y, "out_tr.conv1"), "out_tr.bn1"), "out_tr.relu1");
        return g.Conv(o, "out_tr.conv2");
    }
}

/// <summary>The tensor names of exported ONNX graphs.</summary>
public static class OnnxGraphNames
{
    /// <summary>The input (B, inChannels, D, H, W), float32.</summary>
    public const string Input = OnnxGraph.InputName;

    /// <summary>The logits (B, classes, D, H, W), float32.</summary>
    public const string Output = OnnxGraph.OutputName;
}
