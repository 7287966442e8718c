using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;


/// <summary>
/// Routes CPU 3D convolutions so that they are both fast and right.
/// <para>
/// libtorch 2.10 as shipped in TorchSharp-cpu 0.107 computes some 3D convolutions wrongly with
/// oneDNN (seen on AMD EPYC with AVX-512). Its <em>blocked</em> kernels, which it picks for NCDHW
/// tensors, fail when a channel count is not a multiple of the vector block: forward and input
/// gradients for 4→8, 8→8, 20→8, 28→12 channels were off by 10–60 %, NaN, or changed from call to
/// call (padding lanes left uninitialised), and a UNET3D step at 64³ had NaN weight gradients. On
/// channels-last (NDHWC) tensors those shapes are exact, and UNET3D and VNET are as precise as in
/// PyTorch 1.13 (benchmarks/GradientCheck), but other shapes fail there instead: 1×1 convolutions to
/// 200–400 channels at batch 2 (the DenseNets) and grouped transposed convolutions (SKIPDENSENET3D),
/// off by 30–70 %.
/// </para>
/// <para>
/// So the route is decided once, at the first CPU convolution, by probing tiny fixed tensors against
/// float64 (forward, input and weight gradients, and a transposed convolution): channels-last if
/// exact; otherwise the plain batched call if that is exact; otherwise oneDNN switched off
/// (<see cref="Devices.LibTorchSwitches"/>) if that makes it exact; otherwise one sample at a time.
/// On the first two, every new combination of layer settings and shapes is then checked on its first
/// use (<see cref="VerifyShape"/>) and runs on the layout that is right for it, or in float64;
/// <see cref="Fallbacks"/> lists the shapes that left channels-last. Channels-last outputs stay
/// channels-last (see <see cref="Apply"/>). <c>MEDZOO_CPU_CONV=channels_last|batched|native|per_sample</c>
/// forces a route, without the per-shape checks.
/// </para>
/// </summary>
public static class CpuConvolution
{
    /// <summary>Environment variable that forces a route.</summary>
    public const string Variable = "MEDZOO_CPU_CONV";

    private static readonly Lazy<(CpuConvolutionRoute Route, string Why, bool Forced)> Decision = new(Decide, LazyThreadSafetyMode.ExecutionAndPublication);

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

