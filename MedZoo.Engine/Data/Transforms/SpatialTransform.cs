namespace MedZoo.Engine.Data.Transforms;

/// <summary>
/// One spatial augmentation drawn for one sample: a 3×3 linear map (flips, 90° rotations, small
/// rotation, isotropic scale) about the patch centre plus an optional elastic displacement field.
/// Output voxel q of the patch reads the source volume at
/// <c>centre + M · (q − (P − 1)/2 + u(q))</c>, where centre is the unaugmented crop's centre and
/// u the elastic displacement (patch voxels). The same instance maps every modality and the label,
/// which is what keeps them aligned.
/// </summary>
public sealed class SpatialTransform
{
    private readonly double[] _m;
    private readonly ElasticField? _elastic;

    private SpatialTransform(double[] m, ElasticField? elastic, bool integral)
    {
        _m = m;
        _elastic = elastic;
        IsIntegral = integral && elastic is null;
        IsIdentity = IsIntegral && m[0] == 1 && m[4] == 1 && m[8] == 1;
    }

    /// <summary>No change: the patch is a plain crop.</summary>
    public static SpatialTransform Identity { get; } = new([1, 0, 0, 0, 1, 0, 0, 0, 1], null, integral: true);

    /// <summary>True when the map is the identity.</summary>
    public bool IsIdentity { get; }

    /// <summary>True when every output voxel reads exactly one source voxel (only flips and 90° rotations): no interpolation needed.</summary>
    public bool IsIntegral { get; }

    /// <summary>The linear part, row-major in (D, H, W) components (a copy).</summary>
    public double[] Matrix => (double[])_m.Clone();

    /// <summary>A transform from a linear map (row-major, (D, H, W) components) and an optional elastic field.</summary>
    public static SpatialTransform Create(double[] matrix, ElasticField? elastic = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Length != 9) throw new ArgumentException("a 3×3 matrix has 9 values", nameof(matrix));
        var integral = matrix.All(v => v is 0 or 1 or -1);
        return new SpatialTransform((double[])matrix.Clone(), elastic, integral);
    }

    /// <summary>Where output voxel (qd, qh, qw) of a <paramref name="patch"/>-sized patch centred at (cd, ch, cw) reads the source.</summary>
    public (double D, double H, double W) Map(SpatialSize patch, double cd, double ch, double cw, int qd, int qh, int qw)
    {
        var rd = qd - (patch.D - 1) / 2.0;
        var rh = qh - (patch.H - 1) / 2.0;
        var rw = qw - (patch.W - 1) / 2.0;
        if (_elastic is not null)
        {
            var (ud, uh, uw) = _elastic.At(qd, qh, qw);
            rd += ud; rh += uh; rw += uw;
        }
        return (cd + _m[0] * rd + _m[1] * rh + _m[2] * rw,
                ch + _m[3] * rd + _m[4] * rh + _m[5] * rw,
                cw + _m[6] * rd + _m[7] * rh + _m[8] * rw);
    }

    /// <summary>The elastic field, or null.</summary>
    internal ElasticField? Elastic => _elastic;

    /// <summary>Element (row, column) of the linear part.</summary>
    internal double this[int row, int column] => _m[3 * row + column];

    /// <summary>3×3 product a·b (row-major).</summary>
    internal static double[] Multiply(double[] a, double[] b)
    {
        var r = new double[9];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
        return r;
    }

    /// <summary>Rotation by <paramref name="radians"/> in the plane of axes <paramref name="a"/> and <paramref name="b"/>; exact for multiples of 90°.</summary>
    internal static double[] PlaneRotation(int a, int b, double radians, bool exactQuarterTurns = false)
    {
        double c, s;
        if (exactQuarterTurns)
        {
            var k = ((int)Math.Round(radians / (Math.PI / 2)) % 4 + 4) % 4;
            (c, s) = k switch { 0 => (1.0, 0.0), 1 => (0.0, 1.0), 2 => (-1.0, 0.0), _ => (0.0, -1.0) };
        }
        else
            (c, s) = (Math.Cos(radians), Math.Sin(radians));
        var m = new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        m[3 * a + a] = c; m[3 * a + b] = -s;
        m[3 * b + a] = s; m[3 * b + b] = c;
        return m;
    }
}

/// <summary>
/// A smooth random displacement field over a patch: independent Gaussian displacements (σ =
/// magnitude, voxels) on a coarse grid of control points every <c>spacing</c> voxels, interpolated
/// trilinearly. A magnitude of at most a quarter of the spacing keeps neighbouring control points
/// from crossing, so the map does not fold.
/// </summary>
public sealed class ElasticField
{
    private readonly int _nd, _nh, _nw;
    private readonly double _spacing;
    private readonly float[] _ud, _uh, _uw;

    /// <summary>Draws a field over <paramref name="patch"/>.</summary>
    public ElasticField(SpatialSize patch, double spacing, double magnitude, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        _spacing = spacing;
        _nd = (int)Math.Ceiling((patch.D - 1) / spacing) + 2;
        _nh = (int)Math.Ceiling((patch.H - 1) / spacing) + 2;
        _nw = (int)Math.Ceiling((patch.W - 1) / spacing) + 2;
        var n = _nd * _nh * _nw;
        _ud = new float[n]; _uh = new float[n]; _uw = new float[n];
        for (var i = 0; i < n; i++)
        {
            _ud[i] = (float)(magnitude * rng.NextGaussian());
            _uh[i] = (float)(magnitude * rng.NextGaussian());
            _uw[i] = (float)(magnitude * rng.NextGaussian());
        }
    }

    /// <summary>Displacement (D, H, W components, voxels) at patch voxel (d, h, w).</summary>
    public (double D, double H, double W) At(int d, int h, int w)
    {
        var gd = d / _spacing; var gh = h / _spacing; var gw = w / _spacing;
        int i0 = (int)gd, j0 = (int)gh, k0 = (int)gw;
        double fd = gd - i0, fh = gh - j0, fw = gw - k0;
        double sd = 0, sh = 0, sw = 0;
        for (var a = 0; a < 2; a++)
        {
            var wa = a == 0 ? 1 - fd : fd;
            for (var b = 0; b < 2; b++)
            {
                var wb = wa * (b == 0 ? 1 - fh : fh);
                for (var c = 0; c < 2; c++)
                {
                    var wc = wb * (c == 0 ? 1 - fw : fw);
                    var idx = ((i0 + a) * _nh + (j0 + b)) * _nw + (k0 + c);
                    sd += wc * _ud[idx]; sh += wc * _uh[idx]; sw += wc * _uw[idx];
                }
            }
        }
        return (sd, sh, sw);
    }
}
