using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>How CPU 3D convolutions are computed in this process (see <see cref="CpuConvolution"/>).</summary>
public enum CpuConvolutionRoute
{
    /// <summary>oneDNN on channels-last (NDHWC) data: fast and exact (the default where the self-test passes).</summary>
    ChannelsLast,

    /// <summary>libtorch's default call on NCDHW data (oneDNN's blocked kernels).</summary>
    Batched,

    /// <summary>oneDNN switched off: libtorch's own convolution kernels (exact, slower).</summary>
    Native,

    /// <summary>Last resort: one sample at a time on NCDHW data.</summary>
    PerSample,
}

/// <summary>
/// Routes CPU 3D convolutions so that they are both fast and right.
/// <para>
/// libtorch 2.10 as shipped in TorchSharp-cpu 0.107 computes 3D convolutions wrongly with oneDNN's
/// <em>blocked</em> kernels (the ones it picks for NCDHW tensors) when a channel count is not a
/// multiple of the vector block (16 floats with AVX-512): seen on AMD EPYC, forward and input
/// gradients for 4→8, 8→8, 20→8, 28→12 channels were off by 10–60 %, NaN, or changed from call to
/// call (padding lanes left uninitialised), and a UNET3D step at 64³ had NaN weight gradients. The
/// same kernels on channels-last (NDHWC) tensors are exact for every shape we probed, and as precise
/// as PyTorch 1.13 on whole networks (benchmarks/GradientCheck). So MedZoo hands CPU convolutions
/// channels-last inputs and returns NCDHW outputs, after a self-test.
/// </para>
/// The route is decided once, at the first CPU convolution, by probing tiny fixed tensors against
/// float64 (forward, input and weight gradients, and a transposed convolution):
/// channels-last if exact; otherwise the plain batched call if that is exact; otherwise oneDNN
/// switched off (<see cref="Devices.LibTorchSwitches"/>) if that makes it exact; otherwise one sample
/// at a time. <c>MEDZOO_CPU_CONV=channels_last|batched|native|per_sample</c> forces a route.
/// </summary>
public static class CpuConvolution
{
    /// <summary>Environment variable that forces a route.</summary>
    public const string Variable = "MEDZOO_CPU_CONV";

    private static readonly Lazy<(CpuConvolutionRoute Route, string Why)> Decision = new(Decide, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>How CPU convolutions run in this process (decided at first use).</summary>
    public static CpuConvolutionRoute Route => Decision.Value.Route;

    /// <summary>Why <see cref="Route"/> has its value (for logs, the bench report and the device panel).</summary>
    public static string Explanation => Decision.Value.Why;

    /// <summary>The route's name as <see cref="Variable"/> spells it.</summary>
    public static string RouteName(CpuConvolutionRoute route) => route switch
    {
        CpuConvolutionRoute.ChannelsLast => "channels_last",
        CpuConvolutionRoute.Batched => "batched",
        CpuConvolutionRoute.Native => "native",
        _ => "per_sample",
    };

    private static (CpuConvolutionRoute, string) Decide()
    {
        var forced = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            foreach (var route in Enum.GetValues<CpuConvolutionRoute>())
            {
                if (!string.Equals(RouteName(route), forced.Trim(), StringComparison.OrdinalIgnoreCase)) continue;
                if (route == CpuConvolutionRoute.Native && !Devices.LibTorchSwitches.TrySetMkldnnEnabled(false))
                    return (CpuConvolutionRoute.PerSample, $"CPU convolutions: {Variable}=native asked for, but oneDNN cannot be switched off in this libtorch; running one sample at a time");
                return (route, $"CPU convolutions: {RouteName(route)} ({Variable}={forced.Trim()})");
            }
            // An unknown value is not fatal for a library: say so and decide as usual.
            var decided = DecideByProbe();
            return (decided.Item1, $"{decided.Item2} ({Variable}={forced.Trim()} ignored: use channels_last, batched, native or per_sample)");
        }
        return DecideByProbe();
    }

