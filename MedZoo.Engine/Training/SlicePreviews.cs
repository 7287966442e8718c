using MedZoo.Engine.Data;

namespace MedZoo.Engine.Training;

/// <summary>
/// Cuts the three orthogonal slices of a validation subject into <see cref="SlicePreview"/> events:
/// the first modality windowed to bytes (<see cref="DisplayWindow"/>, as the viewers window it),
/// the prediction and the ground truth as class indices.
/// </summary>
internal static class SlicePreviews
{
    /// <param name="runId">Run.</param>
    /// <param name="epoch">Epoch the prediction belongs to.</param>
    /// <param name="subjectId">Subject.</param>
    /// <param name="image">First modality, (D, H, W) C order.</param>
    /// <param name="prediction">Predicted classes, (D, H, W).</param>
    /// <param name="groundTruth">Ground-truth classes, (D, H, W); ignored when <paramref name="hasGroundTruth"/> is false.</param>
    /// <param name="hasGroundTruth">Whether the subject is labelled.</param>
    /// <param name="d">D.</param>
    /// <param name="h">H.</param>
    /// <param name="w">W.</param>
    /// <param name="spacing">Voxel size (D, H, W) in mm.</param>
    /// <param name="position">Relative slice position 0..1 along each plane's axis (0.5 = centre).</param>
    public static IEnumerable<SlicePreview> Create(string runId, int epoch, string subjectId, ReadOnlySpan<float> image, ReadOnlySpan<int> prediction,
        ReadOnlySpan<byte> groundTruth, bool hasGroundTruth, int d, int h, int w, (double D, double H, double W) spacing, double position)
    {
        var (lo, hi) = DisplayWindow.Of(image);
        var list = new List<SlicePreview>(3);
        foreach (var plane in new[] { SlicePlane.Axial, SlicePlane.Coronal, SlicePlane.Sagittal })
        {
            var (pxW, pxH) = plane switch
            {
                SlicePlane.Axial => (spacing.W, spacing.H),
                SlicePlane.Coronal => (spacing.W, spacing.D),
                _ => (spacing.H, spacing.D),
            };
            var count = SliceCutter.Count(d, h, w, plane);
            var index = Math.Clamp((int)Math.Round(position * (count - 1)), 0, count - 1);
            var (img, rows, cols) = SliceCutter.Cut(image, d, h, w, plane, index, superiorUp: false, v => DisplayWindow.ToByte(v, lo, hi));
            var pred = SliceCutter.Cut(prediction, d, h, w, plane, index, superiorUp: false, p => (byte)Math.Clamp(p, 0, 255)).Pixels;
            var gt = hasGroundTruth ? SliceCutter.Cut(groundTruth, d, h, w, plane, index, superiorUp: false, g => g).Pixels : null;
            list.Add(new SlicePreview
            {
                RunId = runId, Epoch = epoch, SubjectId = subjectId, Plane = plane, SliceIndex = index, SliceCount = count,
                Width = cols, Height = rows, Image = img, Prediction = pred, GroundTruth = gt, PixelWidthMm = pxW, PixelHeightMm = pxH,
            });
        }
        return list;
    }
}
