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

    /// <summary>
    /// Under <see cref="FreezeWeights"/>, the weight and bias of a convolution followed by <paramref name="norm"/>
    /// in evaluation mode, with the norm folded in: w·s and (b − mean)·s + β per output channel, s = γ / √(var + ε),
    /// computed once per scope (s and the bias in float64). Null outside the scope, while gradients are recorded, and for norms
    /// that do not use running statistics (training mode, or none tracked), where there is nothing to fold.
    /// </summary>
    internal static (Tensor Weight, Tensor Bias)? FoldedNorm(Tensor weight, Tensor? bias, TorchSharp.Modules.BatchNorm norm, bool transposed, long groups)
    {
        if (t_frozen is not { } frozen || is_grad_enabled() || norm.training) return null;
        if (!norm.track_running_stats || norm.running_mean is null || norm.running_var is null) return null;
        if (transposed && groups != 1) return null;
        return frozen.Folded(weight, bias, norm, transposed);
    }

    /// <summary>Norms folded into convolutions in this thread's <see cref="FreezeWeights"/> scope so far (0 outside one).</summary>
    internal static int FoldedNormCount => t_frozen?.FoldedCount ?? 0;

    /// <summary>Channels-last copies of weights, owned by the scope and freed when it ends.</summary>
    private sealed class FrozenWeights : IDisposable
    {
        // Keyed by the norm, which follows one convolution; the weight is kept to notice another one.
        private readonly Dictionary<TorchSharp.Modules.BatchNorm, (Tensor Source, Tensor Weight, Tensor Bias)> _folded = new(ReferenceEqualityComparer.Instance);

        public int FoldedCount => _folded.Count;

        public (Tensor Weight, Tensor Bias) Folded(Tensor weight, Tensor? bias, TorchSharp.Modules.BatchNorm norm, bool transposed)
        {
            if (_folded.TryGetValue(norm, out var known))
            {
                if (ReferenceEquals(known.Source, weight)) return (known.Weight, known.Bias);
                known.Weight.Dispose();
                known.Bias.Dispose();
            }
            Tensor w, b;
            using (var scope = NewDisposeScope())
            {
                using var noGrad = no_grad();
                var channels = norm.running_mean!.shape[0];
                var scale = (norm.running_var!.to(float64) + norm.eps).rsqrt();
                if (norm.affine && norm.weight is { } gamma) scale = scale * gamma.to(float64);
                var shift = -norm.running_mean!.to(float64) * scale;
                if (bias is not null) shift = shift + bias.to(float64) * scale;
                if (norm.affine && norm.bias is { } beta) shift = shift + beta.to(float64);
                long[] shape = transposed ? [1, channels, 1, 1, 1] : [channels, 1, 1, 1, 1];
                // One pass over the weights in their own type (VNET's are 45 M, folded once per volume): the per-channel
                // factors are computed in float64 and rounded once.
                w = (weight.detach() * scale.to(weight.dtype).reshape(shape)).contiguous().MoveToOuterDisposeScope();
                b = shift.to(weight.dtype).MoveToOuterDisposeScope();
            }
            w.DetachFromDisposeScope();
            b.DetachFromDisposeScope();
            _folded[norm] = (weight, w, b);
            return (w, b);
        }

        public static readonly IDisposable Nested = new NoOp();

        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly Dictionary<Tensor, Tensor> _copies = new(ReferenceEqualityComparer.Instance);

        private readonly Dictionary<Tensor, Dictionary<string, Tensor>> _crops = new(ReferenceEqualityComparer.Instance);

        // The same tensor for the same weight and crop each time, so that its channels-last copy is reused too.
        public Tensor Cropped(Tensor weight, KernelCrop crop)
        {
            if (!_crops.TryGetValue(weight, out var byCrop)) _crops[weight] = byCrop = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            if (byCrop.TryGetValue(crop.Signature, out var cropped)) return cropped;
            using (var scope = NewDisposeScope())
                cropped = crop.Apply(weight.detach()).contiguous().MoveToOuterDisposeScope();
            cropped.DetachFromDisposeScope();
            return byCrop[crop.Signature] = cropped;
        }

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
            foreach (var cropped in _crops.Values.SelectMany(c => c.Values)) cropped.Dispose();
            _crops.Clear();
            foreach (var (_, weight, bias) in _folded.Values)
            {
                weight.Dispose();
                bias.Dispose();
            }
            _folded.Clear();
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
        // Kernel taps that can only meet the padding are left out (exact; see KernelCrop), on every device.
        if (KernelCrop.Find(input.shape, weight.shape, spec) is { } crop)
        {
            if (t_frozen is { } frozen) return ApplyUncropped(input, frozen.Cropped(weight, crop), bias, crop.Spec);
            using var scope = NewDisposeScope();
            return ApplyUncropped(input, crop.Apply(weight), bias, crop.Spec).MoveToOuterDisposeScope();
        }
        return ApplyUncropped(input, weight, bias, spec);
    }

    private static Tensor ApplyUncropped(Tensor input, Tensor weight, Tensor? bias, ConvolutionSpec spec)
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
            case ShapeRoute.DepthSplit:
                return DepthSplit(input, weight, bias, spec);
            case ShapeRoute.DepthBatched:
                // Under FreezeWeights the channels-last copy of the weight is made once (DepthBatched keeps it as it is).
                return DepthBatched(input, reuseFrozen && t_frozen is { } frozenWeights ? frozenWeights.ChannelsLast(weight, spec) : weight, bias, spec);
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

    /// <summary>Output channels below which the depth-split route is considered: one oneDNN vector block of float32 on AVX-512.</summary>
    internal const long DepthSplitMaxOutChannels = 15;

    /// <summary>
    /// Whether a convolution may run <see cref="DepthSplit"/>: ungrouped, not transposed, stride 1, no dilation, a
    /// kernel deeper than one, and fewer output channels than one of oneDNN's vector blocks (16 float32 lanes), where
    /// its kernels leave most lanes idle: a segmentation network's last 5×5×5 convolution to its few classes (VNET's
    /// 32 → 4 channels at full size). Whether it is faster is for <see cref="VerifyShape"/> to measure.
    /// </summary>
    internal static bool DepthSplitFits(long[] inputShape, long[] weightShape, ConvolutionSpec spec)
    {
        // Its inner convolution always runs on channels-last data, so only where the process found that layout exact,
        // and never from one input channel (oneDNN's input gradient is unreliable there, see PadsSingleInputChannel).
        if (Route != CpuConvolutionRoute.ChannelsLast) return false;
        if (spec.Transposed || spec.Groups != 1 || inputShape.Length != 5 || weightShape.Length != 5) return false;
        var (stride, padding, _, dilation) = spec.Settings;
        if (stride != 1 || dilation != 1 || !spec.UniformPadding) return false;
        if (weightShape[0] > DepthSplitMaxOutChannels || weightShape[2] < 2 || inputShape[1] < 2) return false;
        return inputShape[2] + 2 * padding - weightShape[2] + 1 >= 1
               && inputShape[3] + 2 * padding - weightShape[3] + 1 >= 1
               && inputShape[4] + 2 * padding - weightShape[4] + 1 >= 1;
    }

    /// <summary>
    /// A k_d×k_h×k_w convolution to O channels as one 1×k_h×k_w convolution to k_d·O channels and a sum of depth-shifted
    /// slices: y[:, o, d] = Σ_j z[:, j·O + o, d + j], where z's channel j·O + o has the weights w[o, :, j]. The same
    /// multiplications, but oneDNN fills k_d times as many lanes (VNET's last layer: 20 output channels instead of 4).
    /// The depth padding is applied to the input, the height and width padding by the convolution, on channels-last
    /// data, and the result stays channels-last as the channels-last route's does. Autograd
    /// differentiates the reshaped weight, the convolution and the sum. Only where <see cref="DepthSplitFits"/>; taken
    /// only where it agreed with the checked routes and was the fastest (<see cref="VerifyShape"/>).
    /// </summary>
    internal static Tensor DepthSplit(Tensor input, Tensor weight, Tensor? bias, ConvolutionSpec spec)
    {
        using var scope = NewDisposeScope();
        var (_, padding, _, _) = spec.Settings;
        var (outChannels, inChannels, kd, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3], weight.shape[4]);
        var stacked = weight.permute(2, 0, 1, 3, 4).reshape(kd * outChannels, inChannels, 1, kh, kw);
        var x = padding > 0 ? nn.functional.pad(input, [0, 0, 0, 0, padding, padding]) : input;
        // Channels-last, where oneDNN is exact for channel counts that are no multiple of its vector width (k_d·O often is not).
        var z = nn.functional.conv3d(ToChannelsLast(x), ToChannelsLast(stacked), null, [1, 1, 1], [0, padding, padding]);
        var depth = z.shape[2] - kd + 1;
        var y = z.narrow(1, 0, outChannels).narrow(2, 0, depth);
        for (long j = 1; j < kd; j++) y = y + z.narrow(1, j * outChannels, outChannels).narrow(2, j, depth);
        if (bias is not null) y = y + bias.reshape(1, outChannels, 1, 1, 1);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Whether a convolution may run <see cref="DepthBatched"/>: one sample, ungrouped, not transposed, stride 1, no
    /// dilation, a kernel deeper than one, at least 2 input channels and 2 output rows of depth, in processes whose route is
    /// channels-last. Whether it is faster is for <see cref="VerifyShape"/> to measure.
    /// </summary>
    internal static bool DepthBatchedFits(long[] inputShape, long[] weightShape, ConvolutionSpec spec)
    {
        // Its convolution runs on channels-last data, so only where the process found that layout exact, and never from
        // one input channel (see PadsSingleInputChannel). At batch 2 and more it never won here (AMD EPYC: UNET3D's and
        // VNET's shapes at 16³–32³), and each candidate costs the first use of every shape a few more convolutions.
        if (Route != CpuConvolutionRoute.ChannelsLast) return false;
        if (spec.Transposed || spec.Groups != 1 || inputShape.Length != 5 || weightShape.Length != 5) return false;
        var (stride, _, _, dilation) = spec.Settings;
        if (stride != 1 || dilation != 1) return false;
        if (inputShape[0] != 1 || weightShape[2] < 2 || inputShape[1] < 2) return false;
        return inputShape[2] + 2 * spec.Padding[0] - weightShape[2] + 1 >= 2
               && inputShape[3] + 2 * spec.Padding[1] - weightShape[3] + 1 >= 1
               && inputShape[4] + 2 * spec.Padding[2] - weightShape[4] + 1 >= 1;
    }

    /// <summary>
    /// A one-sample convolution run as a batch of two: the depth-padded input is cut into two overlapping slabs, each the
    /// input of half the output's depth rows (with the k_d − 1 rows of context they need), the slabs are stacked as a
    /// batch of two, convolved without depth padding, and the halves of the output are put back one after the other.
    /// The same multiplications (a row more when the output's depth is odd), but oneDNN's kernels for one sample can be
    /// far slower than for two: on an AMD EPYC, UNET3D's 16 → 16 channel 3×3×3 convolution at 32³ took 141 ms with
    /// gradients at batch 1 and 8 ms at batch 2, and this route 5 ms. Runs on channels-last data, and the result stays
    /// channels-last. Autograd differentiates the slicing and the stacking. Only where <see cref="DepthBatchedFits"/>;
    /// taken only where it agreed with the checked routes and was the fastest (<see cref="VerifyShape"/>).
    /// </summary>
    internal static Tensor DepthBatched(Tensor input, Tensor weight, Tensor? bias, ConvolutionSpec spec)
    {
        using var scope = NewDisposeScope();
        var padding = spec.Padding;
        var depthPadding = padding[0];
        var kd = weight.shape[2];
        var x = depthPadding > 0 ? nn.functional.pad(input, [0, 0, 0, 0, depthPadding, depthPadding]) : input;
        var depth = x.shape[2] - kd + 1;                          // output rows
        var half = (depth + 1) / 2;                              // rows of each slab's output
        var second = depth - half;                               // the second slab starts at output row `second`
        var slabs = cat([x.narrow(2, 0, half + kd - 1), x.narrow(2, second, half + kd - 1)], 0);
        var y = nn.functional.conv3d(ToChannelsLast(slabs), ToChannelsLast(weight), bias, [1, 1, 1], [0, padding[1], padding[2]]);
        // With an odd depth both slabs computed row `second … half − 1` once more: the second keeps only what is new.
        var overlap = half - second;
        return cat([y.narrow(0, 0, 1), y.narrow(0, 1, 1).narrow(2, overlap, half - overlap)], 2).MoveToOuterDisposeScope();
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

        /// <summary>A 1×k×k convolution to k·O channels and a sum of depth-shifted slices (see <see cref="DepthSplit"/>).</summary>
        DepthSplit,

        /// <summary>One sample as two depth slabs in a batch of two (see <see cref="DepthBatched"/>).</summary>
        DepthBatched,

        /// <summary>In float64 and cast back (both oneDNN routes were wrong).</summary>
        Float64,
    }

    private static readonly ConcurrentDictionary<string, Known> ShapeRoutes = new();
    private static readonly ConcurrentQueue<string> FallbackNotes = new();
    private static readonly ConcurrentQueue<ConvolutionChoice> ProcessChoices = new();

    /// <summary>A shape's route in this process, why, and the timings it was chosen by.</summary>
    private sealed record Known(ShapeRoute Route, string Reason, double? ChannelsLastSeconds, double? PlainSeconds, bool ChannelsLastWrong, double? DepthSplitSeconds = null, double? DepthBatchedSeconds = null);

    /// <summary>
    /// Shapes that failed their check on channels-last data and run another way, one line each, in the
    /// order they were found: every run of this process together (for the bench report). A run's own
    /// list is its <see cref="ConvolutionRunLog"/>.
    /// </summary>
    public static IReadOnlyList<string> Fallbacks => [.. FallbackNotes];

    /// <summary>Number of entries in <see cref="Fallbacks"/> (cheap to poll).</summary>
    public static int FallbackCount => FallbackNotes.Count;

    /// <summary>Every shape routed in this process so far, checked here or read from the cache, in the order first used.</summary>
    public static IReadOnlyList<ConvolutionChoice> Choices => [.. ProcessChoices];

    private static long _checkTicks;
    private static int _checked;

    /// <summary>Time spent checking and timing shapes so far in this process (a one-off cost per shape, saved by the cache).</summary>
    public static TimeSpan CheckTime => TimeSpan.FromTicks(Interlocked.Read(ref _checkTicks));

    /// <summary>Number of shape combinations checked (and timed) in this process, not counting those read from the cache.</summary>
    public static int CheckedShapes => Volatile.Read(ref _checked);

    /// <summary>Forgets this process's shape choices, as a new process starts (for tests of the cache); the totals stay.</summary>
    internal static void ForgetShapes() => ShapeRoutes.Clear();

    /// <summary>The route cache on disk (<see cref="ConvolutionRouteCache.Variable"/>); tests give their own.</summary>
    internal static ConvolutionRouteCache RouteCache { get; set; } = ConvolutionRouteCache.FromEnvironment();

    /// <summary>The cache file in use (null when off) and what happened with it, for the bench report.</summary>
    public static (string? Path, string Status, int Hits) CacheState => (RouteCache.Path, RouteCache.Status, RouteCache.Hits);

    private static readonly Lazy<string> MachineKey = new(() =>
    {
        string version;
        try { version = __version__; }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException) { version = "unknown"; }
        return $"{Devices.CpuIdentity.Model()}\n{CpuFlags()}\n{version}";
    });

    /// <summary>What a saved choice depends on besides its shape (see <see cref="ConvolutionRouteCache"/>).</summary>
    internal static string CacheContext(int threads)
    {
        var parts = MachineKey.Value.Split('\n');
        return ConvolutionRouteCache.ContextKey(parts[0], parts[1], parts[2], Devices.OneDnnIsa.Effective ?? "default", threads, RouteName(Route));
    }

    private static string CpuFlags()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("flags", StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "avx512f" : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "avx2" : "baseline";
    }

    /// <summary>True when <paramref name="x"/> (5-D) is stored channels-last, as a channels-last convolution leaves it.</summary>
    internal static bool IsChannelsLast(Tensor x)
    {
        if (x.dim() != 5 || x.shape[1] == 1) return false;
        var s = x.stride();
        var (c, h, w) = (x.shape[1], x.shape[3], x.shape[4]);
        return s[1] == 1 && s[4] == c && s[3] == c * w && s[2] == c * w * h;
    }

    private static ShapeRoute ShapeRouteOf(Tensor input, Tensor weight, ConvolutionSpec spec)
    {
        var gradients = is_grad_enabled() && (input.requires_grad || weight.requires_grad);
        var inputChannelsLast = IsChannelsLast(input);
        // The layout the input arrives in is part of the key: it decides which route pays a conversion.
        var key = $"{spec.Key} input {Shape(input.shape)}{(inputChannelsLast ? " channels-last" : "")} weight {Shape(weight.shape)}";
        var threads = get_num_threads();
        var memory = $"{threads}|";
        // A shape checked with gradients is good for forward-only calls too; not the other way round.
        string[] candidates = gradients ? [key + " +grad"] : [key + " +grad", key];
        Known? known = null;
        var source = ConvolutionChoiceSource.Process;
        var stored = candidates[0];
        foreach (var k in candidates)
            if (ShapeRoutes.TryGetValue(memory + k, out known)) { stored = k; break; }
        if (known is null)
        {
            var context = CacheContext(threads);
            foreach (var k in candidates)
                if (RouteCache.TryGet(context, k, out var saved))
                {
                    known = new Known(saved.Route, saved.Reason, saved.ChannelsLastSeconds, saved.PlainSeconds, false, saved.DepthSplitSeconds, saved.DepthBatchedSeconds);
                    (stored, source) = (k, ConvolutionChoiceSource.Cache);
                    Trace($"cache {ShapeRouteName(saved.Route)}: {k}");
                    break;
                }
            if (known is null)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var verdict = VerifyShape(input.shape, weight.shape, spec, gradients, channelsLastFirst: Route == CpuConvolutionRoute.ChannelsLast, inputChannelsLast);
                var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                Interlocked.Add(ref _checkTicks, took.Ticks);
                Interlocked.Increment(ref _checked);
                stored = gradients ? key + " +grad" : key;
                Trace($"{took.TotalSeconds:F2} s {verdict.Route} ({verdict.Reason}): {stored}");
                known = new Known(verdict.Route, verdict.Reason, verdict.ChannelsLastSeconds, verdict.PlainSeconds, verdict.ChannelsLastWrong, verdict.DepthSplitSeconds,
                                  verdict.DepthBatchedSeconds);
                RouteCache.Put(context, stored, new CachedRoute(verdict.Route, verdict.ChannelsLastSeconds, verdict.PlainSeconds, verdict.Reason, verdict.DepthSplitSeconds,
                                                                verdict.DepthBatchedSeconds));
                source = ConvolutionChoiceSource.Checked;
            }
            if (ShapeRoutes.TryAdd(memory + stored, known))
            {
                var choice = Choice(stored, known, source);
                ProcessChoices.Enqueue(choice);
                if (choice.LeftChannelsLast) FallbackNotes.Enqueue(choice.Note);
            }
        }
        ConvolutionRunLog.Current?.Note(Choice(stored, known, source));
        return known.Route;
    }

    private static ConvolutionChoice Choice(string key, Known known, ConvolutionChoiceSource source)
    {
        // A fallback: the process runs channels-last, and this shape was found wrong there (or was, when it was saved).
        var wrong = Route == CpuConvolutionRoute.ChannelsLast && known.Route != ShapeRoute.ChannelsLast
                    && (known.ChannelsLastWrong || known.ChannelsLastSeconds is null);
        var how = known.Route switch
        {
            ShapeRoute.ChannelsLast => "runs on channels-last data",
            ShapeRoute.Plain => "runs as a plain NCDHW call",
            ShapeRoute.DepthSplit => "runs depth-split, as a 1×k×k convolution to k times the channels",
            ShapeRoute.DepthBatched => "runs depth-batched, as two depth slabs in a batch of two",
            _ => "runs in float64",
        };
        return new ConvolutionChoice
        {
            Shape = key,
            Route = ShapeRouteName(known.Route),
            Source = source,
            LeftChannelsLast = wrong,
            Reason = known.Reason,
            ChannelsLastSeconds = known.ChannelsLastSeconds,
            PlainSeconds = known.PlainSeconds,
            DepthSplitSeconds = known.DepthSplitSeconds,
            DepthBatchedSeconds = known.DepthBatchedSeconds,
            Note = $"{key}: {how} ({known.Reason})",
        };
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
        ShapeRoute.DepthSplit => "depth_split",
        ShapeRoute.DepthBatched => "depth_batched",
        _ => "float64",
    };

    private static string Shape(long[] shape) => string.Join("×", shape);

    private static readonly bool Tracing = Environment.GetEnvironmentVariable("MEDZOO_CPU_CONV_TRACE") == "1";

    // MEDZOO_CPU_CONV_TRACE=1: each shape check's time and outcome on stderr.
    private static void Trace(string line)
    {
        if (Tracing) Console.Error.WriteLine("[medzoo conv] " + line);
    }

    /// <summary>The outcome of <see cref="VerifyShape"/>: the route, why, and the timings it was chosen by.</summary>
    internal sealed record ShapeVerdict(ShapeRoute Route, string Reason, double? ChannelsLastSeconds, double? PlainSeconds, bool ChannelsLastWrong, double? DepthSplitSeconds = null, double? DepthBatchedSeconds = null);

    /// <summary>How much faster (fraction) the plain call must be to leave channels-last, whose output layout the next layers also use.</summary>
    internal const double PlainMargin = 0.05;

    /// <summary>
    /// Decides how a combination of shapes runs, on fixed pseudo-random data of those exact shapes
    /// (forward, and input and weight gradients when <paramref name="gradients"/>, to 1e-3 relative),
    /// with the input in the layout it arrives in: first which routes are <em>right</em>, then which
    /// right route is <em>fastest</em> on this machine (as cuDNN's benchmark mode). The channels-last
    /// call on channels-last data and the plain call on NCDHW data reach different oneDNN kernels; if
    /// they agree, both are right. Otherwise the same convolution in float64 (libtorch's own kernels,
    /// not oneDNN) decides which of them is, and where neither is, the shape runs in float64. Where
    /// <see cref="DepthSplitFits"/> or <see cref="DepthBatchedFits"/>, the depth-split or depth-batched route is computed
    /// too and counts as right if it agrees with a right direct route (or with float64). Where two or more are right, each is timed (its layout conversions included; the calling thread's CPU time,
    /// see <see cref="Devices.ThreadCpuClock"/>) up to three times, interleaved,
    /// after the check's own call warmed it up, and the fastest by the smallest time wins (another route
    /// than channels-last by at least <see cref="PlainMargin"/>). Costs a few convolutions per new shape, once per process
    /// and context (<see cref="ConvolutionRouteCache"/>); draws nothing from torch's global generator.
    /// </summary>
    internal static ShapeVerdict VerifyShape(long[] inputShape, long[] weightShape, ConvolutionSpec spec, bool gradients, bool channelsLastFirst,
                                             bool inputChannelsLast = false, bool time = true)
    {
        using var scope = NewDisposeScope();
        using var grad = gradients ? enable_grad() : no_grad();
        var generator = new Generator(20261129);
        var x = randn(inputShape, generator: generator);
        if (inputChannelsLast) x = ToChannelsLast(x);
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
        var right = new List<ShapeRoute>();
        var channelsLastWrong = false;
        Tensor[]? exact = null;
        Tensor[] Exact() => exact ??= spec.Transposed || spec.Groups != 1 ? Compute(ShapeRoute.Float64) : Float64InChunks(x, w, upstream, spec, results[0][0].shape);
        // Two kernel families on two layouts agreeing is taken as right (float64 costs 5–20× more).
        if (results.Length == 2 && Agree(results[0], results[1].Select(t => t.to(float64)).ToArray()))
            right.AddRange(order);
        else
        {
            Trace($"disagree: {spec.Key} input {Shape(inputShape)} weight {Shape(weightShape)}{(gradients ? " +grad" : "")}; asking float64");
            right.AddRange(order.Where((_, i) => Agree(results[i], Exact())));
            channelsLastWrong = channelsLastFirst && !right.Contains(ShapeRoute.ChannelsLast);
        }
        // The reshaped routes where they fit: right if they agree with a direct route found right, or else with float64.
        var direct = right.Count > 0 ? results[Array.IndexOf(order, right[0])].Select(t => t.to(float64)).ToArray() : null;
        (bool Fits, ShapeRoute Route)[] reshaped =
            [(DepthSplitFits(inputShape, weightShape, spec), ShapeRoute.DepthSplit), (DepthBatchedFits(inputShape, weightShape, spec), ShapeRoute.DepthBatched)];
        foreach (var (fits, route) in reshaped)
            if (fits && Agree(Compute(route), direct ?? Exact())) right.Add(route);
        if (right.Count == 0)
            return new ShapeVerdict(ShapeRoute.Float64, channelsLastFirst ? "both oneDNN layouts were wrong against float64" : "the plain call was wrong against float64", null, null, channelsLastFirst);
        if (right.Count == 1)
            return new ShapeVerdict(right[0], right[0] == ShapeRoute.Plain && channelsLastFirst ? "channels-last was wrong against float64"
                : right[0] is ShapeRoute.DepthSplit or ShapeRoute.DepthBatched ? $"the direct oneDNN calls were wrong against float64; the {ShapeRouteName(right[0]).Replace('_', '-')} one was right" : "checked against float64", null, null, channelsLastWrong);
        if (!time)
            return new ShapeVerdict(right.Contains(ShapeRoute.ChannelsLast) ? ShapeRoute.ChannelsLast : right[0], "the routes agree; not timed", null, null, channelsLastWrong);

        // The calling thread's CPU time, not the wall clock: on a shared machine the wall clock mostly
        // measures the other processes (single calls varied 2–10× under load), CPU time does not.
        double Time(ShapeRoute route)
        {
            using var timing = NewDisposeScope();
            var started = Devices.ThreadCpuClock.Seconds();
            Compute(route);
            return Devices.ThreadCpuClock.Seconds() - started;
        }
        var best = right.ToDictionary(r => r, _ => double.MaxValue);
        for (var round = 0; round < 3; round++)
        {
            // Interleaved, alternating which goes first, so a burst of load on a shared machine hits each.
            foreach (var r in round % 2 == 0 ? right : Enumerable.Reverse(right)) best[r] = Math.Min(best[r], Time(r));
            var sorted = best.Values.Order().ToArray();
            if (round >= 1 && sorted[1] > 1.5 * sorted[0]) break; // clear already
        }
        var fastest = best.MinBy(p => p.Value).Key;
        // A route that leaves channels-last must win by the margin: the next layers pay for the layout.
        var chosen = best.TryGetValue(ShapeRoute.ChannelsLast, out var clTime) && fastest != ShapeRoute.ChannelsLast && best[fastest] >= clTime * (1 - PlainMargin)
            ? ShapeRoute.ChannelsLast
            : fastest;
        double? Of(ShapeRoute r) => best.TryGetValue(r, out var t) ? t : null;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var timed = string.Join(", ", right.Select(r => string.Create(inv, $"{(r == ShapeRoute.ChannelsLast ? "channels-last" : ShapeRouteName(r))} {best[r] * 1000:F1} ms")));
        var why = $"{(right.Contains(ShapeRoute.ChannelsLast) && right.Contains(ShapeRoute.Plain) ? "both layouts agree" : "the routes agree")}; timed here: {timed}{(Devices.ThreadCpuClock.IsThreadCpuTime ? " of CPU time" : "")}";
        return new ShapeVerdict(chosen, why, Of(ShapeRoute.ChannelsLast), Of(ShapeRoute.Plain), channelsLastWrong, Of(ShapeRoute.DepthSplit), Of(ShapeRoute.DepthBatched));
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
