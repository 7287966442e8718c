using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.Nifti;

/// <summary>
/// Writes NIfTI-1/-2 single files and .hdr/.img pairs so that reading them back (with MedZoo or
/// nibabel) gives the same shape, datatype, values, scaling and affine:
/// <list type="bullet">
/// <item>the sform holds the affine, with the geometry's world-space code (Aligned when unknown);</item>
/// <item>the qform holds it too, with the same code, when it is a rotation times the voxel
/// spacing (possibly flipped, via qfac); otherwise qform_code is 0;</item>
/// <item>NIfTI-1 stores both in float32. When float32 cannot represent the affine but the float32
/// qform reproduces it bit for bit (an affine that came from a qform), sform_code is set to 0 so
/// readers use the exact qform; when neither is exact, the float32 sform is the best NIfTI-1 can do
/// (NIfTI-2 keeps doubles).</item>
/// </list>
/// </summary>
internal static class NiftiWriter
{
    private const int Nifti1MaxDim = short.MaxValue;

    public static void Write(Volume volume, string path, VolumeWriteOptions options)
    {
        var lower = path.ToLowerInvariant();
        var gz = lower.EndsWith(".gz", StringComparison.Ordinal);
        var stem = gz ? lower[..^3] : lower;
        var pair = stem.EndsWith(".hdr", StringComparison.Ordinal) || stem.EndsWith(".img", StringComparison.Ordinal);
        var needsV2 = volume.Shape.Any(d => d > Nifti1MaxDim);
        var version = options.NiftiVersion ?? (needsV2 ? 2 : 1);
        if (version == 1 && needsV2)
            throw new ArgumentException(
                $"{Path.GetFileName(path)}: shape ({string.Join(", ", volume.Shape)}) has a dimension above {Nifti1MaxDim}, which NIfTI-1 cannot store; write NIfTI-2 (NiftiVersion = 2 or automatic)",
                nameof(options));

        var header = BuildHeader(volume, version, pair, options.BigEndian);
        var headerBytes = header.ToBytes();
        var data = volume.RawBytes;
        var elementSize = volume.DataType.Size();
        if (!pair)
        {
            using var output = VolumeOutput.Create(path, gz, options.CompressionLevel);
            output.Write(headerBytes);
            // Four zero bytes: "no extensions follow" (the data starts at vox_offset right after them).
            output.Write([0, 0, 0, 0]);
            output.WriteData(data, elementSize, options.BigEndian);
            output.Commit();
            return;
        }
        var gzExt = gz ? path[^3..] : "";
        var stemPath = gz ? path[..^3] : path;
        var ext = Path.GetExtension(stemPath);
        var upper = ext.Skip(1).All(char.IsUpper);
        var hdrPath = stemPath[..^ext.Length] + (upper ? ".HDR" : ".hdr") + gzExt;
        var imgPath = stemPath[..^ext.Length] + (upper ? ".IMG" : ".img") + gzExt;
        using var hdrOut = VolumeOutput.Create(hdrPath, gz, options.CompressionLevel);
        using var imgOut = VolumeOutput.Create(imgPath, gz, options.CompressionLevel);
        hdrOut.Write(headerBytes);
        imgOut.WriteData(data, elementSize, options.BigEndian);
        imgOut.Commit();
        hdrOut.Commit();
    }

    /// <summary>The header for <paramref name="volume"/> (public for tests of the encoding rules).</summary>
    public static NiftiHeader BuildHeader(Volume volume, int version, bool pair, bool bigEndian)
    {
        var h = new NiftiHeader
        {
            Version = version,
            BigEndian = bigEndian,
            Magic = (pair ? "ni" : "n+") + version,
            DataType = NiftiDataTypes.Code(volume.DataType),
            BitPix = volume.DataType.Size() * 8,
            VoxOffset = pair ? 0 : NiftiHeader.SizeOf(version) + 4,
            SclSlope = volume.Slope,
            SclInter = volume.Intercept,
            XyztUnits = 2, // NIFTI_UNITS_MM: our affines are in millimetres
            Description = "MedZoo",
        };
        h.Dim[0] = volume.Shape.Count;
        for (var i = 1; i < 8; i++) h.Dim[i] = i <= volume.Shape.Count ? volume.Shape[i - 1] : 1;
        var g = volume.Geometry;
        for (var i = 1; i < 8; i++)
            h.PixDim[i] = i <= 3 ? Math.Abs(g.Spacing[i - 1]) : i <= volume.Zooms.Count ? volume.Zooms[i - 1] : 1;
        EncodeAffine(h, g);
        return h;
    }

    private static void EncodeAffine(NiftiHeader h, VolumeGeometry g)
    {
        var a = g.Affine;
        Func<double, double> stored = h.Version == 1 ? v => (float)v : v => v;
        var code = g.Space == WorldSpace.Unknown ? (int)WorldSpace.Aligned : (int)g.Space;
        for (var i = 0; i < 4; i++)
        {
            h.SrowX[i] = a[i];
            h.SrowY[i] = a[4 + i];
            h.SrowZ[i] = a[8 + i];
        }
        var sformExact = a.AsSpan(0, 12).ToArray().All(v => stored(v) == v);
        h.PixDim[0] = 1;
        var qformExact = false;
        if (NiftiGeometry.TryEncodeQform(a, g.Spacing.ToArray(), out var q))
        {
            h.QformCode = code;
            h.PixDim[0] = q.Qfac;
            h.QuaternB = q.B;
            h.QuaternC = q.C;
            h.QuaternD = q.D;
            h.QoffsetX = q.X;
            h.QoffsetY = q.Y;
            h.QoffsetZ = q.Z;
            if (!sformExact)
            {
                // Reconstruct exactly as a reader will, from the values as they will be stored.
                double[] vox = [stored(h.PixDim[1]), stored(h.PixDim[2]), stored(h.PixDim[3])];
                var back = NiftiGeometry.QformAffine(stored(q.B), stored(q.C), stored(q.D), stored(q.X), stored(q.Y), stored(q.Z), vox, q.Qfac, h.Version);
                qformExact = back is not null && back.AsSpan(0, 12).SequenceEqual(a.AsSpan(0, 12));
            }
        }
        h.SformCode = !sformExact && qformExact ? 0 : code;
    }
}
