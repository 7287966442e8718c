using MedZoo.Engine.Data.Transforms;

namespace MedZoo.Engine.Data.Sampling;

/// <summary>
/// Cuts one patch out of a subject into batch buffers, optionally through a
/// <see cref="SpatialTransform"/>. Voxels outside the volume are padding: 0 for images (the
/// background value after zscore_nonzero/brats normalization) and class 0 (background) for labels.
/// Images are interpolated trilinearly and labels by nearest neighbour, at the same source
/// coordinates for every modality and the label.
/// </summary>
public static class PatchExtractor
{
    /// <summary>
    /// Writes the patch whose unaugmented first voxel is (<paramref name="d0"/>, <paramref name="h0"/>,
    /// <paramref name="w0"/>) into <paramref name="image"/> ((C, D, H, W), C = the subject's channels)
    /// and, when not empty, <paramref name="label"/> ((D, H, W)).
    /// </summary>
    public static void Extract(Subject subject, int d0, int h0, int w0, SpatialSize patch, SpatialTransform transform, Span<float> image, Span<byte> label)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(transform);
        var p = checked((int)patch.Voxels);
        if (image.Length != p * subject.Channels)
            throw new ArgumentException($"image buffer holds {image.Length} values, the patch needs {p * subject.Channels}", nameof(image));
        if (!label.IsEmpty && label.Length != p)
            throw new ArgumentException($"label buffer holds {label.Length} values, the patch needs {p}", nameof(label));
        if (!label.IsEmpty && subject.Label is null)
            throw new ArgumentException($"subject '{subject.Id}' has no label map", nameof(label));
        if (transform.IsIdentity) Crop(subject, d0, h0, w0, patch, image, label);
        else Resample(subject, d0, h0, w0, patch, transform, image, label);
    }

    private static void Crop(Subject s, int d0, int h0, int w0, SpatialSize patch, Span<float> image, Span<byte> label)
    {
        var size = s.Size;
        var p = (int)patch.Voxels;
        image.Clear();
        label.Clear();
        int wa = Math.Max(0, -w0), wb = Math.Min(patch.W, size.W - w0);
        if (wb <= wa) return;
        for (var d = 0; d < patch.D; d++)
        {
            var sd = d0 + d;
            if ((uint)sd >= (uint)size.D) continue;
            for (var h = 0; h < patch.H; h++)
            {
                var sh = h0 + h;
                if ((uint)sh >= (uint)size.H) continue;
                var src = size.Index(sd, sh, w0 + wa);
                var dst = patch.Index(d, h, wa);
                var n = wb - wa;
                for (var c = 0; c < s.Channels; c++)
                    s.Images[c].AsSpan(src, n).CopyTo(image.Slice(c * p + dst, n));
                if (!label.IsEmpty) s.Label.AsSpan(src, n).CopyTo(label.Slice(dst, n));
            }
        }
    }

    private static void Resample(Subject s, int d0, int h0, int w0, SpatialSize patch, SpatialTransform t, Span<float> image, Span<byte> label)
    {
        var size = s.Size;
        var p = (int)patch.Voxels;
        var channels = s.Channels;
        var images = s.Images;
        var lab = s.Label;
        var wantLabel = !label.IsEmpty;
        var elastic = t.Elastic;
        // Source = centre + M·r with r = q − (P − 1)/2 (+ elastic u(q)); the linear part is
        // accumulated along each row instead of recomputed per voxel.
        double cd = d0 + (patch.D - 1) / 2.0, ch = h0 + (patch.H - 1) / 2.0, cw = w0 + (patch.W - 1) / 2.0;
        double m00 = t[0, 0], m01 = t[0, 1], m02 = t[0, 2], m10 = t[1, 0], m11 = t[1, 1], m12 = t[1, 2], m20 = t[2, 0], m21 = t[2, 1], m22 = t[2, 2];
        var q = 0;
        for (var d = 0; d < patch.D; d++)
        {
            var rd = d - (patch.D - 1) / 2.0;
            for (var h = 0; h < patch.H; h++)
            {
                var rh = h - (patch.H - 1) / 2.0;
                var rw0 = -(patch.W - 1) / 2.0;
                var rowD = cd + m00 * rd + m01 * rh + m02 * rw0;
                var rowH = ch + m10 * rd + m11 * rh + m12 * rw0;
                var rowW = cw + m20 * rd + m21 * rh + m22 * rw0;
                for (var w = 0; w < patch.W; w++, q++)
                {
                    double zd = rowD + m02 * w, zh = rowH + m12 * w, zw = rowW + m22 * w;
                    if (elastic is not null)
                    {
                        var (ud, uh, uw) = elastic.At(d, h, w);
                        zd += m00 * ud + m01 * uh + m02 * uw;
                        zh += m10 * ud + m11 * uh + m12 * uw;
                        zw += m20 * ud + m21 * uh + m22 * uw;
                    }
                    if (wantLabel)
                    {
                        var nd = (int)Math.Floor(zd + 0.5); var nh = (int)Math.Floor(zh + 0.5); var nw = (int)Math.Floor(zw + 0.5);
                        label[q] = (uint)nd < (uint)size.D && (uint)nh < (uint)size.H && (uint)nw < (uint)size.W
                            ? lab![size.Index(nd, nh, nw)] : (byte)0;
                    }
                    if (t.IsIntegral)
                    {
                        var nd = (int)Math.Round(zd); var nh = (int)Math.Round(zh); var nw = (int)Math.Round(zw);
                        var inside = (uint)nd < (uint)size.D && (uint)nh < (uint)size.H && (uint)nw < (uint)size.W;
                        var i = inside ? size.Index(nd, nh, nw) : 0;
                        for (var c = 0; c < channels; c++) image[c * p + q] = inside ? images[c][i] : 0f;
                        continue;
                    }
                    Trilinear(images, size, zd, zh, zw, image, p, q);
                }
            }
        }
    }

    private static void Trilinear(IReadOnlyList<float[]> images, SpatialSize size, double zd, double zh, double zw, Span<float> image, int p, int q)
    {
        var channels = images.Count;
        var fd = Math.Floor(zd); var fh = Math.Floor(zh); var fw = Math.Floor(zw);
        int id = (int)fd, ih = (int)fh, iw = (int)fw;
        float ad = (float)(zd - fd), ah = (float)(zh - fh), aw = (float)(zw - fw);
        if (id >= 0 && ih >= 0 && iw >= 0 && id + 1 < size.D && ih + 1 < size.H && iw + 1 < size.W)
        {
            // Interior: all eight neighbours exist, no bounds checks.
            var i000 = size.Index(id, ih, iw);
            var sh = size.W; var sd = size.H * size.W;
            float w000 = (1 - ad) * (1 - ah) * (1 - aw), w001 = (1 - ad) * (1 - ah) * aw, w010 = (1 - ad) * ah * (1 - aw), w011 = (1 - ad) * ah * aw;
            float w100 = ad * (1 - ah) * (1 - aw), w101 = ad * (1 - ah) * aw, w110 = ad * ah * (1 - aw), w111 = ad * ah * aw;
            for (var c = 0; c < channels; c++)
            {
                var v = images[c];
                image[c * p + q] = w000 * v[i000] + w001 * v[i000 + 1] + w010 * v[i000 + sh] + w011 * v[i000 + sh + 1]
                                 + w100 * v[i000 + sd] + w101 * v[i000 + sd + 1] + w110 * v[i000 + sd + sh] + w111 * v[i000 + sd + sh + 1];
            }
            return;
        }
        for (var c = 0; c < channels; c++) image[c * p + q] = 0f;
        if (id < -1 || ih < -1 || iw < -1 || id >= size.D || ih >= size.H || iw >= size.W) return;
        for (var a = 0; a < 2; a++)
        {
            var z = id + a;
            if ((uint)z >= (uint)size.D) continue;
            var wa = a == 0 ? 1 - ad : ad;
            for (var b = 0; b < 2; b++)
            {
                var y = ih + b;
                if ((uint)y >= (uint)size.H) continue;
                var wb = wa * (b == 0 ? 1 - ah : ah);
                for (var e = 0; e < 2; e++)
                {
                    var x = iw + e;
                    if ((uint)x >= (uint)size.W) continue;
                    var weight = wb * (e == 0 ? 1 - aw : aw);
                    if (weight == 0) continue;
                    var i = size.Index(z, y, x);
                    for (var c = 0; c < channels; c++) image[c * p + q] += weight * images[c][i];
                }
            }
        }
    }
}
