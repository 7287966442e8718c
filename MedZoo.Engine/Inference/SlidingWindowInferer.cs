using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Inference;

/// <summary>
/// Predicts whole volumes with a network trained on patches: the volume is tiled by windows that
/// cover it exactly (the last window of each axis is aligned to the volume's end, so no voxel is
/// left out and none is predicted from padding it does not need), windows are batched through the
/// network, and overlapping predictions are blended with constant or Gaussian weights (MONAI's
/// <c>sliding_window_inference</c>, nnU-Net's predictor). Volumes smaller than the window are padded
/// and the padding is cropped off again.
/// <para>
/// Blending keeps a weighted running mean per voxel, m ← m + (y − m)·w/Σw, instead of Σw·y / Σw: the
/// two agree mathematically, but the running mean reproduces identical window predictions bit for
/// bit (y − m = 0), so an identity network returns its input exactly for any size, overlap, channel
/// count and blend mode. MedicalZoo's stitching fails that test (its tiles land in the wrong place).
/// </para>
/// <para>
/// Tensor lifetime: every window batch runs in its own dispose scope; the accumulators live in the
/// call's scope and are released before returning. The returned tensor belongs to the caller.
/// </para>
/// </summary>
public sealed class SlidingWindowInferer
{
    private readonly SlidingWindowOptions _options;

    /// <param name="options">Validated and copied; later changes to the object do not affect the inferer.</param>
    public SlidingWindowInferer(SlidingWindowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>A copy of the options in use.</summary>
    public SlidingWindowOptions Options => _options.Clone();

    /// <summary>
    /// Predicts <paramref name="input"/> (B, C, D, H, W) with a module (put it in eval mode first).
    /// When the module is an <see cref="ISegmentationNetwork"/>, the window shape is checked against
    /// its constraints first so a bad window size fails with the network's own message.
    /// </summary>
    /// <returns>See <see cref="Predict(Tensor, Func{Tensor, Tensor}, Action{SlidingWindowProgress}?, CancellationToken)"/>.</returns>
    public Tensor Predict(Tensor input, nn.Module<Tensor, Tensor> network, Action<SlidingWindowProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network is ISegmentationNetwork segmentation && input.dim() == 5)
        {
            var w = _options.WindowSize;
            segmentation.ValidateInputShape([Math.Min(_options.WindowsPerBatch, WindowCount(input)), input.shape[1], w[0], w[1], w[2]]);
        }
        return Predict(input, network.call, progress, cancellation);
    }

