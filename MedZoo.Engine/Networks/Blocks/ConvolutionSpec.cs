using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>The settings of one convolution layer (not its shapes), and the call that applies them.</summary>
internal sealed class ConvolutionSpec
{
    private readonly long[] _stride, _padding, _outputPadding, _dilation;
    private readonly long _groups;
    private readonly bool _transposed;

    public ConvolutionSpec(bool transposed, long stride, long padding, long outputPadding, long dilation, long groups)
    {
        _transposed = transposed;
        _stride = [stride, stride, stride];
        _padding = [padding, padding, padding];
        _outputPadding = [outputPadding, outputPadding, outputPadding];
        _dilation = [dilation, dilation, dilation];
        _groups = groups;
        Key = transposed
            ? $"transposed convolution stride {stride} padding {padding} output padding {outputPadding} dilation {dilation} groups {groups}"
            : ConvolutionKey(stride, $"{padding}", dilation, groups);
    }

    private static string ConvolutionKey(long stride, string padding, long dilation, long groups) =>
        $"convolution stride {stride} padding {padding} dilation {dilation} groups {groups}";

    // A copy with its own padding per axis (depth, height, width): a cropped kernel's (see KernelCrop).
    private ConvolutionSpec(ConvolutionSpec source, long[] padding)
    {
        _transposed = source._transposed;
        _stride = source._stride;
        _padding = padding;
        _outputPadding = source._outputPadding;
        _dilation = source._dilation;
        _groups = source._groups;
        var p = padding.Distinct().Count() == 1 ? $"{padding[0]}" : string.Join("×", padding);
        Key = ConvolutionKey(_stride[0], p, _dilation[0], _groups);
    }

    /// <summary>The same convolution with <paramref name="padding"/> (one value per axis: depth, height, width). Not for transposed ones.</summary>
    public ConvolutionSpec WithPadding(long[] padding)
    {
        if (_transposed) throw new InvalidOperationException("a transposed convolution's padding is not an input padding");
        if (padding.Length != 3) throw new ArgumentException("one padding per axis (depth, height, width)", nameof(padding));
        return new ConvolutionSpec(this, [.. padding]);
    }

    /// <summary>The padding of each axis (depth, height, width).</summary>
    public ReadOnlySpan<long> Padding => _padding;

    /// <summary>Whether all three axes have the same padding (layers always do; a cropped kernel's spec may not).</summary>
    public bool UniformPadding => _padding[0] == _padding[1] && _padding[1] == _padding[2];

    public bool Transposed => _transposed;

    /// <summary>Stride, padding, output padding and dilation (the same on all three axes), for exporters.</summary>
    public (long Stride, long Padding, long OutputPadding, long Dilation) Settings => (_stride[0], _padding[0], _outputPadding[0], _dilation[0]);

    public long Groups => _groups;

    /// <summary>The settings as text (part of the shape-check cache key and of fallback notes).</summary>
    public string Key { get; }

    public Tensor Run(Tensor input, Tensor weight, Tensor? bias) => _transposed
        ? nn.functional.conv_transpose3d(input, weight, bias, _stride, _padding, _outputPadding, _dilation, _groups)
        : nn.functional.conv3d(input, weight, bias, _stride, _padding, _dilation, _groups);
}
