using MedZoo.Engine.Data;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Imaging;

/// <summary>One 2D slice ready to draw: row-major bytes, <see cref="Height"/> rows of <see cref="Width"/>.</summary>
public sealed record SliceImage(int Width, int Height, byte[] Pixels, double PixelWidthMm, double PixelHeightMm);

/// <summary>
/// Cuts 2D slices out of C-order (D, H, W) volumes in the planes the trainer's previews use
/// (axial: constant D, shows H×W; coronal: constant H, shows D×W; sagittal: constant W, shows
/// D×H). In coronal and sagittal slices the D axis runs bottom to top, so the head is up for
/// the usual z-up scans. Intensities are windowed to bytes; labels are copied as class indices.
/// </summary>
public static class SliceExtractor
{
    /// <summary>Slices in <paramref name="plane"/> for a volume of <paramref name="size"/>.</summary>
    public static int Count(SpatialSize size, SlicePlane plane) => plane switch
    {
        SlicePlane.Axial => size.D,
        SlicePlane.Coronal => size.H,
        _ => size.W,
    };

    /// <summary>Class indices of one slice of a label volume.</summary>
    public static SliceImage Labels(byte[] label, SpatialSize size, SlicePlane plane, int index, IReadOnlyList<double> spacingXyz) =>
        Cut(label, size, plane, index, spacingXyz, v => v);

    /// <summary>
    /// One slice of an intensity volume windowed to 0..255 between <paramref name="low"/> and
    /// <paramref name="high"/> (see <see cref="Window"/>).
    /// </summary>
    public static SliceImage Intensities(float[] image, SpatialSize size, SlicePlane plane, int index, IReadOnlyList<double> spacingXyz, float low, float high) =>
        Cut(image, size, plane, index, spacingXyz, v => DisplayWindow.ToByte(v, low, high));

    /// <summary>The display window of a volume: <see cref="DisplayWindow.Of"/>, the one the training previews use.</summary>
    public static (float Low, float High) Window(float[] image) => DisplayWindow.Of(image);

    private static SliceImage Cut<T>(T[] volume, SpatialSize size, SlicePlane plane, int index, IReadOnlyList<double> spacingXyz, Func<T, byte> convert)
    {
        if (volume.Length != size.Voxels)
            throw new ArgumentException($"volume has {volume.Length} values but its size {size.D}×{size.H}×{size.W} needs {size.Voxels}", nameof(volume));
        var count = Count(size, plane);
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{plane} slice must be in 0..{count - 1}");
        double sx = spacingXyz.Count > 0 ? spacingXyz[0] : 1, sy = spacingXyz.Count > 1 ? spacingXyz[1] : 1, sz = spacingXyz.Count > 2 ? spacingXyz[2] : 1;
        switch (plane)
        {
            case SlicePlane.Axial:
            {
                var px = new byte[size.H * size.W];
                for (var h = 0; h < size.H; h++)
                    for (var w = 0; w < size.W; w++)
                        px[h * size.W + w] = convert(volume[size.Index(index, h, w)]);
                return new SliceImage(size.W, size.H, px, sx, sy);
            }
            case SlicePlane.Coronal:
            {
                var px = new byte[size.D * size.W];
                for (var d = 0; d < size.D; d++)
                    for (var w = 0; w < size.W; w++)
                        px[(size.D - 1 - d) * size.W + w] = convert(volume[size.Index(d, index, w)]);
                return new SliceImage(size.W, size.D, px, sx, sz);
            }
            default:
            {
                var px = new byte[size.D * size.H];
                for (var d = 0; d < size.D; d++)
                    for (var h = 0; h < size.H; h++)
                        px[(size.D - 1 - d) * size.H + h] = convert(volume[size.Index(d, h, index)]);
                return new SliceImage(size.H, size.D, px, sy, sz);
            }
        }
    }
}
