using System.Globalization;
using MedZoo.Engine.IO.Nifti;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.Analyze;

/// <summary>
/// Analyze 7.5 header semantics as nibabel applies them to the class nib.load picks for an
/// Analyze .hdr (Spm2AnalyzeImage):
/// <list type="bullet">
/// <item>affine: SPM's voxel origin (1-based int16[3] in the originator field) when it is set and
/// plausible (every component in (−dim, 2·dim)), else the centre of the grid; x flipped
/// (radiological storage): diag(−zx, zy, zz), translation −(origin−1)·zooms;</item>
/// <item>scaling: funused1 as slope with funused2 as intercept (non-finite → 0); when the slope is 0
/// or non-finite, (cal_max−cal_min)/(glmax−glmin) with cal_min−slope·glmin when both ranges are
/// non-zero, else none;</item>
/// <item>zooms: pixdim[1..ndim], 0 → 1 and negative → absolute value for the spatial three.</item>
/// </list>
/// SPM's companion .mat file is not read (nibabel's Spm99 reader would prefer it when present).
/// Datatypes beyond Analyze's own (int8, uint16, ...) are accepted with their NIfTI codes.
/// </summary>
internal static class AnalyzeInterpreter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static VolumeHeader Interpret(NiftiHeader h, string path, string dataPath, bool compressed)
    {
        VolumeFormatException Fail(string problem) => new(path, problem);
        const string label = "Analyze header";
        var ndim = h.Dim[0];
        if (ndim is < 1 or > 7)
            throw Fail($"{label} dim[0]={ndim} must be between 1 and 7 (the number of dimensions)");
        var shape = h.Dim.AsSpan(1, (int)ndim).ToArray();
        for (var i = 0; i < shape.Length; i++)
            if (shape[i] <= 0)
                throw Fail($"{label} dim[{i + 1}]={shape[i]} must be positive");
        if (!NiftiDataTypes.TryGet(h.DataType, out var type))
            throw Fail(NiftiDataTypes.Unsupported(h.DataType));

        var spacing = NiftiInterpreter.SpatialPixdim(h, Fail, label);
        var zooms = NiftiInterpreter.Zooms(h, spacing, (int)ndim);

        var voxOffset = h.VoxOffset;
        if (!double.IsFinite(voxOffset) || voxOffset < 0)
            throw Fail($"{label} vox_offset={voxOffset.ToString(Inv)} must be a non-negative byte offset");

        var (slope, inter) = Scaling(h);
        return new VolumeHeader
        {
            Path = path,
            DataPath = dataPath,
            Format = VolumeFileFormat.Analyze,
            DataType = type,
            Shape = shape,
            Zooms = zooms,
            Geometry = DataLayout.Geometry(path, OriginAffine(h, spacing), spacing),
            Slope = slope,
            Intercept = inter,
            BigEndian = h.BigEndian,
            Compressed = compressed,
            DataOffset = (long)Math.Truncate(voxOffset),
            Description = h.Description,
        };
    }

    /// <summary>nibabel's Spm99AnalyzeHeader.get_origin_affine, with its int16 arithmetic.</summary>
    private static double[] OriginAffine(NiftiHeader h, double[] spacing)
    {
        // Fields are int16 in the file; nibabel computes -dims and dims*2 in int16 too.
        var dims = new short[3];
        for (var i = 0; i < 3; i++) dims[i] = unchecked((short)h.Dim[i + 1]);
        var origin = h.SpmOrigin.AsSpan(0, 3);
        var any = origin[0] != 0 || origin[1] != 0 || origin[2] != 0;
        var plausible = true;
        for (var i = 0; i < 3; i++)
            plausible &= origin[i] > unchecked((short)-dims[i]) && origin[i] < unchecked((short)(dims[i] * 2));
        var zooms = new[] { (float)-spacing[0], (float)spacing[1], (float)spacing[2] };
        var a = new double[16];
        for (var i = 0; i < 3; i++)
        {
            a[i * 4 + i] = zooms[i];
            // int16 × float32 is float32 in numpy; the centre fallback is float64.
            a[i * 4 + 3] = any && plausible
                ? (float)-unchecked((short)(origin[i] - 1)) * zooms[i]
                : -((dims[i] - 1) / 2.0) * zooms[i];
        }
        a[15] = 1;
        return a;
    }

    /// <summary>nibabel's Spm2AnalyzeHeader.get_slope_inter.</summary>
    private static (double Slope, double Inter) Scaling(NiftiHeader h)
    {
        var slope = h.SclSlope;
        if (double.IsFinite(slope) && slope != 0)
        {
            var inter = double.IsFinite(h.SclInter) ? h.SclInter : 0;
            return (slope, inter);
        }
        var unscaled = unchecked(h.GlMax - h.GlMin);
        var scaled = (float)h.CalMax - (float)h.CalMin;
        if (unscaled != 0 && scaled != 0)
        {
            var s = (double)scaled / unscaled;
            var i = (float)h.CalMin - s * h.GlMin;
            if (double.IsFinite(s) && double.IsFinite(i)) return (s, i);
        }
        return (1, 0);
    }
}
