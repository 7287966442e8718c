using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data.Datasets;

/// <summary>Which synthetic task a phantom poses.</summary>
public enum PhantomKind
{
    /// <summary>Brain tissue: T1-/T2-like modalities; classes background, CSF, GM, WM (iSeg's classes).</summary>
    Tissue,

    /// <summary>Brain tumour: t1, t1ce, t2, flair (BraTS's modalities); classes background, necrotic core, oedema, enhancing tumour.</summary>
    Tumour,
}

/// <summary>
/// Brain-like 3D phantoms at 1 mm, deterministic by (seed, index): a skull-stripped brain (zero
/// background) whose shape varies per subject (ellipsoid radii, tilt, low-frequency surface bumps,
/// ventricle size), with an outer CSF layer, a thin cortex-like grey-matter ribbon folded around
/// V-shaped sulci, deep grey nuclei, lateral ventricles and white matter — and, for the tumour
/// variant, an irregular tumour with necrotic core, enhancing rim and white-matter oedema.
/// Intensities follow each tissue's MR contrast per modality with per-subject jitter and gain, then
/// partial-volume blur, a smooth multiplicative bias field and Gaussian noise, so neighbouring
/// classes overlap voxel-wise and a network has to use context, but remain separable.
/// Generation is parallel over slices; each slice's noise has its own derived random stream, so
/// the result does not depend on thread count.
/// </summary>
public static class BrainPhantom
{
    // Tissue codes used internally (the tumour variant maps them to its own classes).
    private const byte Bg = 0, Csf = 1, Gm = 2, Wm = 3, Ncr = 4, Ed = 5, Et = 6;

    /// <summary>Modality names of each kind, in channel order.</summary>
    public static IReadOnlyList<string> Modalities(PhantomKind kind) =>
        kind == PhantomKind.Tissue ? ["T1", "T2"] : ["t1", "t1ce", "t2", "flair"];

    /// <summary>Class names of each kind, index = class.</summary>
    public static IReadOnlyList<string> ClassNames(PhantomKind kind) =>
        kind == PhantomKind.Tissue
            ? ["background", "CSF", "grey matter", "white matter"]
            : ["background", "necrotic / non-enhancing tumour core", "peritumoral oedema", "GD-enhancing tumour"];

    // Mean intensity of each tissue code (Bg, Csf, Gm, Wm, Ncr, Ed, Et) per modality, before gain.
    // T1: CSF dark, GM grey, WM bright. T2: inverted. t1ce: enhancing rim bright. FLAIR: CSF
    // suppressed, oedema brightest. Differences between neighbouring classes are 3–6 noise σ.
    private static readonly float[][] TissueContrast =
    [
        [0f, 0.20f, 0.55f, 0.85f], // T1
        [0f, 0.95f, 0.60f, 0.38f], // T2
    ];

    private static readonly float[][] TumourContrast =
    [
        [0f, 0.20f, 0.55f, 0.85f, 0.30f, 0.62f, 0.55f], // t1
        [0f, 0.22f, 0.58f, 0.85f, 0.28f, 0.64f, 1.15f], // t1ce
        [0f, 0.95f, 0.60f, 0.38f, 0.90f, 0.80f, 0.62f], // t2
        [0f, 0.15f, 0.60f, 0.45f, 0.50f, 1.00f, 0.75f], // flair
    ];

