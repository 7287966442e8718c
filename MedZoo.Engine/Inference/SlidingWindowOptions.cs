namespace MedZoo.Engine.Inference;

/// <summary>How overlapping window predictions are weighted when they are merged.</summary>
public enum BlendMode
{
    /// <summary>Every voxel of a window counts the same (a plain average of the windows covering it).</summary>
    Constant,

    /// <summary>
    /// Voxels are weighted by a Gaussian centred on the window (σ = <see cref="SlidingWindowOptions.GaussianSigmaScale"/>
    /// × window size per axis, as MONAI and nnU-Net), so border voxels, which see less context, count less.
    /// </summary>
    Gaussian,
}

/// <summary>How a volume smaller than the window is padded.</summary>
public enum WindowPadding
{
    /// <summary>Pad with <see cref="SlidingWindowOptions.PaddingValue"/>.</summary>
    Constant,
    /// <summary>Mirror the volume at its border (needs the volume to be larger than half the padding).</summary>
    Reflect,
    /// <summary>Repeat the border voxel.</summary>
    Replicate,
}

/// <summary>What the inferer returns.</summary>
public enum InferenceOutput
{
    /// <summary>The blended network output as is: (B, classes, D, H, W) float32.</summary>
    Logits,
    /// <summary>Softmax over the class axis of the blended logits: (B, classes, D, H, W) float32.</summary>
    Probabilities,
    /// <summary>Argmax over the class axis: (B, D, H, W) int64.</summary>
    Labels,
}

/// <summary>
/// Options of <see cref="SlidingWindowInferer"/>. Defaults follow nnU-Net (half-window overlap,
/// Gaussian blending) because they give the smoothest seams; MONAI's defaults are overlap 0.25 and
/// constant blending.
/// </summary>
public sealed class SlidingWindowOptions
{
    /// <summary>Window (region of interest) size (D, H, W) in voxels; default 64³. Must suit the network (e.g. divisible by 16 for a 4-level U-Net).</summary>
    public int[] WindowSize { get; set; } = [64, 64, 64];

    /// <summary>Fraction of a window shared with its neighbour along each axis, 0 ≤ overlap &lt; 1; default 0.5.</summary>
    public double Overlap { get; set; } = 0.5;

    /// <summary>Weighting of overlapping windows; default <see cref="BlendMode.Gaussian"/>.</summary>
    public BlendMode Blend { get; set; } = BlendMode.Gaussian;

    /// <summary>σ of the Gaussian weight as a fraction of the window size per axis; default 0.125 (MONAI, nnU-Net). Must be &gt; 0.</summary>
    public double GaussianSigmaScale { get; set; } = 0.125;

    /// <summary>Windows passed to the network in one forward call; default 1. Larger batches are faster on a GPU and cost memory.</summary>
    public int WindowsPerBatch { get; set; } = 1;

    /// <summary>Padding for volumes smaller than the window; default <see cref="WindowPadding.Constant"/>.</summary>
    public WindowPadding Padding { get; set; } = WindowPadding.Constant;

    /// <summary>Value used by <see cref="WindowPadding.Constant"/>; default 0 (the mean after z-score normalization).</summary>
    public double PaddingValue { get; set; }

    /// <summary>
    /// Spatial axes (0 = D, 1 = H, 2 = W) for flip test-time augmentation: every combination of flips
    /// over these axes is predicted, turned into class probabilities (softmax), flipped back and
    /// averaged (as nnU-Net's mirroring). Empty (default): no test-time augmentation. With n axes each
    /// window costs 2ⁿ forward passes. With flips, <see cref="InferenceOutput.Logits"/> returns the log
    /// of the averaged probabilities (its softmax gives them back; its argmax is the same).
    /// </summary>
    public int[] FlipAxes { get; set; } = [];

    /// <summary>What <see cref="SlidingWindowInferer.Predict(TorchSharp.torch.Tensor, Func{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, Action{SlidingWindowProgress}?, CancellationToken)"/> returns; default probabilities.</summary>
    public InferenceOutput Output { get; set; } = InferenceOutput.Probabilities;

    /// <summary>
    /// Device the windows are processed on ("cpu", "cuda", "cuda:N"); null (default) means the input's
    /// device. The network must already live there. The result is returned on the input's device.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (WindowSize is null || WindowSize.Length != 3)
            throw new ArgumentException($"{nameof(WindowSize)} must have 3 values (D, H, W), got {WindowSize?.Length ?? 0}", nameof(WindowSize));
        if (WindowSize.Any(s => s <= 0))
            throw new ArgumentException($"{nameof(WindowSize)} values must be positive, got ({string.Join(", ", WindowSize)})", nameof(WindowSize));
        if (!(Overlap >= 0 && Overlap < 1))
            throw new ArgumentException($"{nameof(Overlap)} must be in [0, 1), got {Overlap}", nameof(Overlap));
        if (!(GaussianSigmaScale > 0) || double.IsInfinity(GaussianSigmaScale))
            throw new ArgumentException($"{nameof(GaussianSigmaScale)} must be positive, got {GaussianSigmaScale}", nameof(GaussianSigmaScale));
        if (WindowsPerBatch < 1)
            throw new ArgumentException($"{nameof(WindowsPerBatch)} must be at least 1, got {WindowsPerBatch}", nameof(WindowsPerBatch));
        if (!Enum.IsDefined(Blend))
            throw new ArgumentException($"{nameof(Blend)} {(int)Blend} is not a blend mode", nameof(Blend));
        if (!Enum.IsDefined(Padding))
            throw new ArgumentException($"{nameof(Padding)} {(int)Padding} is not a padding mode", nameof(Padding));
        if (!Enum.IsDefined(Output))
            throw new ArgumentException($"{nameof(Output)} {(int)Output} is not an output kind", nameof(Output));
        if (!double.IsFinite(PaddingValue))
            throw new ArgumentException($"{nameof(PaddingValue)} must be finite", nameof(PaddingValue));
        if (FlipAxes is null || FlipAxes.Any(a => a is < 0 or > 2) || FlipAxes.Distinct().Count() != FlipAxes.Length)
            throw new ArgumentException($"{nameof(FlipAxes)} must be distinct spatial axes among 0 (D), 1 (H), 2 (W), got ({string.Join(", ", FlipAxes ?? [])})", nameof(FlipAxes));
    }

    /// <summary>A copy that can be changed without affecting this one.</summary>
    public SlidingWindowOptions Clone()
    {
        var c = (SlidingWindowOptions)MemberwiseClone();
        c.WindowSize = (int[])WindowSize.Clone();
        c.FlipAxes = (int[])FlipAxes.Clone();
        return c;
    }
}

/// <summary>Progress of one prediction: windows done out of the total (over the whole batch of volumes).</summary>
public readonly record struct SlidingWindowProgress(int WindowsDone, int WindowsTotal);