    /// <summary>
    /// Predicts <paramref name="input"/> (B, C, D, H, W), any spatial size, with
    /// <paramref name="network"/> mapping (n, C, d, h, w) windows to (n, classes, d, h, w) outputs.
    /// Runs under no_grad. <paramref name="input"/> is not modified or disposed.
    /// </summary>
    /// <returns>
    /// A new tensor the caller owns, on the input's device: (B, classes, D, H, W) float (the network's
    /// floating type) for <see cref="InferenceOutput.Logits"/> and <see cref="InferenceOutput.Probabilities"/>,
    /// (B, D, H, W) int64 for <see cref="InferenceOutput.Labels"/>.
    /// </returns>
    public Tensor Predict(Tensor input, Func<Tensor, Tensor> network, Action<SlidingWindowProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(network);
        if (input.dim() != 5)
            throw new ArgumentException($"input must be (B, C, D, H, W), got shape ({string.Join(", ", input.shape)})", nameof(input));
        if (!input.is_floating_point())
            throw new ArgumentException($"input must be a floating-point tensor, got {input.dtype}", nameof(input));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = _options.Device is null ? input.device : torch.device(_options.Device);
        var perVolume = WindowCount(input) * FlipCombinations().Count;
        var total = (int)input.shape[0] * perVolume;
        var outputs = new List<Tensor>();
        for (var b = 0; b < input.shape[0]; b++)
        {
            var blended = PredictOne(input.narrow(0, b, 1), network, device, b * perVolume, total, progress, cancellation);
            var result = _options.Output switch
            {
                // softmax(log p) = p: the log of the averaged probabilities stands for logits under test-time augmentation.
                InferenceOutput.Logits => AveragesProbabilities ? blended.clamp_min(1e-38).log() : blended,
                InferenceOutput.Probabilities => AveragesProbabilities ? blended : blended.softmax(0),
                _ => blended.argmax(0),
            };
            outputs.Add(result.to(input.device));
        }
        return stack(outputs, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Predicts one volume given as a plain array and returns plain arrays (no tensor leaves), for
    /// callers that do not manage tensors (the CLI, the dashboard).
    /// </summary>
    /// <param name="image">(C, D, H, W) voxels in C order (the layout of <see cref="IO.Volume"/> channels).</param>
    /// <param name="channels">C.</param>
    /// <param name="depth">D.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="network">The network (eval mode), on the options' device.</param>
    /// <param name="includeProbabilities">Also return softmax probabilities (classes × D·H·W floats).</param>
    /// <param name="progress">Called after every window batch.</param>
    /// <param name="cancellation">Checked before every window batch.</param>
    public VolumePrediction PredictVolume(float[] image, int channels, int depth, int height, int width, Func<Tensor, Tensor> network,
        bool includeProbabilities = false, Action<SlidingWindowProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (channels <= 0 || depth <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"shape ({channels}, {depth}, {height}, {width}) must be positive");
        if ((long)channels * depth * height * width != image.LongLength)
            throw new ArgumentException($"image has {image.LongLength} values, shape ({channels}, {depth}, {height}, {width}) needs {(long)channels * depth * height * width}", nameof(image));
        using var scope = NewDisposeScope();
        var device = _options.Device is null ? CPU : torch.device(_options.Device);
        var input = tensor(image, [1, channels, depth, height, width], float32, device);
        using var noGrad = no_grad();
        var perVolume = WindowCount(input) * FlipCombinations().Count;
        var blended = PredictOne(input, network, device, 0, perVolume, progress, cancellation);
        var classes = (int)blended.shape[0];
        var labels = blended.argmax(0).to(int32).cpu().data<int>().ToArray();
        float[]? probabilities = null;
        if (includeProbabilities)
            probabilities = (AveragesProbabilities ? blended : blended.softmax(0)).to(float32).cpu().data<float>().ToArray();
        return new VolumePrediction(labels, probabilities, classes, depth, height, width);
    }

    /// <summary>Start offsets of the windows along one axis of length <paramref name="size"/> (≥ window after padding).</summary>
    internal static int[] AxisStarts(int size, int window, double overlap)
    {
        if (size <= window) return [0];
        // Stride as MONAI computes it; floor of a product like 64 × 0.5 is exact, and a tiny epsilon
        // keeps 10 × (1 − 0.7) = 2.9999999999999996 from losing a voxel of stride.
        var stride = Math.Max(1, (int)Math.Floor(window * (1 - overlap) + 1e-9));
        var count = (int)Math.Ceiling((double)(size - window) / stride) + 1;
        var starts = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            var s = Math.Min(i * stride, size - window);
            if (starts.Count == 0 || starts[^1] != s) starts.Add(s);
        }
        return [.. starts];
    }

    /// <summary>All window start positions (d, h, w) for a (padded) volume of the given size.</summary>
    internal IReadOnlyList<(int D, int H, int W)> WindowStarts(int depth, int height, int width)
    {
        var w = _options.WindowSize;
        var ds = AxisStarts(Math.Max(depth, w[0]), w[0], _options.Overlap);
        var hs = AxisStarts(Math.Max(height, w[1]), w[1], _options.Overlap);
        var ws = AxisStarts(Math.Max(width, w[2]), w[2], _options.Overlap);
        var list = new List<(int, int, int)>(ds.Length * hs.Length * ws.Length);
        foreach (var d in ds)
            foreach (var h in hs)
                foreach (var x in ws)
                    list.Add((d, h, x));
        return list;
    }

    private int WindowCount(Tensor input) =>
        WindowStarts((int)input.shape[2], (int)input.shape[3], (int)input.shape[4]).Count;

    /// <summary>
    /// True with test-time augmentation: every pass's output is turned into class probabilities
    /// (softmax) before it is flipped back and averaged, as nnU-Net and MONAI average mirrored
    /// predictions; logits of different passes are not on one scale, probabilities are.
    /// </summary>
    private bool AveragesProbabilities => _options.FlipAxes.Length > 0;

    /// <summary>Flip combinations for test-time augmentation: the identity first, then every non-empty subset of the axes.</summary>
    private List<long[]> FlipCombinations()
    {
        var axes = _options.FlipAxes;
        var combos = new List<long[]>();
        for (var mask = 0; mask < 1 << axes.Length; mask++)
        {
            var dims = new List<long>();
            for (var i = 0; i < axes.Length; i++)
                if ((mask & (1 << i)) != 0) dims.Add(axes[i] + 2);
            combos.Add([.. dims]);
        }
        return combos;
    }

    /// <summary>
    /// Blended outputs (classes, D, H, W) of one volume (1, C, D, H, W), in the current scope: logits,
    /// or with test-time augmentation the probabilities averaged over windows and passes.
    /// </summary>
    private Tensor PredictOne(Tensor volume, Func<Tensor, Tensor> network, Device device, int doneBefore, int total,
        Action<SlidingWindowProgress>? progress, CancellationToken cancellation)
    {
        // Every window runs every convolution with the same weights: convert them once per volume.
        using var frozen = CpuConvolution.FreezeWeights();
        var w = _options.WindowSize;
        long d = volume.shape[2], h = volume.shape[3], x = volume.shape[4];
        var (padded, before) = Pad(volume, w);
        padded = padded.to(device);
        long pd = padded.shape[2], ph = padded.shape[3], px = padded.shape[4];
        var starts = WindowStarts((int)pd, (int)ph, (int)px);
        var combos = FlipCombinations();

        Tensor? accumulator = null;
        Tensor? weightSum = null;
        Tensor? weight = null;
        var done = doneBefore;
        for (var first = 0; first < starts.Count; first += _options.WindowsPerBatch)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = starts.Skip(first).Take(_options.WindowsPerBatch).ToList();
            using var batchScope = NewDisposeScope();
            var windows = cat(batch.Select(s => padded.narrow(2, s.D, w[0]).narrow(3, s.H, w[1]).narrow(4, s.W, w[2])).ToList(), 0);
            foreach (var dims in combos)
            {
                var output = network(dims.Length == 0 ? windows : windows.flip(dims));
                CheckOutput(output, batch.Count, w);
                if (AveragesProbabilities) output = output.softmax(1);
                if (dims.Length > 0) output = output.flip(dims);
                if (accumulator is null)
                {
                    // Allocated lazily because the class count and dtype come from the network's first output;
                    // moved out of the batch scope so they live until the volume is done.
                    var dtype = output.dtype;
                    accumulator = zeros([output.shape[1], pd, ph, px], dtype, device).MoveToOuterDisposeScope();
                    weightSum = zeros([1, pd, ph, px], dtype, device).MoveToOuterDisposeScope();
                    weight = WeightMap(w, dtype, device).MoveToOuterDisposeScope();
                }
                for (var i = 0; i < batch.Count; i++)
                {
                    var (sd, sh, sw) = batch[i];
                    var wsum = weightSum!.narrow(1, sd, w[0]).narrow(2, sh, w[1]).narrow(3, sw, w[2]);
                    wsum.add_(weight!);
                    var ratio = weight!.div(wsum);
                    var acc = accumulator.narrow(1, sd, w[0]).narrow(2, sh, w[1]).narrow(3, sw, w[2]);
                    acc.add_(output[i].sub(acc).mul_(ratio));
                }
            }
            done += batch.Count * combos.Count;
            progress?.Invoke(new SlidingWindowProgress(done, total));
        }
        return accumulator!.narrow(1, before[0], d).narrow(2, before[1], h).narrow(3, before[2], x);
    }

