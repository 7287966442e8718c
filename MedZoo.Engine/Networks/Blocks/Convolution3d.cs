using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// Whether batched 3D convolutions on the CPU can be trusted in this process.
/// <para>
/// libtorch 2.10's CPU convolution (oneDNN, as shipped in TorchSharp-cpu 0.107) returns wrong values
/// on some x86-64 CPUs (seen on AMD EPYC with AVX-512) when the batch has more than one sample: the
/// forward pass for 3×3×3 kernels with more than 16 input channels that are not a multiple of 16, and
/// the input gradient for several common shapes (e.g. 4→8 or 8→8 channels), are off by 10–60 % or
/// NaN. One sample at a time is exact, and so is PyTorch 1.13 on the same machine. MedZoo therefore
/// probes the runtime once (a few milliseconds on tiny tensors, without touching the global random
/// generator) and, when the probe fails, runs CPU convolutions one sample at a time; gradients stay
/// exact through autograd and batch normalisation still sees the whole batch.
/// </para>
/// With MedZoo's default oneDNN cap (<see cref="Devices.OneDnnIsa"/>, SSE4.1) the probe passes and
/// batches run whole; the split remains for runtimes where the user lifted the cap or another defect
/// appears. Set MEDZOO_CPU_CONV_PER_SAMPLE=1 to force the per-sample path, =0 to force batched calls.
/// </summary>
public static class CpuConvolution
{
    private static readonly Lazy<bool> PerSampleLazy = new(Decide, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when CPU convolutions of batches run one sample at a time.</summary>
    public static bool PerSample => PerSampleLazy.Value;

    /// <summary>Why <see cref="PerSample"/> has its value (for logs and the dashboard's device panel).</summary>
    public static string Explanation => PerSample
        ? "CPU convolutions run one sample at a time: this libtorch build computed batched 3D convolutions wrongly in a self-test"
        : "CPU convolutions run batched: the self-test found them exact";

    private static bool Decide()
    {
        switch (Environment.GetEnvironmentVariable("MEDZOO_CPU_CONV_PER_SAMPLE"))
        {
            case "1": return true;
            case "0": return false;
        }
        return !BatchedConvolutionIsExact();
    }

    /// <summary>
    /// Compares float32 batched convolutions (forward and input gradient) with float64 on fixed
    /// inputs for the shapes known to fail; true if all agree to 1e-3 relative.
    /// </summary>
    internal static bool BatchedConvolutionIsExact()
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        (long In, long Out)[] shapes = [(4, 8), (8, 8), (20, 8), (28, 12)];
        foreach (var (cin, cout) in shapes)
        {
            var x = Deterministic([2, cin, 6, 6, 6], 0.37).requires_grad_(true);
            var w = Deterministic([cout, cin, 3, 3, 3], 0.11) * 0.1;
            var y = nn.functional.conv3d(x, w, null, null, [1, 1, 1]);
            y.square().sum().backward();
            var x64 = x.detach().to(float64).requires_grad_(true);
            var y64 = nn.functional.conv3d(x64, w.to(float64), null, null, [1, 1, 1]);
            y64.square().sum().backward();
            if (!Close(y, y64) || !Close(x.grad!, x64.grad!)) return false;
        }
        return true;
    }

