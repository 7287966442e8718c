using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.Devices;
using MedZoo.Engine.IO;
using MedZoo.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Inference;

/// <summary>Options of <see cref="SegmentationPredictor.Predict"/>.</summary>
public sealed class PredictionOptions
{
    /// <summary>Window (D, H, W); null (default) = the checkpoint's training patch size.</summary>
    public int[]? WindowSize { get; set; }

    /// <summary>Window overlap, 0 ≤ o &lt; 1; default 0.5.</summary>
    public double Overlap { get; set; } = 0.5;

    /// <summary>Blending of overlapping windows; default Gaussian.</summary>
    public BlendMode Blend { get; set; } = BlendMode.Gaussian;

    /// <summary>Windows per forward pass; default 1.</summary>
    public int WindowsPerBatch { get; set; } = 1;

    /// <summary>
    /// Spatial axes for flip test-time augmentation (0 = D, 1 = H, 2 = W); empty (default) = none.
    /// Each pass's class probabilities are flipped back and averaged; 2ⁿ passes for n axes.
    /// </summary>
    public int[] FlipAxes { get; set; } = [];

    /// <summary>Flips for mirroring along every spatial axis: 8 passes (<c>--tta</c>, the reviews' option).</summary>
    public static int[] AllAxes => [0, 1, 2];

    /// <summary>Also return the softmax probabilities; default false.</summary>
    public bool Probabilities { get; set; }

    /// <summary>Keep only the largest connected component of each foreground class; default false.</summary>
    public bool LargestComponent { get; set; }

    /// <summary>Neighbourhood of <see cref="LargestComponent"/>; default 26.</summary>
    public Connectivity Connectivity { get; set; } = Connectivity.Corners26;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate() => ToWindowOptions([1, 1, 1]).Validate();

    internal SlidingWindowOptions ToWindowOptions(int[] patch) => new()
    {
        WindowSize = (WindowSize ?? patch).ToArray(),
        Overlap = Overlap,
        Blend = Blend,
        WindowsPerBatch = WindowsPerBatch,
        FlipAxes = FlipAxes.ToArray(),
        Output = InferenceOutput.Probabilities,
    };
}

/// <summary>A whole-volume prediction on the input's grid.</summary>
/// <param name="Labels">Label volume with the first input's exact geometry (uint8, or int16 when a label value exceeds 255).</param>
/// <param name="Probabilities">Float32 probabilities, one channel per class (x, y, z, classes), same geometry; null unless asked.</param>
/// <param name="ClassVoxels">Voxels predicted per class (index = class).</param>
/// <param name="RemovedByPostprocessing">Voxels set to background by the largest-component filter.</param>
public sealed record PredictionResult(Volume Labels, Volume? Probabilities, long[] ClassVoxels, long RemovedByPostprocessing);

