namespace MedZoo.Engine.Data.Transforms;

/// <summary>
/// Draws and applies the augmentations of <see cref="AugmentationOptions"/> for one sample at a
/// time. All randomness comes from the generator passed in, so a sample's augmentation is fixed by
/// its (seed, epoch, batch, sample) stream, whichever thread runs it. Stateless and thread-safe.
/// </summary>
public sealed class Augmenter
{
    private readonly AugmentationOptions _o;

    /// <summary>An augmenter for validated <paramref name="options"/>.</summary>
    public Augmenter(AugmentationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options.Clone();
    }

    /// <summary>The options in use (a copy).</summary>
    public AugmentationOptions Options => _o.Clone();

    /// <summary>
    /// Draws the sample's spatial transform: per-axis flips, then an optional quarter-turn rotation,
    /// then an optional small rotation about each axis with an isotropic scale, then an optional
    /// elastic field. Returns <see cref="SpatialTransform.Identity"/> when nothing was drawn.
    /// </summary>
    public SpatialTransform DrawSpatial(SpatialSize patch, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!_o.HasSpatial) return SpatialTransform.Identity;
        double[] m = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        var changed = false;
        foreach (var axis in _o.FlipAxes)
        {
            if (!rng.Chance(_o.FlipProbability)) continue;
            m[4 * axis] = -m[4 * axis];
            changed = true;
        }
        if (rng.Chance(_o.Rotate90Probability))
        {
            var plane = rng.NextInt(3);
            var (a, b) = plane switch { 0 => (0, 1), 1 => (0, 2), _ => (1, 2) };
            var quarterTurns = rng.NextInt(1, 3);
            m = SpatialTransform.Multiply(SpatialTransform.PlaneRotation(a, b, quarterTurns * Math.PI / 2, exactQuarterTurns: true), m);
            changed = true;
        }
        if (rng.Chance(_o.AffineProbability))
        {
            var max = _o.RotationDegrees * Math.PI / 180;
            var rotation = SpatialTransform.Multiply(
                SpatialTransform.PlaneRotation(1, 2, rng.Uniform(-max, max)),
                SpatialTransform.Multiply(SpatialTransform.PlaneRotation(0, 2, rng.Uniform(-max, max)), SpatialTransform.PlaneRotation(0, 1, rng.Uniform(-max, max))));
            // Scale s > 1 zooms in: the patch reads a region 1/s as large.
            var inverseScale = 1 / rng.Uniform(_o.ScaleMin, _o.ScaleMax);
            for (var i = 0; i < 9; i++) rotation[i] *= inverseScale;
            m = SpatialTransform.Multiply(rotation, m);
            changed = true;
        }
        ElasticField? elastic = null;
        if (rng.Chance(_o.ElasticProbability) && _o.ElasticMagnitude > 0)
        {
            elastic = new ElasticField(patch, _o.ElasticGridSpacing, _o.ElasticMagnitude, rng);
            changed = true;
        }
        return changed ? SpatialTransform.Create(m, elastic) : SpatialTransform.Identity;
    }

    /// <summary>
    /// Applies the intensity augmentations to one sample's images ((C, D, H, W) in
    /// <paramref name="image"/>), each modality with its own draws, in the order noise, gamma,
    /// brightness/contrast, bias field. Labels are never touched.
    /// </summary>
    public void ApplyIntensity(Span<float> image, int channels, SpatialSize patch, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!_o.Enabled) return;
        var p = (int)patch.Voxels;
        if (image.Length != p * channels) throw new ArgumentException($"image holds {image.Length} values, expected {p * channels}", nameof(image));
        for (var c = 0; c < channels; c++)
        {
            var x = image.Slice(c * p, p);
            if (rng.Chance(_o.NoiseProbability)) Noise(x, rng.Uniform(0, _o.NoiseStd), rng);
            if (rng.Chance(_o.GammaProbability)) Gamma(x, rng.Uniform(_o.GammaMin, _o.GammaMax));
            if (rng.Chance(_o.BrightnessContrastProbability))
                BrightnessContrast(x, rng.Uniform(_o.ContrastMin, _o.ContrastMax), rng.Uniform(-_o.BrightnessShift, _o.BrightnessShift));
            if (rng.Chance(_o.BiasFieldProbability)) BiasField(x, patch, _o.BiasFieldOrder, _o.BiasFieldCoefficient, rng);
        }
    }

    /// <summary>x += σ·N(0, 1) per voxel.</summary>
    public static void Noise(Span<float> x, double sigma, DeterministicRandom rng)
    {
        for (var i = 0; i < x.Length; i++) x[i] += (float)(sigma * rng.NextGaussian());
    }

    /// <summary>x' = min + (max − min)·((x − min)/(max − min))^γ with the patch's own min and max (range kept).</summary>
    public static void Gamma(Span<float> x, double gamma)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        var range = max - min;
        if (!(range > 0)) return;
        for (var i = 0; i < x.Length; i++) x[i] = (float)(min + range * Math.Pow((x[i] - min) / range, gamma));
    }

    /// <summary>x' = (x − mean)·contrast + mean + shift, mean over the patch.</summary>
    public static void BrightnessContrast(Span<float> x, double contrast, double shift)
    {
        double sum = 0;
        foreach (var v in x) sum += v;
        var mean = x.Length > 0 ? sum / x.Length : 0;
        for (var i = 0; i < x.Length; i++) x[i] = (float)((x[i] - mean) * contrast + mean + shift);
    }

    /// <summary>x' = x·exp(Σ c_ijk·zⁱ·yʲ·xᵏ) over 0 &lt; i+j+k ≤ order, coordinates in [−1, 1], c uniform in ±coefficient.</summary>
    public static void BiasField(Span<float> x, SpatialSize patch, int order, double coefficient, DeterministicRandom rng)
    {
        var terms = new List<(int I, int J, int K, double C)>();
        for (var i = 0; i <= order; i++)
            for (var j = 0; j <= order - i; j++)
                for (var k = 0; k <= order - i - j; k++)
                    if (i + j + k > 0) terms.Add((i, j, k, rng.Uniform(-coefficient, coefficient)));
        // Powers of each coordinate, computed once per axis position; per row the polynomial
        // collapses to one in x: Σ_k C_k·xᵏ with C_k = Σ_ij c_ijk·zⁱ·yʲ.
        var zp = Powers(patch.D, order);
        var yp = Powers(patch.H, order);
        var xp = Powers(patch.W, order);
        var ck = new double[order + 1];
        var q = 0;
        for (var d = 0; d < patch.D; d++)
            for (var h = 0; h < patch.H; h++)
            {
                Array.Clear(ck);
                foreach (var (i, j, k, c) in terms) ck[k] += c * zp[d, i] * yp[h, j];
                for (var w = 0; w < patch.W; w++, q++)
                {
                    double e = 0;
                    for (var k = 0; k <= order; k++) e += ck[k] * xp[w, k];
                    x[q] = (float)(x[q] * Math.Exp(e));
                }
            }
    }

    private static double[,] Powers(int n, int order)
    {
        var result = new double[n, order + 1];
        for (var i = 0; i < n; i++)
        {
            var t = n > 1 ? 2.0 * i / (n - 1) - 1 : 0;
            var v = 1.0;
            for (var k = 0; k <= order; k++, v *= t) result[i, k] = v;
        }
        return result;
    }
}