    /// <summary>
    /// Generates subject <paramref name="index"/> of the set with <paramref name="seed"/>: raw
    /// intensities (scanner-like units, non-negative, background exactly 0) and class labels.
    /// </summary>
    public static RawSubject Generate(PhantomKind kind, SpatialSize size, int seed, int index)
    {
        if (size.D < 16 || size.H < 16 || size.W < 16)
            throw new ArgumentOutOfRangeException(nameof(size), size, "a phantom needs at least 16 voxels along each axis");
        var rng = DeterministicRandom.Derive(seed, index, (long)kind, 0x50484E54);
        var shape = new Anatomy(kind, size, rng);
        var n = checked((int)size.Voxels);
        var tissue = new byte[n];
        Parallel.For(0, size.D, d => shape.FillSlice(d, tissue));

        var contrast = kind == PhantomKind.Tissue ? TissueContrast : TumourContrast;
        var modalities = Modalities(kind);
        var images = new float[modalities.Count][];
        for (var m = 0; m < modalities.Count; m++)
        {
            var means = contrast[m].Select(v => v == 0 ? 0f : (float)(v + 0.02 * rng.NextGaussian())).ToArray();
            var gain = (float)(1000 * rng.Uniform(0.8, 1.25));
            var noiseSigma = (float)rng.Uniform(0.065, 0.09);
            var bias = BiasField.Draw(rng, 0.18);
            var img = new float[n];
            for (var i = 0; i < n; i++) img[i] = means[tissue[i]];
            // Partial volume: a voxel straddling a boundary averages the tissues it contains.
            GaussianBlur(img, size, 0.6);
            var streamSeed = (long)rng.NextUInt64();
            Parallel.For(0, size.D, d =>
            {
                var noise = DeterministicRandom.Derive(streamSeed, d);
                for (var h = 0; h < size.H; h++)
                    for (var w = 0; w < size.W; w++)
                    {
                        var i = size.Index(d, h, w);
                        var v = img[i];
                        if (v <= 1e-4f)
                        {
                            img[i] = 0; // skull-stripped background is exactly zero
                            continue;
                        }
                        var field = bias.At(size, d, h, w);
                        var noisy = v * field + noiseSigma * (float)noise.NextGaussian();
                        img[i] = Math.Max(noisy, 0.01f) * gain;
                    }
            });
            images[m] = img;
        }

        var label = new byte[n];
        if (kind == PhantomKind.Tissue)
            Array.Copy(tissue, label, n);
        else
            for (var i = 0; i < n; i++)
                label[i] = tissue[i] switch { Ncr => 1, Ed => 2, Et => 3, _ => 0 };

        var geometry = VolumeGeometry.FromSpacing(1, 1, 1, -size.W / 2.0, -size.H / 2.0, -size.D / 2.0);
        var id = $"{(kind == PhantomKind.Tissue ? "phantom" : "tumour-phantom")}-{index:D3}";
        return new RawSubject(id, modalities, images, label, size, geometry, [], null);
    }

    /// <summary>Separable Gaussian blur in place (zero outside the volume).</summary>
    internal static void GaussianBlur(float[] img, SpatialSize size, double sigma)
    {
        var radius = Math.Max(1, (int)Math.Ceiling(2.5 * sigma));
        var kernel = new float[2 * radius + 1];
        double sum = 0;
        for (var k = -radius; k <= radius; k++) sum += kernel[k + radius] = (float)Math.Exp(-k * k / (2 * sigma * sigma));
        for (var k = 0; k < kernel.Length; k++) kernel[k] /= (float)sum;
        var tmp = new float[img.Length];
        BlurAxis(img, tmp, size, kernel, radius, 2);
        BlurAxis(tmp, img, size, kernel, radius, 1);
        BlurAxis(img, tmp, size, kernel, radius, 0);
        Array.Copy(tmp, img, img.Length);
    }

    private static void BlurAxis(float[] src, float[] dst, SpatialSize size, float[] kernel, int radius, int axis)
    {
        var stride = axis switch { 0 => size.H * size.W, 1 => size.W, _ => 1 };
        var length = size[axis];
        Parallel.For(0, size.D, d =>
        {
            for (var h = 0; h < size.H; h++)
                for (var w = 0; w < size.W; w++)
                {
                    var i = size.Index(d, h, w);
                    var pos = axis switch { 0 => d, 1 => h, _ => w };
                    float acc = 0;
                    for (var k = -radius; k <= radius; k++)
                    {
                        var p = pos + k;
                        if ((uint)p < (uint)length) acc += kernel[k + radius] * src[i + k * stride];
                    }
                    dst[i] = acc;
                }
        });
    }

    /// <summary>A smooth multiplicative field exp(polynomial of degree 2 in normalized coordinates).</summary>
    private sealed class BiasField
    {
        private readonly double[] _c = new double[9];

        public static BiasField Draw(DeterministicRandom rng, double strength)
        {
            var b = new BiasField();
            for (var k = 0; k < b._c.Length; k++) b._c[k] = rng.Uniform(-strength, strength) * (k < 3 ? 1 : 0.5);
            return b;
        }

        public float At(SpatialSize size, int d, int h, int w)
        {
            var z = 2.0 * d / (size.D - 1) - 1;
            var y = 2.0 * h / (size.H - 1) - 1;
            var x = 2.0 * w / (size.W - 1) - 1;
            var p = _c[0] * x + _c[1] * y + _c[2] * z + _c[3] * x * x + _c[4] * y * y + _c[5] * z * z + _c[6] * x * y + _c[7] * y * z + _c[8] * x * z;
            return (float)Math.Exp(p);
        }
    }

    /// <summary>A sum of random plane waves: a smooth field of roughly unit spread, whose zero set forms folded sheets.</summary>
    private sealed class WaveField
    {
        private readonly double[] _kx, _ky, _kz, _phase;
        private readonly double _norm;

