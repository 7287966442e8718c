using System.Globalization;
using System.Runtime.InteropServices;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Interop;

/// <summary>
/// Builds an ONNX graph (opset <see cref="Opset"/>) from a network's modules in eval mode: each
/// method appends the node(s) for one torch layer, reading its weights (and, for convolutions, its
/// stride, padding and dilation) from the module named by its checkpoint path, and returns the name
/// of its output. Dropout is the identity at inference, so it has no node. Exporters
/// (<see cref="OnnxExporter"/>) call these in the order of the network's forward pass.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The operator set the graph uses (ONNX 1.12, ONNX Runtime 1.12 or newer).</summary>
    public const int Opset = 17;

    /// <summary>ONNX IR version of opset 17.</summary>
    public const int IrVersion = 8;

    private const int FloatType = 1;
    private const int Int64Type = 7;
    private const double NormEpsilon = 1e-5; // torch's default for BatchNorm3d and InstanceNorm3d, which every zoo network uses
    private const double LeakySlope = 0.01;  // torch's default LeakyReLU slope, which UNET3D uses

    private readonly Dictionary<string, nn.Module> modules;
    private readonly List<ProtoWriter> nodes = [];
    private readonly List<ProtoWriter> initializers = [];
    private readonly HashSet<string> initializerNames = [];
    private int counter;

    public OnnxGraph(nn.Module model)
    {
        modules = [];
        foreach (var (name, module) in model.named_modules()) modules[name] = module;
    }

    /// <summary>Name of the graph's input tensor.</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph's output tensor.</summary>
    public const string OutputName = "logits";

    /// <summary>Convolution (torch Conv3d) of the module at <paramref name="path"/>.</summary>
    public string Conv(string x, string path)
    {
        var conv = Module<Convolution3d>(path);
        var (stride, padding, _, dilation) = conv.Spec.Settings;
        var inputs = new List<string> { x, Weight(path + ".weight", conv.weight) };
        if (conv.bias is { } b) inputs.Add(Weight(path + ".bias", b));
        var k = conv.weight.shape[2];
        return Node("Conv", inputs, path, a => a
            .Ints("kernel_shape", k, k, k).Ints("strides", stride, stride, stride)
            .Ints("pads", padding, padding, padding, padding, padding, padding)
            .Ints("dilations", dilation, dilation, dilation).Int("group", conv.Spec.Groups));
    }

    /// <summary>Transposed convolution (torch ConvTranspose3d) of the module at <paramref name="path"/>.</summary>
    public string ConvTranspose(string x, string path)
    {
        var conv = Module<TransposedConvolution3d>(path);
        var (stride, padding, outputPadding, dilation) = conv.Spec.Settings;
        var inputs = new List<string> { x, Weight(path + ".weight", conv.weight) };
        if (conv.bias is { } b) inputs.Add(Weight(path + ".bias", b));
        var k = conv.weight.shape[2];
        return Node("ConvTranspose", inputs, path, a => a
            .Ints("kernel_shape", k, k, k).Ints("strides", stride, stride, stride)
            .Ints("pads", padding, padding, padding, padding, padding, padding)
            .Ints("output_padding", outputPadding, outputPadding, outputPadding)
            .Ints("dilations", dilation, dilation, dilation).Int("group", conv.Spec.Groups));
    }

    /// <summary>Batch normalization with the running statistics (eval mode) of the module at <paramref name="path"/>.</summary>
    public string BatchNorm(string x, string path)
    {
        var bn = Module<TorchSharp.Modules.BatchNorm3d>(path);
        var state = bn.state_dict();
        var inputs = new[] { "weight", "bias", "running_mean", "running_var" }
            .Select(k => Weight($"{path}.{k}", state.TryGetValue(k, out var t) ? t : throw Missing(path, k)));
        return Node("BatchNormalization", [x, .. inputs], path, a => a.Float("epsilon", NormEpsilon));
    }

    /// <summary>Instance normalization (no affine parameters, no running statistics, as every zoo network builds it).</summary>
    public string InstanceNorm(string x, string path, long channels)
    {
        var norm = Module<nn.Module>(path);
        if (norm.state_dict().Count != 0)
            throw new NotSupportedException($"ONNX export: instance norm '{path}' has affine parameters or running statistics, which the exporter does not map");
        var scale = Constant($"{path}.scale", Enumerable.Repeat(1f, (int)channels).ToArray(), [channels]);
        var shift = Constant($"{path}.shift", new float[channels], [channels]);
        return Node("InstanceNormalization", [x, scale, shift], path, a => a.Float("epsilon", NormEpsilon));
    }

    /// <summary>PReLU with one slope per channel (reshaped to (C, 1, 1, 1) to broadcast over (B, C, D, H, W)).</summary>
    public string PRelu(string x, string path)
    {
        var prelu = Module<nn.Module>(path);
        var slope = prelu.state_dict()["weight"];
        using var shaped = slope.detach().reshape(slope.shape[0], 1, 1, 1);
        return Node("PRelu", [x, Weight(path + ".weight", shaped)], path);
    }

    /// <summary>Max pooling with a cubic window (torch's max_pool3d: padding counts as -inf, floor mode).</summary>
    public string MaxPool(string x, long kernel, long stride, long padding) => Node("MaxPool", [x], null, a => a
        .Ints("kernel_shape", kernel, kernel, kernel).Ints("strides", stride, stride, stride)
        .Ints("pads", padding, padding, padding, padding, padding, padding));

    /// <summary>Zero channels before and after along axis 1 (HIGHRESNET's zero-padded shortcut).</summary>
    public string PadChannels(string x, long before, long after)
    {
        var name = $"pads_{counter++}";
        long[] pads = [0, before, 0, 0, 0, 0, after, 0, 0, 0];
        AddInitializer(name, MemoryMarshal.AsBytes(pads.AsSpan()).ToArray(), [pads.Length], Int64Type);
        return Node("Pad", [x, name], null, a => a.String("mode", "constant"));
    }

    public string LeakyRelu(string x) => Node("LeakyRelu", [x], null, a => a.Float("alpha", LeakySlope));

    public string Relu(string x) => Node("Relu", [x], null);

    public string Add(string a, string b) => Node("Add", [a, b], null);

    public string Concat(params string[] xs) => Node("Concat", xs, null, a => a.Int("axis", 1));

    /// <summary>Nearest-neighbour up-sampling by 2 on D, H, W (torch's interpolate(mode="nearest")).</summary>
    public string Upsample2(string x)
    {
        var scales = Constant("scales_2x", new[] { 1f, 1f, 2f, 2f, 2f }, [5]);
        return Node("Resize", [x, "", scales], null, a => a
            .String("mode", "nearest").String("coordinate_transformation_mode", "asymmetric").String("nearest_mode", "floor"));
    }

    /// <summary>Channels picked by index along axis 1 (V-Net's input residual).</summary>
    public string GatherChannels(string x, long[] channels)
    {
        var name = $"channels_{counter++}";
        AddInitializer(name, MemoryMarshal.AsBytes(channels.AsSpan()).ToArray(), [channels.Length], Int64Type);
        return Node("Gather", [x, name], null, a => a.Int("axis", 1));
    }

    /// <summary>The serialized ModelProto: input (B, inChannels, D, H, W) → output (B, classes, D, H, W).</summary>
    /// <param name="output">Name of the tensor that is the graph's output (renamed to <see cref="OutputName"/>).</param>
    /// <param name="graphName">The graph's name (the zoo name).</param>
    /// <param name="doc">The graph's doc string (network, constraints, shapes).</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="classes">Output classes.</param>
    /// <param name="spatial">Fixed (D, H, W), or null for dynamic sizes named depth, height and width.</param>
    public byte[] ToModel(string output, string graphName, string doc, long inChannels, long classes, long[]? spatial)
    {
        Node("Identity", [output], null, name: OutputName);
        var graph = new ProtoWriter();
        foreach (var n in nodes) graph.Message(1, n);
        graph.String(2, graphName);
        foreach (var t in initializers) graph.Message(5, t);
        graph.String(10, doc);
        graph.Message(11, ValueInfo(InputName, inChannels, spatial));
        graph.Message(12, ValueInfo(OutputName, classes, spatial));
        return new ProtoWriter()
            .Int(1, IrVersion)
            .String(2, "MedZoo")
            .String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Int(2, Opset))
            .ToArray();
    }

    private static ProtoWriter ValueInfo(string name, long channels, long[]? spatial)
    {
        var shape = new ProtoWriter();
        shape.Message(1, new ProtoWriter().String(2, "batch"));
        shape.Message(1, new ProtoWriter().Int(1, channels));
        string[] axes = ["depth", "height", "width"];
        for (var i = 0; i < 3; i++)
            shape.Message(1, spatial is null ? new ProtoWriter().String(2, axes[i]) : new ProtoWriter().Int(1, spatial[i]));
        var tensorType = new ProtoWriter().Int(1, FloatType).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }

    private string Node(string op, IReadOnlyList<string> inputs, string? path, Func<Attributes, Attributes>? attributes = null, string? name = null)
    {
        var output = name ?? $"{op.ToLowerInvariant()}_{counter++}";
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        node.String(2, output);
        node.String(3, path is null ? output : $"{path}/{output}"); // unique even where a layer runs twice (UNET3D's shared blocks)
        node.String(4, op);
        if (attributes is not null)
            foreach (var a in attributes(new Attributes()).List) node.Message(5, a);
        nodes.Add(node);
        return output;
    }

    private string Weight(string name, Tensor t)
    {
        if (initializerNames.Contains(name)) return name; // a layer applied twice (UNET3D's shared context blocks) has one copy
        using var scope = NewDisposeScope();
        var data = t.detach().cpu().to(float32).contiguous().data<float>().ToArray();
        AddInitializer(name, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), t.shape, FloatType);
        return name;
    }

    private string Constant(string name, float[] values, long[] dims)
    {
        if (!initializerNames.Contains(name)) AddInitializer(name, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), dims, FloatType);
        return name;
    }

    private void AddInitializer(string name, byte[] raw, long[] dims, int type)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this exporter runs on little-endian machines only");
        var tensor = new ProtoWriter();
        foreach (var d in dims) tensor.Int(1, d); // dims is proto2 'repeated int64': unpacked
        tensor.Int(2, type).String(8, name).Bytes(9, raw);
        initializers.Add(tensor);
        initializerNames.Add(name);
    }

    private T Module<T>(string path) where T : class =>
        modules.TryGetValue(path, out var m)
            ? m as T ?? throw new NotSupportedException($"ONNX export: module '{path}' is a {m.GetType().Name}, expected {typeof(T).Name}")
            : throw new NotSupportedException($"ONNX export: the network has no module '{path}'");

    private static NotSupportedException Missing(string path, string key) => new($"ONNX export: module '{path}' has no '{key}'");

    /// <summary>A node's attributes (AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20).</summary>
    internal sealed class Attributes
    {
        public List<ProtoWriter> List { get; } = [];

        public Attributes Int(string name, long value) => Add(new ProtoWriter().String(1, name).Int(3, value).Int(20, 2));

        public Attributes Float(string name, double value) => Add(new ProtoWriter().String(1, name).Float(2, (float)value).Int(20, 1));

        public Attributes String(string name, string value) => Add(new ProtoWriter().String(1, name).String(4, value).Int(20, 3));

        public Attributes Ints(string name, params long[] values)
        {
            var a = new ProtoWriter().String(1, name);
            foreach (var v in values) a.Int(8, v); // proto2 'repeated int64': unpacked
            return Add(a.Int(20, 7));
        }

        private Attributes Add(ProtoWriter a)
        {
            List.Add(a);
            return this;
        }
    }

    internal static string Index(int i) => i.ToString(CultureInfo.InvariantCulture);
}
