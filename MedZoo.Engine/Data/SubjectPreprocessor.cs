using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>
/// Turns a <see cref="RawSubject"/> into the cached <see cref="Subject"/>: optional crop to the
/// non-zero bounding box, optional percentile clipping, then the normalization — each computed once
/// on the whole volume. Works in place on the raw arrays (they are not used afterwards).
/// </summary>
public static class SubjectPreprocessor
{
    /// <summary>Preprocesses <paramref name="raw"/> as <paramref name="options"/> ask.</summary>
    public static Subject Preprocess(RawSubject raw, DatasetOptions options, int classCount)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(options);
        var images = raw.Images;
        var label = raw.Label;
        var size = raw.Size;
        var geometry = raw.Geometry;
        (int D, int H, int W) offset = default;
        if (options.CropToNonZero && NonZeroBox(raw) is { } box && box.Size != size)
        {
            images = images.Select(img => Crop(img, size, box.Origin, box.Size)).ToArray();
            label = label is null ? null : Crop(label, size, box.Origin, box.Size);
            offset = box.Origin;
            geometry = Translate(geometry, box.Origin);
            size = box.Size;
        }
        if (options.ClipLowPercentile > 0 || options.ClipHighPercentile < 100)
            foreach (var img in images) Normalization.ClipPercentiles(img, options.ClipLowPercentile, options.ClipHighPercentile);
        Normalization.Apply(options.NormalizationKind, images);
        return new Subject(raw.Id, raw.Modalities, images, label, size, geometry, raw.SourceFiles, classCount, raw.Group, raw.Size, offset);
    }

    /// <summary>Bounding box of voxels non-zero in any modality or labelled non-background; null when there is none.</summary>
    internal static ((int D, int H, int W) Origin, SpatialSize Size)? NonZeroBox(RawSubject raw)
    {
        var s = raw.Size;
        int d0 = int.MaxValue, h0 = int.MaxValue, w0 = int.MaxValue, d1 = -1, h1 = -1, w1 = -1;
        for (var d = 0; d < s.D; d++)
            for (var h = 0; h < s.H; h++)
                for (var w = 0; w < s.W; w++)
                {
                    var i = s.Index(d, h, w);
                    var any = raw.Label is not null && raw.Label[i] != 0;
                    for (var c = 0; !any && c < raw.Images.Length; c++) any = raw.Images[c][i] != 0;
                    if (!any) continue;
                    if (d < d0) d0 = d;
                    if (d > d1) d1 = d;
                    if (h < h0) h0 = h;
                    if (h > h1) h1 = h;
                    if (w < w0) w0 = w;
                    if (w > w1) w1 = w;
                }
        if (d1 < 0) return null;
        return ((d0, h0, w0), new SpatialSize(d1 - d0 + 1, h1 - h0 + 1, w1 - w0 + 1));
    }

    private static T[] Crop<T>(T[] src, SpatialSize size, (int D, int H, int W) origin, SpatialSize box)
    {
        var dst = new T[box.Voxels];
        for (var d = 0; d < box.D; d++)
            for (var h = 0; h < box.H; h++)
                Array.Copy(src, size.Index(origin.D + d, origin.H + h, origin.W), dst, box.Index(d, h, 0), box.W);
        return dst;
    }

    private static VolumeGeometry Translate(VolumeGeometry g, (int D, int H, int W) origin)
    {
        // Voxel (i, j, k) of a file is (W, H, D) here: the new first voxel sits at the old (W0, H0, D0).
        var a = g.Affine;
        var (x, y, z) = g.VoxelToWorld(origin.W, origin.H, origin.D);
        a[3] = x; a[7] = y; a[11] = z;
        return new VolumeGeometry(a, g.Spacing.ToArray());
    }
}