    private static void CheckOutput(Tensor output, int windows, int[] w)
    {
        if (output.dim() != 5 || output.shape[0] != windows || output.shape[2] != w[0] || output.shape[3] != w[1] || output.shape[4] != w[2])
            throw new InvalidOperationException(
                $"the network returned shape ({string.Join(", ", output.shape)}) for {windows} window(s) of ({string.Join(", ", w)}); " +
                $"sliding-window inference needs (n, classes, {w[0]}, {w[1]}, {w[2]})");
        if (!output.is_floating_point())
            throw new InvalidOperationException($"the network returned {output.dtype}; sliding-window inference blends floating-point outputs");
    }

    /// <summary>Pads each spatial axis shorter than the window symmetrically (the extra voxel after), as MONAI does.</summary>
    private (Tensor Padded, long[] Before) Pad(Tensor volume, int[] w)
    {
        var before = new long[3];
        var after = new long[3];
        for (var a = 0; a < 3; a++)
        {
            var size = volume.shape[2 + a];
            if (size >= w[a]) continue;
            var totalPad = w[a] - size;
            before[a] = totalPad / 2;
            after[a] = totalPad - before[a];
        }
        if (before.All(p => p == 0) && after.All(p => p == 0)) return (volume, before);
        if (_options.Padding == WindowPadding.Reflect)
            for (var a = 0; a < 3; a++)
                if (Math.Max(before[a], after[a]) >= volume.shape[2 + a])
                    throw new ArgumentException(
                        $"reflect padding needs the volume to be larger than the padding: axis {a} has {volume.shape[2 + a]} voxels and needs {Math.Max(before[a], after[a])} of padding; use constant or replicate padding");
        // pad() lists the last axis first.
        long[] pad = [before[2], after[2], before[1], after[1], before[0], after[0]];
        var mode = _options.Padding switch
        {
            WindowPadding.Reflect => PaddingModes.Reflect,
            WindowPadding.Replicate => PaddingModes.Replicate,
            _ => PaddingModes.Constant,
        };
        return (nn.functional.pad(volume, pad, mode, _options.PaddingValue), before);
    }

