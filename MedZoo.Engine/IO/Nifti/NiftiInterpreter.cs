using System.Globalization;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.Nifti;

/// <summary>
/// Turns stored NIfTI-1/-2 header fields into a <see cref="VolumeHeader"/> the way nibabel's
/// loader does, including the repairs nibabel applies silently on load (pixdim[1..3] of 0 read as 1
/// and negative ones as their absolute value, a qfac other than ±1 read as 1, transform codes
/// outside 0..5 read as 0) and its two FreeSurfer shape conventions. Problems nibabel refuses
/// (bad magic, unknown datatype, corrupt NIfTI-2 EOL bytes, invalid quaternion, a non-finite
/// intercept with a valid slope) and ones that would make the data unreadable (dims, vox_offset)
/// raise <see cref="VolumeFormatException"/>.
/// </summary>
internal static class NiftiInterpreter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// Interprets a NIfTI header read from <paramref name="path"/>; <paramref name="single"/> is true
    /// for .nii (data after the header in the same file, so vox_offset must lie beyond it).
    /// </summary>
    public static VolumeHeader Interpret(NiftiHeader h, string path, string dataPath, bool single, bool compressed)
    {
        VolumeFormatException Fail(string problem) => new(path, problem);
        var version = h.Version;
        var label = "NIfTI header";
        if (version == 2 && !(h.EolCheck is [13, 10, 26, 10] or [0, 0, 0, 0]))
            throw Fail($"NIfTI-2 header bytes 8-11 are {string.Join(" ", h.EolCheck.Select(b => b.ToString("X2", Inv)))}, not 0D 0A 1A 0A: the file was corrupted by a text-mode transfer");

        var ndim = h.Dim[0];
        if (ndim is < 1 or > 7)
            throw Fail($"{label} dim[0]={ndim} must be between 1 and 7 (the number of dimensions)");
        var shape = h.Dim.AsSpan(1, (int)ndim).ToArray();
        if (version == 1 && ndim >= 3)
        {
            // FreeSurfer conventions nibabel honours: a long vector stored as (-1, 1, 1) with its
            // length in glmin, and the ico7 surface stored as 27307×1×6.
            if (shape[0] == -1 && shape[1] == 1 && shape[2] == 1)
            {
                if (h.GlMin <= 0)
                    throw Fail($"{label} dim[1]=-1 marks a FreeSurfer long vector but glmin={h.GlMin} is not a positive length");
                shape[0] = h.GlMin;
            }
            else if (shape[0] == 27307 && shape[1] == 1 && shape[2] == 6)
            {
                shape[0] = 163842;
                shape[2] = 1;
            }
        }
        for (var i = 0; i < shape.Length; i++)
            if (shape[i] <= 0)
                throw Fail($"{label} dim[{i + 1}]={shape[i]} must be positive");

        if (!NiftiDataTypes.TryGet(h.DataType, out var type))
            throw Fail(NiftiDataTypes.Unsupported(h.DataType));

        var spatial = SpatialPixdim(h, Fail, label);
        var zooms = Zooms(h, spatial, (int)ndim);
        var (affine, space) = BestAffine(h, spatial, Fail, label);

        double slope = 1, inter = 0;
        if (h.SclSlope != 0 && double.IsFinite(h.SclSlope))
        {
            if (!double.IsFinite(h.SclInter))
                throw Fail($"{label} scl_inter={h.SclInter.ToString(Inv)} is not finite while scl_slope={h.SclSlope.ToString(Inv)} asks for scaling");
            slope = h.SclSlope;
            inter = h.SclInter;
        }

        var headerBytes = NiftiHeader.SizeOf(version);
        var voxOffset = h.VoxOffset;
        if (!double.IsFinite(voxOffset) || voxOffset < 0)
            throw Fail($"{label} vox_offset={voxOffset.ToString(Inv)} must be a non-negative byte offset");
        var offset = (long)Math.Truncate(voxOffset);
        if (single)
        {
            // vox_offset 0 in a single file means "unset" (niftilib reads from the end of the header);
            // anything else inside the header is a corrupt header, not data.
            if (offset == 0) offset = headerBytes + 4;
            else if (offset < headerBytes)
                throw Fail($"{label} vox_offset={offset} lies inside the {headerBytes}-byte header (must be at least {headerBytes + 4})");
        }

        return new VolumeHeader
        {
            Path = path,
            DataPath = dataPath,
            Format = version == 2 ? VolumeFileFormat.Nifti2 : VolumeFileFormat.Nifti1,
            DataType = type,
            Shape = shape,
            Zooms = zooms,
            Geometry = DataLayout.Geometry(path, affine, spatial, space),
            Slope = slope,
            Intercept = inter,
            BigEndian = h.BigEndian,
            Compressed = compressed,
            DataOffset = offset,
            Description = h.Description,
        };
    }

    /// <summary>pixdim[1..3] as nibabel repairs them on load: 0 → 1, negative → absolute value.</summary>
    public static double[] SpatialPixdim(NiftiHeader h, Func<string, VolumeFormatException> fail, string label)
    {
        var spacing = new double[3];
        for (var i = 0; i < 3; i++)
        {
            var v = h.PixDim[i + 1];
            if (!double.IsFinite(v))
                throw fail($"{label} pixdim[{i + 1}]={v.ToString(Inv)} is not a finite voxel size");
            spacing[i] = v == 0 ? 1 : Math.Abs(v);
        }
        return spacing;
    }

    /// <summary>nibabel's get_zooms(): pixdim[1..ndim], the spatial ones repaired.</summary>
    public static double[] Zooms(NiftiHeader h, double[] spatial, int ndim)
    {
        var zooms = new double[ndim];
        for (var i = 0; i < ndim; i++) zooms[i] = i < 3 ? spatial[i] : h.PixDim[i + 1];
        return zooms;
    }

    private static (double[] Affine, WorldSpace Space) BestAffine(NiftiHeader h, double[] spacing, Func<string, VolumeFormatException> fail, string label)
    {
        var sformCode = h.SformCode is >= 1 and <= 5 ? h.SformCode : 0;
        var qformCode = h.QformCode is >= 1 and <= 5 ? h.QformCode : 0;
        if (sformCode > 0)
        {
            double[] a = [.. h.SrowX, .. h.SrowY, .. h.SrowZ, 0, 0, 0, 1];
            if (a.Any(v => !double.IsFinite(v)))
                throw fail($"{label} sform (sform_code={sformCode}) contains a non-finite value");
            return (a, (WorldSpace)sformCode);
        }
        if (qformCode > 0)
        {
            double[] p = [h.QuaternB, h.QuaternC, h.QuaternD, h.QoffsetX, h.QoffsetY, h.QoffsetZ];
            if (p.Any(v => !double.IsFinite(v)))
                throw fail($"{label} qform (qform_code={qformCode}) contains a non-finite quaternion or offset");
            var qfac = h.PixDim[0] is 1 or -1 ? h.PixDim[0] : 1;
            var a = NiftiGeometry.QformAffine(h.QuaternB, h.QuaternC, h.QuaternD, h.QoffsetX, h.QoffsetY, h.QoffsetZ, spacing, qfac, h.Version)
                ?? throw fail($"{label} qform quaternion (b, c, d) = ({h.QuaternB.ToString(Inv)}, {h.QuaternC.ToString(Inv)}, {h.QuaternD.ToString(Inv)}) has b²+c²+d² > 1");
            return (a, (WorldSpace)qformCode);
        }
        var ndim = (int)h.Dim[0];
        var zooms = Zooms(h, spacing, ndim);
        return (NiftiGeometry.BaseAffine(h.Dim.AsSpan(1, ndim), zooms), WorldSpace.Unknown);
    }
}
