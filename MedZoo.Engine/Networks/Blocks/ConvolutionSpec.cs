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
            : $"convolution stride {stride} padding {padding} dilation {dilation} groups {groups}";
    }

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