    /// <summary>(1, d, h, w) weights: ones, or a separable Gaussian normalized to 1 at its peak and clamped at 1e-3 (MONAI) so no voxel gets zero weight.</summary>
    private Tensor WeightMap(int[] w, ScalarType dtype, Device device)
    {
        if (_options.Blend == BlendMode.Constant)
            return ones([1, w[0], w[1], w[2]], dtype, device);
        var axes = new double[3][];
        for (var a = 0; a < 3; a++)
        {
            var sigma = _options.GaussianSigmaScale * w[a];
            var center = (w[a] - 1) / 2.0;
            axes[a] = Enumerable.Range(0, w[a]).Select(i => Math.Exp(-(i - center) * (i - center) / (2 * sigma * sigma))).ToArray();
        }
        var values = new double[w[0] * w[1] * w[2]];
        var n = 0;
        var max = 0.0;
        foreach (var a in axes[0])
            foreach (var b in axes[1])
                foreach (var c in axes[2])
                {
                    values[n] = a * b * c;
                    max = Math.Max(max, values[n++]);
                }
        for (var i = 0; i < values.Length; i++) values[i] = Math.Max(values[i] / max, 1e-3);
        return tensor(values, [1, w[0], w[1], w[2]], float64).to(dtype, device);
    }
}

/// <summary>
/// A whole-volume prediction as plain arrays.
/// </summary>
/// <param name="Labels">Predicted class per voxel, (D, H, W) in C order (W fastest).</param>
/// <param name="Probabilities">Softmax probabilities (classes, D, H, W) in C order, or null when not requested.</param>
/// <param name="Classes">Number of classes the network predicts.</param>
/// <param name="Depth">D.</param>
/// <param name="Height">H.</param>
/// <param name="Width">W.</param>
public sealed record VolumePrediction(int[] Labels, float[]? Probabilities, int Classes, int Depth, int Height, int Width);
