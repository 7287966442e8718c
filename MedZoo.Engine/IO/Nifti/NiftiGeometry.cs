namespace MedZoo.Engine.IO.Nifti;

/// <summary>
/// The affine arithmetic of NIfTI headers, done as nibabel does it: the qform from a unit
/// quaternion, the fallback affine of a header without transform codes, and the reverse (a qform
/// for an affine, used by the writer, which checks that reading it back gives the same affine).
/// </summary>
internal static class NiftiGeometry
{
    /// <summary>
    /// nibabel tolerates a slightly negative w² = 1 − (b² + c² + d²) from rounding of the stored
    /// b, c, d (3 machine epsilons of the storage type) and takes w = 0; below that the quaternion
    /// is invalid.
    /// </summary>
    public static double QuaternionThreshold(int version) => version == 2 ? -3 * 2.220446049250313e-16 : -3 * 1.1920929e-07;

    /// <summary>
    /// qform affine (row-major 4×4) from quaternion (b, c, d), offsets, voxel sizes and qfac:
    /// R(w, b, c, d)·diag(vox_i, vox_j, qfac·vox_k) plus the offsets. Null if w² is clearly negative.
    /// </summary>
    public static double[]? QformAffine(double b, double c, double d, double qx, double qy, double qz, ReadOnlySpan<double> vox, double qfac, int version)
    {
        var w2 = 1 - (b * b + c * c + d * d);
        double w;
        if (w2 < 0)
        {
            if (w2 < QuaternionThreshold(version)) return null;
            w = 0;
        }
        else
        {
            w = Math.Sqrt(w2);
        }
        Span<double> r = stackalloc double[9];
        var nq = w * w + b * b + c * c + d * d;
        if (nq < 2.220446049250313e-16)
        {
            r[0] = r[4] = r[8] = 1;
        }
        else
        {
            var s = 2.0 / nq;
            double x = b * s, y = c * s, z = d * s;
            double wx = w * x, wy = w * y, wz = w * z;
            double xx = b * x, xy = b * y, xz = b * z;
            double yy = c * y, yz = c * z, zz = d * z;
            r[0] = 1.0 - (yy + zz); r[1] = xy - wz; r[2] = xz + wy;
            r[3] = xy + wz; r[4] = 1.0 - (xx + zz); r[5] = yz - wx;
            r[6] = xz - wy; r[7] = yz + wx; r[8] = 1.0 - (xx + yy);
        }
        Span<double> scale = [vox[0], vox[1], vox[2] * qfac];
        var a = new double[16];
        for (var row = 0; row < 3; row++)
            for (var col = 0; col < 3; col++)
                a[row * 4 + col] = r[row * 3 + col] * scale[col];
        a[3] = qx; a[7] = qy; a[11] = qz; a[15] = 1;
        return a;
    }

    /// <summary>
    /// nibabel's fallback affine for a header without sform/qform codes (get_base_affine →
    /// shape_zoom_affine with x flipped): diag(−zx, zy, zz) with the centre of the grid at the
    /// origin. Dimensions and zooms beyond the third are ignored; missing ones count as 1.
    /// </summary>
    public static double[] BaseAffine(ReadOnlySpan<long> dims, ReadOnlySpan<double> zooms)
    {
        Span<double> shape = [1, 1, 1];
        Span<double> z = [1, 1, 1];
        for (var i = 0; i < Math.Min(3, dims.Length); i++)
        {
            shape[i] = dims[i];
            z[i] = zooms[i];
        }
        z[0] = -z[0];
        var a = new double[16];
        for (var i = 0; i < 3; i++)
        {
            a[i * 4 + i] = z[i];
            a[i * 4 + 3] = -((shape[i] - 1) / 2.0) * z[i];
        }
        a[15] = 1;
        return a;
    }

    /// <summary>qform parameters of an affine; see <see cref="TryEncodeQform"/>.</summary>
    public readonly record struct Qform(double Qfac, double B, double C, double D, double X, double Y, double Z);

    /// <summary>
    /// Quaternion, qfac and offsets for <paramref name="affine"/> when its 3×3 part is a rotation
    /// (possibly with a flip, carried by qfac) times diag(<paramref name="spacing"/>); false when the
    /// columns are not orthogonal or their lengths are not the spacing, because a qform cannot
    /// express shears or a voxel size other than pixdim.
    /// </summary>
    public static bool TryEncodeQform(ReadOnlySpan<double> affine, ReadOnlySpan<double> spacing, out Qform qform)
    {
        qform = default;
        Span<double> r = stackalloc double[9];
        for (var col = 0; col < 3; col++)
        {
            var norm = Math.Sqrt(affine[col] * affine[col] + affine[4 + col] * affine[4 + col] + affine[8 + col] * affine[8 + col]);
            if (!(norm > 0) || !(spacing[col] > 0) || Math.Abs(norm - spacing[col]) > 1e-6 * spacing[col]) return false;
            for (var row = 0; row < 3; row++) r[row * 3 + col] = affine[row * 4 + col] / norm;
        }
        var det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
        var qfac = det > 0 ? 1.0 : -1.0;
        if (qfac < 0)
            for (var row = 0; row < 3; row++) r[row * 3 + 2] = -r[row * 3 + 2];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
            {
                var dot = r[i] * r[j] + r[3 + i] * r[3 + j] + r[6 + i] * r[6 + j];
                if (Math.Abs(dot - (i == j ? 1 : 0)) > 1e-6) return false;
            }
        // Shepperd's method: pick the largest of w, x, y, z to divide by, for accuracy.
        double w, x, y, z;
        var trace = r[0] + r[4] + r[8];
        if (trace > 0)
        {
            var s = 2 * Math.Sqrt(1 + trace);
            w = 0.25 * s; x = (r[7] - r[5]) / s; y = (r[2] - r[6]) / s; z = (r[3] - r[1]) / s;
        }
        else if (r[0] > r[4] && r[0] > r[8])
        {
            var s = 2 * Math.Sqrt(1 + r[0] - r[4] - r[8]);
            w = (r[7] - r[5]) / s; x = 0.25 * s; y = (r[1] + r[3]) / s; z = (r[2] + r[6]) / s;
        }
        else if (r[4] > r[8])
        {
            var s = 2 * Math.Sqrt(1 + r[4] - r[0] - r[8]);
            w = (r[2] - r[6]) / s; x = (r[1] + r[3]) / s; y = 0.25 * s; z = (r[5] + r[7]) / s;
        }
        else
        {
            var s = 2 * Math.Sqrt(1 + r[8] - r[0] - r[4]);
            w = (r[3] - r[1]) / s; x = (r[2] + r[6]) / s; y = (r[5] + r[7]) / s; z = 0.25 * s;
        }
        // NIfTI stores only b, c, d and takes w ≥ 0.
        if (w < 0) { x = -x; y = -y; z = -z; }
        qform = new Qform(qfac, x, y, z, affine[3], affine[7], affine[11]);
        return true;
    }
}
