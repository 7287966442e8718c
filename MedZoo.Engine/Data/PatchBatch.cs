using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Data;

/// <summary>Where one patch of a batch came from: the subject and the patch's first voxel (D, H, W) in it.</summary>
/// <param name="SubjectId">Subject the patch was cut from.</param>
/// <param name="D">Index of the patch's first slice in the subject (negative when the patch is padded before the volume).</param>
/// <param name="H">Index of the patch's first row.</param>
/// <param name="W">Index of the patch's first column.</param>
/// <param name="AnchorClass">Class of the voxel a label-driven sampler centred the patch on; -1 for unanchored crops.</param>
/// <param name="Fallback">True when a threshold sampler gave up after its retries and used its best draw instead.</param>
/// <param name="Augmented">True when a spatial augmentation resampled the patch (origin then gives the unaugmented crop).</param>
public sealed record PatchOrigin(string SubjectId, int D, int H, int W, int AnchorClass = -1, bool Fallback = false, bool Augmented = false);

/// <summary>
/// A batch of patches as plain arrays — no tensors cross the data boundary, so batches can be made
/// on any thread and handed to the trainer, which turns them into tensors inside its own dispose
/// scope (<see cref="ToTensors"/>).
/// </summary>
/// <param name="Images">(B, C, D, H, W) C-order float32 voxels.</param>
/// <param name="Labels">(B, D, H, W) C-order class indices, or null for unlabeled data.</param>
/// <param name="BatchSize">B.</param>
/// <param name="Channels">C (modalities).</param>
/// <param name="PatchSize">(D, H, W) of every patch.</param>
/// <param name="Origins">One entry per patch, in batch order.</param>
public sealed record PatchBatch(float[] Images, byte[]? Labels, int BatchSize, int Channels, SpatialSize PatchSize, IReadOnlyList<PatchOrigin> Origins)
{
    private int _returned;

    /// <summary>Marks the batch as handed back to its loader; false when it already was (see <see cref="PatchLoader.Return"/>).</summary>
    internal bool MarkReturned() => Interlocked.Exchange(ref _returned, 1) == 0;

    /// <summary>(B, C, D, H, W).</summary>
    public long[] ImageShape => [BatchSize, Channels, PatchSize.D, PatchSize.H, PatchSize.W];

    /// <summary>(B, D, H, W).</summary>
    public long[] LabelShape => [BatchSize, PatchSize.D, PatchSize.H, PatchSize.W];

    /// <summary>
    /// New tensors for this batch: the image (B, C, D, H, W) float32 and the label (B, D, H, W)
    /// int64 (null when unlabeled), on <paramref name="device"/> (CPU when null). The caller owns
    /// them: create them inside the training step's dispose scope.
    /// </summary>
    public (Tensor Image, Tensor? Label) ToTensors(Device? device = null)
    {
        var image = torch.tensor(Images, ImageShape, ScalarType.Float32);
        if (device is not null && device.type != DeviceType.CPU)
        {
            var moved = image.to(device);
            image.Dispose();
            image = moved;
        }
        if (Labels is null) return (image, null);
        using var bytes = torch.tensor(Labels, LabelShape, ScalarType.Byte);
        var label = bytes.to(ScalarType.Int64, device ?? CPU);
        return (image, label);
    }
}