/// <summary>
/// Predicts label volumes with a trained checkpoint: rebuilds the network from the checkpoint's
/// model name and hyper-parameters, loads its weights, normalizes inputs as the checkpoint records,
/// runs the <see cref="SlidingWindowInferer"/> and writes the result on the input's grid. When the
/// checkpoint carries a <see cref="Planning.DatasetPlan"/>, the input is reoriented and resampled as
/// planned and the class probabilities are resampled back before the argmax. Needs
/// nothing but the checkpoint (no trainer options, no dataset).
/// </summary>
public sealed class SegmentationPredictor : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Device _device;

    private SegmentationPredictor(Checkpoint checkpoint, string? device)
    {
        Header = checkpoint.Header;
        (_device, DeviceInfo) = DeviceSelector.Resolve(device);
        _model = CheckpointModels.Build(Header.Model, Header.PatchSize);
        try
        {
            checkpoint.LoadModel(_model);
            _model.to(_device);
            _model.eval();
        }
        catch
        {
            _model.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint's metadata (classes, modalities, normalization, patch size, metrics).</summary>
    public CheckpointHeader Header { get; }

    /// <summary>Where the network runs (with the CPU fallback notice, if any).</summary>
    public DeviceInfo DeviceInfo { get; }

    /// <summary>Loads a checkpoint file.</summary>
    /// <param name="path">A checkpoint written by the trainer.</param>
    /// <param name="device">"auto" (default), "cpu", "cuda", "cuda:N".</param>
    public static SegmentationPredictor Load(string path, string? device = "auto") => new(Checkpoint.Read(path), device);

    /// <summary>Loads a checkpoint from a stream (e.g. a store's <see cref="ICheckpointStore.OpenRead"/>).</summary>
    public static SegmentationPredictor Load(Stream stream, string? device = "auto") => new(Checkpoint.Read(stream), device);

    /// <summary>
    /// Predicts one subject. <paramref name="inputs"/> holds one volume per modality in the
    /// checkpoint's order, or a single multi-channel volume with one channel per modality; all on the
    /// same grid.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of modalities, or inputs of different shapes or grids.</exception>
    public PredictionResult Predict(IReadOnlyList<Volume> inputs, PredictionOptions? options = null,
        Action<SlidingWindowProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new PredictionOptions();
        options.Validate();
        var images = Channels(inputs);
        var first = inputs[0];
        var (x, y, z) = first.Size;
        int[] labels;
        float[]? probabilityValues = null;
        int classes;
        if (Header.Plan is { } plan)
        {
            // The plan's way in and out around the same sliding window: the input is reoriented,
            // normalized and resampled as in training, the window gives class probabilities on that
            // grid, and the probabilities (not labels) are resampled back to the input's grid and
            // orientation, where the argmax is taken.
            var transform = new Planning.PlanTransform(plan, first.Geometry, new SpatialSize(z, y, x));
            var planned = transform.Images(images);
            var size = transform.PlannedSize;
            float[] onPlan;
            using (var scope = NewDisposeScope())
            {
                var probabilities = WindowProbabilities([.. planned], size.D, size.H, size.W, options, progress, cancellation);
                classes = (int)probabilities.shape[0];
                onPlan = probabilities.contiguous().data<float>().ToArray();
            }
            var back = transform.ProbabilitiesToSource(onPlan, classes);
            var n = checked(x * y * z);
            labels = new int[n];
            for (var i = 0; i < n; i++)
            {
                var best = back[i];
                for (var c = 1; c < classes; c++)
                    if (back[(long)c * n + i] > best) { best = back[(long)c * n + i]; labels[i] = c; }
            }
            if (options.Probabilities) probabilityValues = back;
        }
        else
        {
            using var scope = NewDisposeScope();
            var probabilities = Probabilities(images, z, y, x, options, progress, cancellation);
            classes = (int)probabilities.shape[0];
            labels = probabilities.argmax(0).to(int32).data<int>().ToArray();
            if (options.Probabilities) probabilityValues = probabilities.data<float>().ToArray();
        }

        long removed = 0;
        if (options.LargestComponent)
            removed = Postprocessing.KeepLargestComponent(labels, z, y, x, options.Connectivity);
        var counts = new long[classes];
        foreach (var l in labels) counts[l]++;

        var values = Header.LabelValues is { Count: > 0 } lv && lv.Count == classes ? lv.ToArray() : Enumerable.Range(0, classes).ToArray();
        Volume labelVolume;
        if (values.Max() <= byte.MaxValue && values.Min() >= 0)
            labelVolume = Volume.Like(first, Array.ConvertAll(labels, l => (byte)values[l]));
        else
            labelVolume = Volume.Like(first, Array.ConvertAll(labels, l => checked((short)values[l])));
        var probabilityVolume = probabilityValues is { } p ? Volume.Like<float>(first, p, classes) : null;
        return new PredictionResult(labelVolume, probabilityVolume, counts, removed);
    }

    /// <summary>
    /// The class probabilities of one whole volume, averaged over the overlapping windows and, with
    /// <see cref="PredictionOptions.FlipAxes"/>, over every mirrored pass. The entry point for callers
    /// that prepare the volume themselves (reoriented and resampled as a plan says, for instance) and
    /// map the probabilities back; <see cref="Predict"/> uses it too.
    /// </summary>
    /// <param name="image">
    /// (C, D, H, W) floating-point intensities as read, one channel per modality in the checkpoint's
    /// order; D, H, W are a <see cref="Volume"/>'s k, j, i axes (i fastest). Normalized here as the
    /// checkpoint records. Any device; not modified or disposed.
    /// </param>
    /// <param name="options">Window, overlap, blending and flips; labels-only settings (largest component) do not apply.</param>
    /// <param name="progress">Called after every window batch (each counts its passes).</param>
    /// <param name="cancellation">Checked before every window batch.</param>
    /// <returns>(classes, D, H, W) float32 on the CPU, summing to 1 over the classes at every voxel; the caller owns it.</returns>
    /// <exception cref="ArgumentException">Not (C, D, H, W) with the checkpoint's channel count, or bad options.</exception>
    public Tensor PredictProbabilities(Tensor image, PredictionOptions? options = null,
        Action<SlidingWindowProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 4)
            throw new ArgumentException($"image must be (C, D, H, W), got shape ({string.Join(", ", image.shape)})", nameof(image));
        if (!image.is_floating_point())
            throw new ArgumentException($"image must be a floating-point tensor, got {image.dtype}", nameof(image));
        if (image.shape[0] != Header.Model.InChannels)
            throw new ArgumentException($"the checkpoint expects {Header.Model.InChannels} channel(s) ({string.Join(", ", Header.Modalities)}), the image has {image.shape[0]}", nameof(image));
        options ??= new PredictionOptions();
        options.Validate();
        using var scope = NewDisposeScope();
        var cpu = image.to(float32, CPU).contiguous();
        int d = (int)image.shape[1], h = (int)image.shape[2], w = (int)image.shape[3];
        var images = Enumerable.Range(0, (int)image.shape[0]).Select(c => cpu[c].data<float>().ToArray()).ToList();
        return Probabilities(images, d, h, w, options, progress, cancellation).MoveToOuterDisposeScope();
    }

    /// <summary>Normalizes <paramref name="images"/> in place and returns (classes, D, H, W) float32 probabilities on the CPU, in the current scope.</summary>
    private Tensor Probabilities(List<float[]> images, int depth, int height, int width, PredictionOptions options,
        Action<SlidingWindowProgress>? progress, CancellationToken cancellation)
    {
        var clipLow = Header.Normalization.Parameters.GetValueOrDefault("clipLowPercentile", 0);
        var clipHigh = Header.Normalization.Parameters.GetValueOrDefault("clipHighPercentile", 100);
        if (clipLow > 0 || clipHigh < 100)
            foreach (var img in images) Normalization.ClipPercentiles(img, clipLow, clipHigh);
        Normalization.Apply(Normalization.Parse(Header.Normalization.Name), images);
        return WindowProbabilities(images, depth, height, width, options, progress, cancellation);
    }

    /// <summary>(classes, D, H, W) float32 probabilities on the CPU of already normalized images, in the current scope.</summary>
    private Tensor WindowProbabilities(List<float[]> images, int depth, int height, int width, PredictionOptions options,
        Action<SlidingWindowProgress>? progress, CancellationToken cancellation)
    {
        var flat = new float[images.Sum(i => (long)i.Length)];
        for (var c = 0; c < images.Count; c++) images[c].CopyTo(flat, (long)c * images[0].Length);
        var windows = options.ToWindowOptions(Header.PatchSize);
        windows.Device = _device.type == DeviceType.CPU ? null : _device.ToString();
        var inferer = new SlidingWindowInferer(windows);
        var network = (Networks.ISegmentationNetwork)_model;
        network.ValidateInputShape([1, images.Count, windows.WindowSize[0], windows.WindowSize[1], windows.WindowSize[2]]);
        var input = tensor(flat, [1, images.Count, depth, height, width], float32);
        return inferer.Predict(input, _model.call, progress, cancellation)[0].to(float32);
    }

    /// <summary>One float array (D·H·W) per modality, checked against the checkpoint.</summary>
    private List<float[]> Channels(IReadOnlyList<Volume> inputs)
    {
        var expected = Header.Modalities.Count;
        var names = string.Join(", ", Header.Modalities);
        if (inputs.Count == 0)
            throw new ArgumentException($"no input: the checkpoint expects {expected} modalit{(expected == 1 ? "y" : "ies")} ({names})");
        var first = inputs[0];
        if (inputs.Count == 1)
        {
            if (first.Channels != expected)
                throw new ArgumentException($"the checkpoint expects {expected} modalit{(expected == 1 ? "y" : "ies")} ({names}): give one input file per modality in that order, or one file with {expected} channels; the input has {first.Channels} channel(s)");
            return Enumerable.Range(0, expected).Select(first.ChannelToFloatArray).ToList();
        }
        if (inputs.Count != expected)
            throw new ArgumentException($"the checkpoint expects {expected} modalit{(expected == 1 ? "y" : "ies")} ({names}) but {inputs.Count} input files were given");
        for (var i = 0; i < inputs.Count; i++)
        {
            var v = inputs[i];
            if (v.Channels != 1)
                throw new ArgumentException($"input {i + 1} ({Header.Modalities[i]}) has {v.Channels} channels; with one file per modality each must have one");
            if (v.Size != first.Size)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"input {i + 1} ({Header.Modalities[i]}) is {v.Size.X}×{v.Size.Y}×{v.Size.Z} but input 1 ({Header.Modalities[0]}) is {first.Size.X}×{first.Size.Y}×{first.Size.Z}: modalities must share one grid"));
            if (!v.Geometry.ApproximatelyEquals(first.Geometry, 1e-3))
                throw new ArgumentException($"input {i + 1} ({Header.Modalities[i]}) is not on the same grid as input 1 (different affine): register or resample the modalities first");
        }
        return inputs.Select(v => v.ChannelToFloatArray(0)).ToList();
    }

    public void Dispose() => _model.Dispose();
}