    private static (CpuConvolutionRoute, string) DecideByProbe()
    {
        if (IsExact(channelsLast: true))
            return (CpuConvolutionRoute.ChannelsLast, "CPU convolutions: oneDNN on channels-last data (the self-test found it exact)");
        if (IsExact(channelsLast: false))
            return (CpuConvolutionRoute.Batched, "CPU convolutions: libtorch's default (channels-last failed the self-test, the default passed)");
        if (Devices.LibTorchSwitches.TrySetMkldnnEnabled(false) && IsExact(channelsLast: false))
            return (CpuConvolutionRoute.Native, "CPU convolutions: oneDNN switched off (its kernels failed the self-test on this CPU); libtorch's own kernels are exact but slower");
        return (CpuConvolutionRoute.PerSample, "CPU convolutions: one sample at a time (every faster route failed the self-test on this CPU)");
    }

    /// <summary>
    /// Compares float32 convolutions (forward, input gradient, weight gradient; batch 2) with float64
    /// on fixed inputs for the channel counts known to fail, a 5×5×5 kernel, a strided one and a
    /// transposed one; true if all agree to 1e-3 relative. Each call runs the probe anew.
    /// </summary>
    internal static bool IsExact(bool channelsLast)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        (long In, long Out, long K, long Stride, bool Transposed)[] cases =
            [(4, 8, 3, 1, false), (8, 8, 3, 1, false), (20, 8, 3, 1, false), (28, 12, 3, 1, false), (2, 16, 5, 1, false),
             (16, 32, 2, 2, false), (12, 20, 3, 2, false), (32, 8, 2, 2, true), (20, 12, 2, 2, true)];
        foreach (var (cin, cout, k, stride, transposed) in cases)
        {
            var x = Deterministic([2, cin, 6, 6, 6], 0.37).requires_grad_(true);
            var w = (Deterministic(transposed ? [cin, cout, k, k, k] : [cout, cin, k, k, k], 0.11) * 0.1).requires_grad_(true);
            var padding = stride == 1 ? k / 2 : 0;
            Tensor Conv(Tensor input, Tensor weight) => transposed
                ? nn.functional.conv_transpose3d(input, weight, null, [stride, stride, stride])
                : nn.functional.conv3d(input, weight, null, [stride, stride, stride], [padding, padding, padding]);
            var y = channelsLast ? Conv(ToChannelsLast(x), ToChannelsLast(w)) : Conv(x, w);
            y.square().sum().backward();
            var x64 = x.detach().to(float64).requires_grad_(true);
            var w64 = w.detach().to(float64).requires_grad_(true);
            var y64 = Conv(x64, w64);
            y64.square().sum().backward();
            if (!Close(y, y64) || !Close(x.grad!, x64.grad!) || !Close(w.grad!, w64.grad!)) return false;
        }
        return true;
    }

    [ThreadStatic] private static FrozenWeights? t_frozen;

    /// <summary>
    /// Until the result is disposed, convolutions on this thread convert each weight to channels-last
    /// once and reuse the copy, instead of once per call. For inference, where the weights cannot
    /// change: a sliding-window pass calls every convolution once per window, and converting VNET's
    /// 45 M weights each time cost more than a second per 80³ volume. Weights must not be modified
    /// inside the scope (their copies would be stale). Nested scopes share the outermost one.
    /// </summary>
    public static IDisposable FreezeWeights()
    {
        if (t_frozen is not null) return FrozenWeights.Nested;
        return t_frozen = new FrozenWeights();
    }

    /// <summary>Channels-last copies of weights, owned by the scope and freed when it ends.</summary>
    private sealed class FrozenWeights : IDisposable
    {
        public static readonly IDisposable Nested = new NoOp();

        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly Dictionary<Tensor, Tensor> _copies = new(ReferenceEqualityComparer.Instance);

        public Tensor ChannelsLast(Tensor weight)
        {
            if (_copies.TryGetValue(weight, out var copy)) return copy;
            copy = ToChannelsLast(weight.detach());
            copy.DetachFromDisposeScope();
            _copies[weight] = copy;
            return copy;
        }

        public void Dispose()
        {
            if (Environment.CurrentManagedThreadId != _thread)
                throw new InvalidOperationException("CpuConvolution.FreezeWeights() must end on the thread that began it (do not await inside it)");
            if (!ReferenceEquals(t_frozen, this)) return;
            t_frozen = null;
            foreach (var copy in _copies.Values) copy.Dispose();
            _copies.Clear();
        }

        private sealed class NoOp : IDisposable
        {
            public void Dispose() { }
        }
    }

    /// <summary>The same values in channels-last (NDHWC) memory order, still indexed (B, C, D, H, W).</summary>
    internal static Tensor ToChannelsLast(Tensor x) => x.permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3);

    private static Tensor Deterministic(long[] shape, double phase)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        return (arange(n, dtype: float32) * 0.7301 + phase).sin().reshape(shape);
    }

    private static bool Close(Tensor a, Tensor reference)
    {
        var scale = reference.abs().max().item<double>();
        var err = (a.to(float64) - reference).abs().max().item<double>();
        return err <= 1e-3 * Math.Max(scale, 1e-12); // NaN compares false: not close
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

    /// <summary>
    /// Runs <paramref name="op"/> (a float32 convolution of an input with a weight) on the route in
    /// effect: channels-last input and weight with an NCDHW output, per sample, or as it is (other
    /// devices and types). Channels-last weights as well as inputs make oneDNN's own weight reorder
    /// cheaper (VNET training step at 32³: 8 % faster, measured).
    /// </summary>
    internal static Tensor Apply(Tensor input, Tensor weight, Func<Tensor, Tensor, Tensor> op)
    {
        if (input.device_type != DeviceType.CPU || input.dim() != 5 || input.dtype != ScalarType.Float32)
            return op(input, weight);
        switch (Route)
        {
            case CpuConvolutionRoute.ChannelsLast:
            {
                using var scope = NewDisposeScope();
                var w = t_frozen is { } frozen ? frozen.ChannelsLast(weight) : ToChannelsLast(weight);
                return op(ToChannelsLast(input), w).contiguous().MoveToOuterDisposeScope();
            }
            case CpuConvolutionRoute.PerSample when input.shape[0] > 1:
            {
                using var scope = NewDisposeScope();
                var parts = input.split(1, 0);
                var outputs = new Tensor[parts.Length];
                for (var i = 0; i < parts.Length; i++) outputs[i] = op(parts[i], weight);
                return cat(outputs, 0).MoveToOuterDisposeScope();
            }
            default:
                return op(input, weight);
        }
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
        ParameterInitialization.Default(weight, bias, (inChannels / groups) * kernelSize * kernelSize * kernelSize);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    public override Tensor forward(Tensor input) =>
        CpuConvolution.Apply(input, weight, (x, w) => nn.functional.conv3d(x, w, bias, _stride, _padding, _dilation, _groups));

    // A module owns its parameters: built inside a caller's dispose scope (models often are), they
    // must not be disposed when that scope ends.
    internal static Parameter NewParameter(long[] shape)
    {
        using var data = empty(shape);
        var parameter = new Parameter(data);
        parameter.DetachFromDisposeScope();
        return parameter;
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
        ParameterInitialization.Default(weight, bias, (outChannels / groups) * kernelSize * kernelSize * kernelSize);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    public override Tensor forward(Tensor input) =>
        CpuConvolution.Apply(input, weight, (x, w) => nn.functional.conv_transpose3d(x, w, bias, _stride, _padding, _outputPadding, _dilation, _groups));
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
