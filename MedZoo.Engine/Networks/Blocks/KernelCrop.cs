using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// The part of a kernel that a convolution can use on an input of a given size. Along an axis of n voxels, a stride-1
/// convolution with a k-tap kernel and padding p multiplies tap j by input voxel o + j − p for every output voxel o; taps
/// that no output voxel aligns with a real input voxel only ever meet the zero padding. V-Net's 5×5×5 convolutions on its
/// deepest level reach that size with 32³ patches: on 2³ voxels only the central 3×3×3 taps are used, a fifth of the
/// 256 × 256 × 125 weights, and oneDNN still reads and multiplies all of them (2.7 → 0.7 ms per call without gradients,
/// 25 → 10 ms with them, on an AMD EPYC). The cropped convolution, the central taps with padding reduced by the taps
/// dropped on each side, computes the same sums without the products with zeros; autograd gives the dropped taps a zero
/// gradient, which is what the full kernel's gradient holds there.
/// </summary>
internal sealed class KernelCrop
{
    private KernelCrop(long[] start, long[] size, ConvolutionSpec spec)
    {
        Start = start;
        Size = size;
        Spec = spec;
    }

    /// <summary>First tap kept, per axis (depth, height, width).</summary>
    public long[] Start { get; }

    /// <summary>Taps kept, per axis.</summary>
    public long[] Size { get; }

    /// <summary>The convolution's settings with each axis's padding reduced by the taps dropped before the first one kept.</summary>
    public ConvolutionSpec Spec { get; }

    /// <summary>Identifies the crop among those of one weight (start and size per axis).</summary>
    public string Signature => $"{string.Join(",", Start)}+{string.Join(",", Size)}";

    /// <summary>
    /// The crop of <paramref name="weightShape"/> for an input of <paramref name="inputShape"/>, or null where every tap
    /// can meet an input voxel, or where the convolution is transposed, strided or dilated, or its output would be empty
    /// (libtorch then names the problem). The output's size is unchanged on every axis.
    /// </summary>
    public static KernelCrop? Find(long[] inputShape, long[] weightShape, ConvolutionSpec spec)
    {
        if (spec.Transposed || inputShape.Length != 5 || weightShape.Length != 5) return null;
        var (stride, _, _, dilation) = spec.Settings;
        if (stride != 1 || dilation != 1) return null;
        var start = new long[3];
        var size = new long[3];
        var padding = new long[3];
        var cropped = false;
        for (var axis = 0; axis < 3; axis++)
        {
            long n = inputShape[axis + 2], k = weightShape[axis + 2], p = spec.Padding[axis];
            var outputSize = n + 2 * p - k + 1;
            if (outputSize < 1) return null;
            // Output voxel o meets input voxels through taps p − o … p − o + n − 1; all outputs together through first … last.
            var first = Math.Max(0, p - (outputSize - 1));
            var last = Math.Min(k - 1, p + n - 1);
            var kept = last - first + 1;
            var keptPadding = p - first;
            if (kept < k && n + 2 * keptPadding - kept + 1 == outputSize)
            {
                (start[axis], size[axis], padding[axis]) = (first, kept, keptPadding);
                cropped = true;
            }
            else (start[axis], size[axis], padding[axis]) = (0, k, p);
        }
        return cropped ? new KernelCrop(start, size, spec.WithPadding(padding)) : null;
    }

    /// <summary>The kept taps of <paramref name="weight"/> (a view; gradients flow back into the full kernel).</summary>
    public Tensor Apply(Tensor weight)
    {
        var w = weight;
        for (var axis = 0; axis < 3; axis++)
            if (Size[axis] != weight.shape[axis + 2]) w = w.narrow(axis + 2, Start[axis], Size[axis]);
        return w;
    }
}
