using MedZoo.Engine.Data;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Imaging;

/// <summary>One 2D slice ready to draw: row-major bytes, <see cref="Height"/> rows of <see cref="Width"/>.</summary>
public sealed record SliceImage(int Width, int Height, byte[] Pixels, double PixelWidthMm, double PixelHeightMm);

/// <summary>
/// Cuts 2D slices out of C-order (D, H, W) volumes with the trainer's previews' <see cref="SliceCutter"/>
/// (axial: constant D, shows H×W; coronal: constant H, shows D×W; sagittal: constant W, shows
/// D×H). In coronal and sagittal slices the D axis runs bottom to top, so the head is up for
/// the usual z-up scans. Intensities are windowed to bytes; labels are copied as class indices.
/// </summary>
public static class SliceExtractor
{
    /// <summary>Slices in <paramref name="plane"/> for a volume of <paramref name="size"/>.</summary>
    public static int Count(SpatialSize size, SlicePlane plane) => SliceCutter.Count(size.D, size.H, size.W, plane);

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
        var (pixels, rows, columns) = SliceCutter.Cut<T>(volume, size.D, size.H, size.W, plane, index, superiorUp: true, convert);
        double sx = spacingXyz.Count > 0 ? spacingXyz[0] : 1, sy = spacingXyz.Count > 1 ? spacingXyz[1] : 1, sz = spacingXyz.Count > 2 ? spacingXyz[2] : 1;
        var (pixelWidth, pixelHeight) = plane switch
        {
            SlicePlane.Axial => (sx, sy),
            SlicePlane.Coronal => (sx, sz),
            _ => (sy, sz),
        };
        return new SliceImage(columns, rows, pixels, pixelWidth, pixelHeight);
    }
}