        public WaveField(DeterministicRandom rng, int waves, double minWavelength, double maxWavelength)
        {
            _kx = new double[waves]; _ky = new double[waves]; _kz = new double[waves]; _phase = new double[waves];
            for (var i = 0; i < waves; i++)
            {
                var (x, y, z) = RandomUnit(rng);
                var k = 2 * Math.PI / rng.Uniform(minWavelength, maxWavelength);
                _kx[i] = k * x; _ky[i] = k * y; _kz[i] = k * z;
                _phase[i] = rng.Uniform(0, 2 * Math.PI);
            }
            _norm = 1 / Math.Sqrt(waves / 2.0);
        }

        public double At(double z, double y, double x)
        {
            double s = 0;
            for (var i = 0; i < _kx.Length; i++) s += Math.Cos(_kx[i] * x + _ky[i] * y + _kz[i] * z + _phase[i]);
            return s * _norm;
        }
    }

    private static (double X, double Y, double Z) RandomUnit(DeterministicRandom rng)
    {
        double x, y, z, r;
        do
        {
            x = rng.Uniform(-1, 1); y = rng.Uniform(-1, 1); z = rng.Uniform(-1, 1);
            r = Math.Sqrt(x * x + y * y + z * z);
        } while (r is < 1e-3 or > 1);
        return (x / r, y / r, z / r);
    }

    /// <summary>The per-subject anatomy: shape parameters drawn once, then evaluated voxel by voxel.</summary>
    private sealed class Anatomy
    {
        private readonly PhantomKind _kind;
        private readonly SpatialSize _size;
        private readonly double _cz, _cy, _cx;          // brain centre (voxels)
        private readonly double _az, _ay, _ax;          // semi-axes (mm)
        private readonly double[] _rot = new double[9]; // world → brain frame
        private readonly double[] _bumpDir = new double[9];
        private readonly double[] _bumpAmp = new double[3], _bumpPhase = new double[3];
        private readonly double _meanRadius;
        private readonly double _csfThickness, _gmThickness, _sulcusDepth, _sulcusHalfWidth, _gyralHalfWidth;
        private readonly WaveField _folds, _sulcusDepthField;
        private readonly double _ventricleScale;
        // Tumour (brain-frame normalized coordinates).
        private readonly double _tz, _ty, _tx, _tumourRadius, _necroticRadius, _oedemaRadius;
        private readonly WaveField? _tumourShape, _oedemaShape;

        public Anatomy(PhantomKind kind, SpatialSize size, DeterministicRandom rng)
        {
            _kind = kind;
            _size = size;
            _cz = size.D / 2.0 + rng.Uniform(-0.03, 0.03) * size.D;
            _cy = size.H / 2.0 + rng.Uniform(-0.03, 0.03) * size.H;
            _cx = size.W / 2.0 + rng.Uniform(-0.03, 0.03) * size.W;
            _az = size.D * rng.Uniform(0.33, 0.39);
            _ay = size.H * rng.Uniform(0.38, 0.44);
            _ax = size.W * rng.Uniform(0.35, 0.41);
            _meanRadius = (_az + _ay + _ax) / 3;
            Rotation(rng.Uniform(-0.14, 0.14), rng.Uniform(-0.14, 0.14), rng.Uniform(-0.14, 0.14), _rot);
            for (var k = 0; k < 3; k++)
            {
                var (x, y, z) = RandomUnit(rng);
                _bumpDir[3 * k] = z; _bumpDir[3 * k + 1] = y; _bumpDir[3 * k + 2] = x;
                _bumpAmp[k] = rng.Uniform(0.015, 0.04);
                _bumpPhase[k] = rng.Uniform(0, 2 * Math.PI);
            }
            _csfThickness = rng.Uniform(1.6, 2.4);
            _gmThickness = rng.Uniform(2.6, 3.4);
            _sulcusDepth = rng.Uniform(5, 8) * Math.Clamp(_meanRadius / 28, 0.6, 1.6);
            _folds = new WaveField(rng, 4, 16, 24);
            _sulcusDepthField = new WaveField(rng, 2, 30, 50);
            // Width of the sulcal CSF sheet and of the grey matter around it, in units of the fold field
            // (whose gradient is ≈ 0.3/mm): ≈ 2 mm of CSF, ≈ 2.5 mm of GM on each bank.
            _sulcusHalfWidth = 0.32;
            _gyralHalfWidth = 1.05;
            _ventricleScale = rng.Uniform(0.8, 1.35);
            if (kind == PhantomKind.Tumour)
            {
                var side = rng.Chance(0.5) ? 1 : -1;
                _tx = side * rng.Uniform(0.18, 0.38);
                _ty = rng.Uniform(-0.35, 0.35);
                _tz = rng.Uniform(-0.15, 0.3);
                _tumourRadius = rng.Uniform(0.22, 0.3);
                _necroticRadius = _tumourRadius * rng.Uniform(0.45, 0.62);
                _oedemaRadius = _tumourRadius * rng.Uniform(1.5, 1.9);
                _tumourShape = new WaveField(rng, 3, 10, 18);
                _oedemaShape = new WaveField(rng, 3, 12, 22);
            }
        }