    private static (CpuConvolutionRoute, string, bool) Decide()
    {
        var forced = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            foreach (var route in Enum.GetValues<CpuConvolutionRoute>())
            {
                if (!string.Equals(RouteName(route), forced.Trim(), StringComparison.OrdinalIgnoreCase)) continue;
                if (route == CpuConvolutionRoute.Native && !Devices.LibTorchSwitches.TrySetMkldnnEnabled(false))
                    return (CpuConvolutionRoute.PerSample, $"CPU convolutions: {Variable}=native asked for, but oneDNN cannot be switched off in this libtorch; running one sample at a time", true);
                return (route, $"CPU convolutions: {RouteName(route)} ({Variable}={forced.Trim()}; shapes are not checked)", true);
            }
            // An unknown value is not fatal for a library: say so and decide as usual.
            var decided = DecideByProbe();
            return (decided.Item1, $"{decided.Item2} ({Variable}={forced.Trim()} ignored: use channels_last, batched, native or per_sample)", false);
        }
        var (r, why) = DecideByProbe();
        return (r, why, false);
    }

    private static (CpuConvolutionRoute, string) DecideByProbe()
    {
        if (IsExact(channelsLast: true))
            return (CpuConvolutionRoute.ChannelsLast, "CPU convolutions: oneDNN on channels-last data (the self-test found it exact; each new shape is checked on first use)");
        if (IsExact(channelsLast: false))
            return (CpuConvolutionRoute.Batched, "CPU convolutions: libtorch's default (channels-last failed the self-test, the default passed; each new shape is checked on first use)");
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

        public Tensor ChannelsLast(Tensor weight, ConvolutionSpec spec)
        {
            if (_copies.TryGetValue(weight, out var copy)) return copy;
            copy = PrepareWeight(weight.detach(), spec, channelsLast: true);
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
    /// Runs a convolution on the route in effect. On the automatic routes (channels-last, or the
    /// plain call where channels-last failed the self-test) each new combination of shapes is first
    /// checked (<see cref="VerifyShape"/>), because libtorch 2.10's oneDNN kernels are wrong for some
    /// shapes on either layout: channels-last 1×1 convolutions to 200–400 channels at batch 2
    /// (DENSENET1–3, HYPERDENSENET) and grouped transposed convolutions (SKIPDENSENET3D) gave errors
    /// of 30–70 %, where the plain call was exact. Channels-last inputs and weights give outputs in
    /// channels-last order, which are kept: still indexed (B, C, D, H, W), elementwise layers and norms
    /// keep the layout, and the next convolution needs no conversion. Other devices and types run as they are.
    /// </summary>
    internal static Tensor Apply(Tensor input, Tensor weight, Tensor? bias, ConvolutionSpec spec)
    {
        if (input.device_type != DeviceType.CPU || input.dim() != 5 || input.dtype != ScalarType.Float32)
            return spec.Run(input, weight, bias);
        if (Decision.Value.Forced || Route is not (CpuConvolutionRoute.ChannelsLast or CpuConvolutionRoute.Batched))
            NoteUnchecked(input, weight, spec);
        switch (Route)
        {
            case CpuConvolutionRoute.ChannelsLast or CpuConvolutionRoute.Batched when !Decision.Value.Forced:
                return Run(ShapeRouteOf(input, weight, spec), input, weight, bias, spec);
            case CpuConvolutionRoute.ChannelsLast:
                return Run(ShapeRoute.ChannelsLast, input, weight, bias, spec);
            case CpuConvolutionRoute.PerSample when input.shape[0] > 1:
            {
                using var scope = NewDisposeScope();
                var parts = input.split(1, 0);
                var outputs = new Tensor[parts.Length];
                for (var i = 0; i < parts.Length; i++) outputs[i] = spec.Run(parts[i], weight, bias);
                return cat(outputs, 0).MoveToOuterDisposeScope();
            }
            default:
                return spec.Run(input, weight, bias);
        }
    }

    internal static Tensor Run(ShapeRoute route, Tensor input, Tensor weight, Tensor? bias, ConvolutionSpec spec, bool reuseFrozen = true)
    {
        switch (route)
        {
            case ShapeRoute.ChannelsLast:
            {
                using var scope = NewDisposeScope();
                var w = reuseFrozen && t_frozen is { } frozen ? frozen.ChannelsLast(weight, spec) : PrepareWeight(weight, spec, channelsLast: true);
                return spec.Run(ToChannelsLast(PrepareInput(input, spec)), w, bias).MoveToOuterDisposeScope();
            }
            case ShapeRoute.Plain:
            {
                // Inputs often arrive channels-last (the previous convolution's layout): libtorch would
                // then pick the channels-last kernels this shape failed with. Hand it NCDHW.
                using var scope = NewDisposeScope();
                return spec.Run(PrepareInput(input, spec).contiguous(), PrepareWeight(weight, spec, channelsLast: false), bias).MoveToOuterDisposeScope();
            }
            default:
            {
                // Exact but slow: the shape failed on every oneDNN route. Gradients flow through the casts.
                using var scope = NewDisposeScope();
                return spec.Run(input.to(float64), weight.to(float64), bias?.to(float64)).to(float32).MoveToOuterDisposeScope();
            }
        }
    }

    // A convolution from one input channel: oneDNN's input gradient is intermittently wrong or NaN on
    // both layouts (1→8 and 1→25 channels at batch 2, 3×3×3, in 1–3 of 4 calls), as if it read lanes
    // it never wrote; with a second, all-zero input channel (and zero weights for it) it is exact, and
    // the result and both gradients are unchanged. Costs the first layer twice its input.
    private static bool PadsSingleInputChannel(ConvolutionSpec spec, long inputChannels) =>
        !spec.Transposed && spec.Groups == 1 && inputChannels == 1;

    private static Tensor PrepareInput(Tensor input, ConvolutionSpec spec) =>
        PadsSingleInputChannel(spec, input.shape[1]) ? cat([input, zeros_like(input)], 1) : input;

    private static Tensor PrepareWeight(Tensor weight, ConvolutionSpec spec, bool channelsLast)
    {
        var w = PadsSingleInputChannel(spec, weight.shape[1]) ? cat([weight, zeros_like(weight)], 1) : weight;
        return channelsLast ? ToChannelsLast(w) : w.contiguous();
    }

    /// <summary>How one combination of shapes runs, after its check.</summary>
    internal enum ShapeRoute
    {
        /// <summary>oneDNN on channels-last data.</summary>
        ChannelsLast,

        /// <summary>libtorch's plain call on NCDHW data.</summary>
        Plain,

        /// <summary>In float64 and cast back (both oneDNN routes were wrong).</summary>
        Float64,
    }

    private static readonly ConcurrentDictionary<string, (ShapeRoute Route, string? Fallback)> ShapeRoutes = new();
    private static readonly ConcurrentQueue<string> FallbackNotes = new();

    /// <summary>
    /// Shapes that failed their check on channels-last data and run another way, one line each, in the
    /// order they were found: every run of this process together (for the bench report). A run's own
    /// list is its <see cref="ConvolutionRunLog"/>.
    /// </summary>
    public static IReadOnlyList<string> Fallbacks => [.. FallbackNotes];

    /// <summary>Number of entries in <see cref="Fallbacks"/> (cheap to poll).</summary>
    public static int FallbackCount => FallbackNotes.Count;

    private static long _checkTicks;

    /// <summary>Time spent checking shapes so far in this process (a one-off cost per shape).</summary>
    public static TimeSpan CheckTime => TimeSpan.FromTicks(Interlocked.Read(ref _checkTicks));

    /// <summary>Number of shape combinations checked so far in this process.</summary>
    public static int CheckedShapes => ShapeRoutes.Count;

    private static ShapeRoute ShapeRouteOf(Tensor input, Tensor weight, ConvolutionSpec spec)
    {
        var gradients = is_grad_enabled() && (input.requires_grad || weight.requires_grad);
        var key = $"{spec.Key} input {Shape(input.shape)} weight {Shape(weight.shape)}";
        var source = ConvolutionChoiceSource.Process;
        // A shape checked with gradients is good for forward-only calls too; not the other way round.
        if (!ShapeRoutes.TryGetValue(key + " +grad", out var known) && !(!gradients && ShapeRoutes.TryGetValue(key, out known)))
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var route = VerifyShape(input.shape, weight.shape, spec, gradients, channelsLastFirst: Route == CpuConvolutionRoute.ChannelsLast);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            Interlocked.Add(ref _checkTicks, took.Ticks);
            Trace($"{took.TotalSeconds:F2} s {route}: {key}{(gradients ? " +grad" : "")}");
            var fallback = route != ShapeRoute.ChannelsLast && Route == CpuConvolutionRoute.ChannelsLast
                ? $"{key}{(gradients ? " (forward and gradients)" : "")}: wrong on channels-last data, runs {(route == ShapeRoute.Plain ? "as a plain NCDHW call" : "in float64 (both oneDNN layouts were wrong)")}"
                : null;
            known = (route, fallback);
            if (ShapeRoutes.TryAdd(gradients ? key + " +grad" : key, known) && fallback is not null) FallbackNotes.Enqueue(fallback);
            source = ConvolutionChoiceSource.Checked;
        }
        ConvolutionRunLog.Current?.Note(new ConvolutionChoice
        {
            Shape = key,
            Route = ShapeRouteName(known.Route),
            Source = source,
            LeftChannelsLast = known.Fallback is not null,
            Note = known.Fallback ?? $"{key}: runs {ShapeRouteName(known.Route)}",
        });
        return known.Route;
    }

    // Routes without per-shape checks still tell the current run which shapes it used, and how they ran.
    private static void NoteUnchecked(Tensor input, Tensor weight, ConvolutionSpec spec)
    {
        if (ConvolutionRunLog.Current is not { } log) return;
        var key = $"{spec.Key} input {Shape(input.shape)} weight {Shape(weight.shape)}";
        log.Note(new ConvolutionChoice
        {
            Shape = key, Route = RouteName(Route), Source = ConvolutionChoiceSource.Process,
            Note = $"{key}: runs {RouteName(Route)} (the process's route; shapes are not checked)",
        });
    }

    /// <summary>A shape route's name in logs, reports and the cache file.</summary>
    internal static string ShapeRouteName(ShapeRoute route) => route switch
    {
        ShapeRoute.ChannelsLast => "channels_last",
        ShapeRoute.Plain => "plain",
        _ => "float64",
    };

    private static string Shape(long[] shape) => string.Join("×", shape);

    private static readonly bool Tracing = Environment.GetEnvironmentVariable("MEDZOO_CPU_CONV_TRACE") == "1";

    // MEDZOO_CPU_CONV_TRACE=1: each shape check's time and outcome on stderr.
    private static void Trace(string line)
    {
        if (Tracing) Console.Error.WriteLine("[medzoo conv] " + line);
    }

    /// <summary>
    /// Decides how a combination of shapes runs, on fixed pseudo-random data of those exact shapes
    /// (forward, and input and weight gradients when <paramref name="gradients"/>, to 1e-3 relative):
    /// the channels-last call on channels-last data and the plain call on NCDHW data reach different
    /// oneDNN kernels; if they agree, channels-last is used. Otherwise the same convolution in float64
    /// (libtorch's own kernels, not oneDNN) decides which of them is right, and where neither is, the
    /// shape runs in float64. Costs two float32 convolutions per new shape (plus one float64 one where
    /// they disagree), once per process; draws nothing from torch's global generator.
    /// </summary>
    internal static ShapeRoute VerifyShape(long[] inputShape, long[] weightShape, ConvolutionSpec spec, bool gradients, bool channelsLastFirst)
    {
        using var scope = NewDisposeScope();
        using var grad = gradients ? enable_grad() : no_grad();
        var generator = new Generator(20261129);
        var x = randn(inputShape, generator: generator);
        var w = randn(weightShape, generator: generator) * (1 / Math.Sqrt(Math.Max(1, weightShape.Skip(1).Aggregate(1L, (a, b) => a * b))));
        Tensor? upstream = null;
        Tensor[] Compute(ShapeRoute route)
        {
            var xi = x.detach().to(route == ShapeRoute.Float64 ? float64 : float32).requires_grad_(gradients);
            var wi = w.detach().to(route == ShapeRoute.Float64 ? float64 : float32).requires_grad_(gradients);
            var y = route == ShapeRoute.Float64 ? spec.Run(xi, wi, null) : Run(route, xi, wi, null, spec, reuseFrozen: false);
            if (!gradients) return [y.detach()];
            upstream ??= randn(y.shape, generator: generator);
            y.backward([upstream.to(y.dtype)]);
            return [y.detach(), xi.grad!, wi.grad!];
        }
        static bool Agree(Tensor[] a, Tensor[] reference) => a.Zip(reference).All(p => Close(p.First, p.Second.to(float64)));

        ShapeRoute[] order = channelsLastFirst ? [ShapeRoute.ChannelsLast, ShapeRoute.Plain] : [ShapeRoute.Plain];
        var results = order.Select(Compute).ToArray();
        // Two kernel families on two layouts agreeing is taken as right (float64 costs 5–20× more).
        if (results.Length == 2 && Agree(results[0], results[1].Select(t => t.to(float64)).ToArray()))
            return ShapeRoute.ChannelsLast;
        Trace($"disagree: {spec.Key} input {Shape(inputShape)} weight {Shape(weightShape)}{(gradients ? " +grad" : "")}; asking float64");
        var exact = spec.Transposed || spec.Groups != 1 ? Compute(ShapeRoute.Float64) : Float64InChunks(x, w, upstream, spec, results[0][0].shape);
        for (var i = 0; i < order.Length; i++)
            if (Agree(results[i], exact)) return order[i];
        return ShapeRoute.Float64;
    }
    /// <summary>Most bytes one chunk of <see cref="Float64InChunks"/> may unfold (per sample).</summary>
    internal static long Float64ChunkBytes = 256L << 20;

    /// <summary>
    /// The float64 convolution of <paramref name="x"/> with <paramref name="w"/> (no bias), and with an
    /// <paramref name="upstream"/> gradient its input and weight gradients, a few input channels at a
    /// time. libtorch's float64 kernels unfold the input (C_in × k³ × output voxels per sample): 8.4 GB
    /// for VNET's 32→4 5×5×5 layer at 64³. The convolution is a sum over input channels, so chunks
    /// bound the memory (and, measured, are faster: VNET 32³ batch 2 checks 18 → 5 s).
    /// Ungrouped, non-transposed convolutions only.
    /// </summary>
    internal static Tensor[] Float64InChunks(Tensor x, Tensor w, Tensor? upstream, ConvolutionSpec spec, long[] outputShape)
    {
        var gradients = upstream is not null;
        var kernel = w.shape.Skip(2).Aggregate(1L, (a, b) => a * b);
        var voxels = outputShape.Skip(2).Aggregate(1L, (a, b) => a * b);
        var chunk = Math.Clamp(Float64ChunkBytes / Math.Max(1, kernel * voxels * sizeof(double)), 1, x.shape[1]);
        using var grad = gradients ? enable_grad() : no_grad();
        Tensor? y = null;
        var dx = new List<Tensor>();
        var dw = new List<Tensor>();
        for (long c = 0; c < x.shape[1]; c += chunk)
        {
            var n = Math.Min(chunk, x.shape[1] - c);
            var xi = x.detach().narrow(1, c, n).to(float64).requires_grad_(gradients);
            var wi = w.detach().narrow(1, c, n).to(float64).requires_grad_(gradients);
            var part = spec.Run(xi, wi, null);
            if (gradients)
            {
                part.backward([upstream!.to(float64)]);
                dx.Add(xi.grad!);
                dw.Add(wi.grad!);
            }
            y = y is null ? part.detach() : y + part.detach();
        }
        return gradients ? [y!, cat(dx, 1), cat(dw, 1)] : [y!];
    }
}
