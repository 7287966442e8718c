namespace MedZoo.Engine.Training;

/// <summary>
/// The one way a 2D slice is cut out of a C-order (D, H, W) volume, for training previews and the
/// dataset viewer alike: axial (constant D) shows H rows of W; coronal (constant H) shows D rows of
/// W; sagittal (constant W) shows D rows of H. Pixels are row-major.
/// </summary>
public static class SliceCutter
{
    /// <summary>Slices in <paramref name="plane"/> for a volume of (<paramref name="d"/>, <paramref name="h"/>, <paramref name="w"/>).</summary>
    public static int Count(int d, int h, int w, SlicePlane plane) => plane switch
    {
        SlicePlane.Axial => d,
        SlicePlane.Coronal => h,
        _ => w,
    };

    /// <summary>Slice <paramref name="index"/> of <paramref name="plane"/>, each voxel converted to a byte.</summary>
    /// <param name="volume">The voxels, (D, H, W) C order.</param>
    /// <param name="d">D.</param>
    /// <param name="h">H.</param>
    /// <param name="w">W.</param>
    /// <param name="plane">The plane.</param>
    /// <param name="index">The slice along the plane's constant axis.</param>
    /// <param name="superiorUp">
    /// Coronal and sagittal rows run from the last D to the first (the head up for the usual z-up
    /// scans, as the dataset viewer shows them) instead of from the first (as training previews do).
    /// </param>
    /// <param name="convert">A voxel's display byte (a window for intensities, the class for labels).</param>
    /// <returns>The pixels, <c>Rows</c> rows of <c>Columns</c>.</returns>
    public static (byte[] Pixels, int Rows, int Columns) Cut<T>(ReadOnlySpan<T> volume, int d, int h, int w, SlicePlane plane, int index,
        bool superiorUp, Func<T, byte> convert)
    {
        ArgumentNullException.ThrowIfNull(convert);
        if ((long)d * h * w != volume.Length)
            throw new ArgumentException($"volume has {volume.Length} values but its size {d}×{h}×{w} needs {(long)d * h * w}", nameof(volume));
        var count = Count(d, h, w, plane);
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{plane} slice must be in 0..{count - 1}");
        var (rows, columns) = plane switch
        {
            SlicePlane.Axial => (h, w),
            SlicePlane.Coronal => (d, w),
            _ => (d, h),
        };
        var pixels = new byte[rows * columns];
        for (var r = 0; r < rows; r++)
        {
            // Axial rows are H; coronal and sagittal rows are D, flipped when the head goes up.
            var row = plane != SlicePlane.Axial && superiorUp ? rows - 1 - r : r;
            for (var c = 0; c < columns; c++)
            {
                var voxel = plane switch
                {
                    SlicePlane.Axial => (index * h + row) * w + c,
                    SlicePlane.Coronal => (row * h + index) * w + c,
                    _ => (row * h + c) * w + index,
                };
                pixels[r * columns + c] = convert(volume[voxel]);
            }
        }
        return (pixels, rows, columns);
    }
}