        private static void Rotation(double a, double b, double c, double[] m)
        {
            double ca = Math.Cos(a), sa = Math.Sin(a), cb = Math.Cos(b), sb = Math.Sin(b), cc = Math.Cos(c), sc = Math.Sin(c);
            // Rz(c)·Ry(b)·Rx(a) in (z, y, x) component order.
            m[0] = cb * cc; m[1] = -cb * sc; m[2] = sb;
            m[3] = sa * sb * cc + ca * sc; m[4] = -sa * sb * sc + ca * cc; m[5] = -sa * cb;
            m[6] = -ca * sb * cc + sa * sc; m[7] = ca * sb * sc + sa * cc; m[8] = ca * cb;
        }

        public void FillSlice(int d, byte[] tissue)
        {
            for (var h = 0; h < _size.H; h++)
                for (var w = 0; w < _size.W; w++)
                    tissue[_size.Index(d, h, w)] = Classify(d, h, w);
        }

        private byte Classify(int d, int h, int w)
        {
            // Brain frame: rotate, then normalize by the semi-axes (unit sphere = ellipsoid surface).
            double pz = d - _cz, py = h - _cy, px = w - _cx;
            var rz = _rot[0] * pz + _rot[1] * py + _rot[2] * px;
            var ry = _rot[3] * pz + _rot[4] * py + _rot[5] * px;
            var rx = _rot[6] * pz + _rot[7] * py + _rot[8] * px;
            double qz = rz / _az, qy = ry / _ay, qx = rx / _ax;
            var rho = Math.Sqrt(qz * qz + qy * qy + qx * qx);
            if (rho > 1 + MaxBump) return Bg; // beyond any bump: skip the surface terms
            double surface = 1;
            if (rho > 1e-9)
                for (var k = 0; k < 3; k++)
                {
                    var dot = (_bumpDir[3 * k] * qz + _bumpDir[3 * k + 1] * qy + _bumpDir[3 * k + 2] * qx) / rho;
                    surface += _bumpAmp[k] * Math.Cos(3 * dot + _bumpPhase[k]);
                }
            var s = rho / surface;
            if (s > 1) return Bg;
            var depth = (1 - s) * _meanRadius; // mm below the brain surface

            byte cls;
            if (depth < _csfThickness) cls = Csf;
            else if (depth - _csfThickness > _gmThickness + 1.4 * _sulcusDepth) cls = Wm; // deeper than any sulcus reaches
            else
            {
                var f = Math.Abs(_folds.At(d, h, w));
                var sulcus = _sulcusDepth * (0.65 + 0.35 * _sulcusDepthField.At(d, h, w));
                var below = depth - _csfThickness;
                if (below < sulcus * (1 - f / _sulcusHalfWidth)) cls = Csf;
                else if (below < _gmThickness + sulcus * Math.Max(0, 1 - f / _gyralHalfWidth)) cls = Gm;
                else cls = Wm;
            }

            if (cls == Wm)
            {
                // Deep grey nuclei (thalamus / basal ganglia), one per hemisphere.
                var lx = Math.Abs(qx) - 0.22;
                if (Sq(lx / 0.11) + Sq((qy + 0.05) / 0.2) + Sq((qz + 0.08) / 0.15) < 1) cls = Gm;
                // Lateral ventricles: curved ("banana") ellipsoids either side of the midline.
                var vz = qz - (0.12 - 0.6 * qy * qy);
                var vs = _ventricleScale;
                if (Sq((Math.Abs(qx) - 0.09 * vs) / (0.06 * vs)) + Sq(qy / 0.4) + Sq(vz / (0.08 * vs)) < 1) cls = Csf;
            }

            if (_kind == PhantomKind.Tumour)
            {
                var tz = qz - _tz; var ty = qy - _ty; var tx = qx - _tx;
                var r = Math.Sqrt(tz * tz + ty * ty + tx * tx);
                // The shape fields stretch a radius by at most 1 + 0.25·max|field| (< 1.7): skip them beyond that.
                if (r > 1.7 * _oedemaRadius) return cls;
                var bump = 1 + 0.12 * _tumourShape!.At(d, h, w);
                var rt = r / bump;
                if (rt < _necroticRadius) return Ncr;
                if (rt < _tumourRadius) return Et;
                var re = r / (1 + 0.25 * _oedemaShape!.At(d, h, w));
                if (re < _oedemaRadius && cls is Wm or Gm && depth > _csfThickness + 1.5) return Ed;
            }
            return cls;
        }

        private static double Sq(double v) => v * v;

        // Largest possible sum of the three surface bumps (amplitudes ≤ 0.04 each).
        private const double MaxBump = 0.12;
    }
}