    private static Tensor Deterministic(long[] shape, double phase)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        return (arange(n, dtype: float32) * 0.7301 + phase).sin().reshape(shape);
    }

    private static bool Close(Tensor a, Tensor reference)
    {
        var scale = reference.abs().max().item<double>();
        var err = (a.to(float64) - reference).abs().max().item<double>();
        return err <= 1e-3 * Math.Max(scale, 1e-12);
    }

    /// <summary>Validates the sizes shared by <see cref="Convolution3d"/> and <see cref="TransposedConvolution3d"/>.</summary>
    internal static void CheckShape(long inChannels, long outChannels, long kernelSize, long groups)
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(outChannels, 1, nameof(outChannels));
        Check.AtLeast(kernelSize, 1, nameof(kernelSize));
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"groups={groups} must divide inChannels={inChannels} and outChannels={outChannels}", nameof(groups));
    }

    /// <summary>Applies <paramref name="op"/> per sample when required (CPU, batch &gt; 1, probe failed).</summary>
    internal static Tensor Apply(Tensor input, Func<Tensor, Tensor> op)
    {
        if (input.shape[0] <= 1 || input.device_type != DeviceType.CPU || !PerSample)
            return op(input);
        using var scope = NewDisposeScope();
        var parts = input.split(1, 0);
        var outputs = new Tensor[parts.Length];
        for (var i = 0; i < parts.Length; i++) outputs[i] = op(parts[i]);
        return cat(outputs, 0).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// 3D convolution, (B, C_in, D, H, W) → (B, C_out, D', H', W'), with the parameters and
/// initialisation of torch.nn.Conv3d (checkpoint keys <c>weight</c> and <c>bias</c>), routed through
/// <see cref="CpuConvolution"/> so that batched CPU calls stay exact.
/// </summary>
public sealed class Convolution3d : nn.Module<Tensor, Tensor>
{
    private readonly long[] _stride;
    private readonly long[] _padding;
    private readonly long[] _dilation;
    private readonly long _groups;

    /// <summary>Kernel weights (C_out, C_in / groups, k, k, k).</summary>
    public Parameter weight;

    /// <summary>Bias (C_out), or null.</summary>
    public Parameter? bias;

    public Convolution3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                         long dilation = 1, long groups = 1, bool hasBias = true) : base(nameof(Convolution3d))
    {
        CpuConvolution.CheckShape(inChannels, outChannels, kernelSize, groups);
        InChannels = inChannels;
        OutChannels = outChannels;
        _stride = [stride, stride, stride];
        _padding = [padding, padding, padding];
        _dilation = [dilation, dilation, dilation];
        _groups = groups;
        weight = NewParameter([outChannels, inChannels / groups, kernelSize, kernelSize, kernelSize]);
        bias = hasBias ? NewParameter([outChannels]) : null;
        ResetParameters(weight, bias, (inChannels / groups) * kernelSize * kernelSize * kernelSize);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    public override Tensor forward(Tensor input) =>
        CpuConvolution.Apply(input, x => nn.functional.conv3d(x, weight, bias, _stride, _padding, _dilation, _groups));

    // A module owns its parameters: built inside a caller's dispose scope (models often are), they
    // must not be disposed when that scope ends.
    internal static Parameter NewParameter(long[] shape)
    {
        using var data = empty(shape);
        var parameter = new Parameter(data);
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    // torch.nn's default: kaiming_uniform(a=√5) weights, uniform(±1/√fan_in) bias.
    internal static void ResetParameters(Tensor weight, Tensor? bias, long fanIn)
    {
        using var noGrad = no_grad();
        nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is null) return;
        var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        nn.init.uniform_(bias, -bound, bound);
    }
}

/// <summary>
/// Transposed 3D convolution (up-sampling), with the parameters and initialisation of
/// torch.nn.ConvTranspose3d (weight (C_in, C_out / groups, k, k, k), keys <c>weight</c>/<c>bias</c>),
/// routed through <see cref="CpuConvolution"/>.
/// </summary>
public sealed class TransposedConvolution3d : nn.Module<Tensor, Tensor>
{
    private readonly long[] _stride;
    private readonly long[] _padding;
    private readonly long[] _outputPadding;
    private readonly long[] _dilation;
    private readonly long _groups;

    /// <summary>Kernel weights (C_in, C_out / groups, k, k, k).</summary>
    public Parameter weight;

    /// <summary>Bias (C_out), or null.</summary>
    public Parameter? bias;

    public TransposedConvolution3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                   long outputPadding = 0, long dilation = 1, long groups = 1, bool hasBias = true)
        : base(nameof(TransposedConvolution3d))
    {
        CpuConvolution.CheckShape(inChannels, outChannels, kernelSize, groups);
        InChannels = inChannels;
        OutChannels = outChannels;
        _stride = [stride, stride, stride];
        _padding = [padding, padding, padding];
        _outputPadding = [outputPadding, outputPadding, outputPadding];
        _dilation = [dilation, dilation, dilation];
        _groups = groups;
        weight = Convolution3d.NewParameter([inChannels, outChannels / groups, kernelSize, kernelSize, kernelSize]);
        bias = hasBias ? Convolution3d.NewParameter([outChannels]) : null;
        // torch computes fan_in from weight.size(1) for transposed convolutions too.
        Convolution3d.ResetParameters(weight, bias, (outChannels / groups) * kernelSize * kernelSize * kernelSize);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    public override Tensor forward(Tensor input) =>
        CpuConvolution.Apply(input, x => nn.functional.conv_transpose3d(x, weight, bias, _stride, _padding, _outputPadding, _dilation, _groups));
}

/// <summary>Factories with torch.nn's names and argument names, so network code reads like the papers' reference code.</summary>
public static class Layers
{
    /// <summary>A <see cref="Convolution3d"/> (cubic kernel, stride, padding, dilation).</summary>
    public static Convolution3d Conv3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                      long dilation = 1, long groups = 1, bool bias = true) =>
        new(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias);

    /// <summary>A <see cref="TransposedConvolution3d"/> (cubic kernel).</summary>
    public static TransposedConvolution3d ConvTranspose3d(long inChannels, long outChannels, long kernelSize, long stride = 1,
                                                          long padding = 0, long output_padding = 0, long dilation = 1,
                                                          long groups = 1, bool bias = true) =>
        new(inChannels, outChannels, kernelSize, stride, padding, output_padding, dilation, groups, bias);
}
