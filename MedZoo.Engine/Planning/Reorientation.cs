using MedZoo.Engine.Data;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Planning;

/// <summary>
/// Where one voxel axis points in the world: nibabel's "ornt" row. <see cref="WorldAxis"/> is 0 for
/// x (Left→Right), 1 for y (Posterior→Anterior), 2 for z (Inferior→Superior); <see cref="Flipped"/>
/// means the index runs against that world direction (L, P or I).
/// </summary>
/// <param name="WorldAxis">World axis the voxel axis follows most closely (0, 1, 2).</param>
/// <param name="Flipped">True when increasing the index moves towards L, P or I.</param>
public readonly record struct AxisDirection(int WorldAxis, bool Flipped)
{
    /// <summary>The nibabel axis code: R, A, S, or L, P, I when flipped.</summary>
    public char Code => Flipped ? "LPI"[WorldAxis] : "RAS"[WorldAxis];
}

/// <summary>
/// Orientation of a voxel grid read from its affine, exactly as nibabel's <c>io_orientation</c>:
/// the affine's rotation-zoom-shear part is divided by its column norms, replaced by the closest
/// orthogonal matrix (polar decomposition, which nibabel takes from an SVD), and each voxel axis in
/// turn is assigned the world axis where its column is largest in magnitude, that world axis then
/// being removed from consideration. Unlike a greedy search over raw components, this gives the
/// answer nibabel gives for oblique acquisitions too.
/// </summary>
public static class GridOrientation
{
    /// <summary>The direction of each voxel axis (i, j, k) of <paramref name="geometry"/>.</summary>
    /// <exception cref="ArgumentException">The affine's 3×3 part is singular (a collapsed axis).</exception>
    public static AxisDirection[] Of(VolumeGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var rs = new double[3, 3];
        for (var c = 0; c < 3; c++)
        {
            var norm = Math.Sqrt(geometry[0, c] * geometry[0, c] + geometry[1, c] * geometry[1, c] + geometry[2, c] * geometry[2, c]);
            if (norm == 0) norm = 1;
            for (var r = 0; r < 3; r++) rs[r, c] = geometry[r, c] / norm;
        }
        var rotation = ClosestOrthogonal(rs);
        var result = new AxisDirection[3];
        for (var input = 0; input < 3; input++)
        {
            var best = -1;
            var bestValue = 0.0;
            for (var output = 0; output < 3; output++)
            {
                var v = Math.Abs(rotation[output, input]);
                if (v > bestValue) { bestValue = v; best = output; }
            }
            if (best < 0)
                throw new ArgumentException($"the affine's voxel axis {input} has no direction in the world (a zero column): the file's orientation is undefined");
            result[input] = new AxisDirection(best, rotation[best, input] < 0);
            for (var c = 0; c < 3; c++) rotation[best, c] = 0;
        }
        return result;
    }

    /// <summary>nibabel's <c>aff2axcodes</c>: three letters such as "RAS", "LPS", "LSA".</summary>
    public static string Codes(VolumeGeometry geometry) => new(Of(geometry).Select(a => a.Code).ToArray());

    /// <summary>
    /// Polar decomposition R = U·Vᵀ of a non-singular 3×3 matrix by Newton's iteration
    /// X ← (X + X⁻ᵀ)/2, which converges quadratically to the orthogonal factor of the SVD.
    /// </summary>
    private static double[,] ClosestOrthogonal(double[,] m)
    {
        var x = (double[,])m.Clone();
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var inverseT = InverseTranspose(x);
            var change = 0.0;
            for (var r = 0; r < 3; r++)
                for (var c = 0; c < 3; c++)
                {
                    var next = (x[r, c] + inverseT[r, c]) / 2;
                    change = Math.Max(change, Math.Abs(next - x[r, c]));
                    x[r, c] = next;
                }
            if (change < 1e-15) break;
        }
        return x;
    }

    private static double[,] InverseTranspose(double[,] m)
    {
        // Cofactor matrix / determinant = (M⁻¹)ᵀ.
        var cof = new double[3, 3];
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++)
            {
                int r1 = (r + 1) % 3, r2 = (r + 2) % 3, c1 = (c + 1) % 3, c2 = (c + 2) % 3;
                cof[r, c] = m[r1, c1] * m[r2, c2] - m[r1, c2] * m[r2, c1];
            }
        var det = m[0, 0] * cof[0, 0] + m[0, 1] * cof[0, 1] + m[0, 2] * cof[0, 2];
        if (Math.Abs(det) < 1e-12)
            throw new ArgumentException("the affine's 3×3 part is singular (two voxel axes point the same way): the file's orientation is undefined");
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++) cof[r, c] /= det;
        return cof;
    }
}

/// <summary>
/// A permutation and flipping of voxel axes between a source grid and a target grid, with the
/// target's affine updated exactly (nibabel's <c>apply_orientation</c> + <c>inv_ornt_aff</c>).
/// <see cref="ToCanonical"/> builds nibabel's <c>as_closest_canonical</c>: the target's voxel axes
/// point R, A, S. Voxels only move, so <see cref="Invert{T}"/> restores the source bit for bit, and
/// <see cref="Source"/> is the source geometry itself (not recomputed), so a prediction written
/// back keeps its input's exact affine.
/// Arrays are C-order over (D, H, W) = (k, j, i), the layout of <see cref="Subject"/>.
/// </summary>
public sealed class Reorientation
{
    private readonly int[] _sourceAxis;   // per target voxel axis (i, j, k): the source voxel axis it takes
    private readonly bool[] _flip;        // per target voxel axis: runs backwards along that source axis
    private readonly int[] _sourceSize;   // (X, Y, Z) = sizes along i, j, k

    private Reorientation(VolumeGeometry source, SpatialSize sourceSize, int[] sourceAxis, bool[] flip)
    {
        Source = source;
        SourceSize = sourceSize;
        _sourceAxis = sourceAxis;
        _flip = flip;
        _sourceSize = [sourceSize.W, sourceSize.H, sourceSize.D];
        var targetIjk = new int[3];
        for (var a = 0; a < 3; a++) targetIjk[a] = _sourceSize[sourceAxis[a]];
        TargetSize = new SpatialSize(targetIjk[2], targetIjk[1], targetIjk[0]);
        var affine = source.Affine;
        var next = new double[16];
        next[15] = 1;
        for (var r = 0; r < 3; r++)
        {
            var translation = affine[r * 4 + 3];
            for (var a = 0; a < 3; a++)
            {
                var column = affine[r * 4 + sourceAxis[a]];
                next[r * 4 + a] = flip[a] ? -column : column;
                if (flip[a]) translation += column * (_sourceSize[sourceAxis[a]] - 1);
            }
            next[r * 4 + 3] = translation;
        }
        var spacing = new double[3];
        for (var a = 0; a < 3; a++) spacing[a] = source.Spacing[sourceAxis[a]];
        Target = new VolumeGeometry(next, spacing, source.Space);
    }

    /// <summary>The grid the data comes from.</summary>
    public VolumeGeometry Source { get; }

    /// <summary>Size (D, H, W) of the source grid.</summary>
    public SpatialSize SourceSize { get; }

    /// <summary>The reoriented grid.</summary>
    public VolumeGeometry Target { get; }

    /// <summary>Size (D, H, W) of the reoriented grid.</summary>
    public SpatialSize TargetSize { get; }

    /// <summary>True when nothing moves (the source is already in the target orientation).</summary>
    public bool IsIdentity => _sourceAxis.SequenceEqual([0, 1, 2]) && !_flip.Any(f => f);

    /// <summary>The source's axis codes (e.g. "LSA").</summary>
    public string SourceCodes => GridOrientation.Codes(Source);

    /// <summary>The reorientation of a grid to the closest canonical RAS+ (nibabel's <c>as_closest_canonical</c>).</summary>
    public static Reorientation ToCanonical(VolumeGeometry geometry, SpatialSize size)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (!size.IsValid) throw new ArgumentException($"size {size} must be positive", nameof(size));
        var directions = GridOrientation.Of(geometry);
        var sourceAxis = new int[3];
        var flip = new bool[3];
        for (var input = 0; input < 3; input++)
        {
            sourceAxis[directions[input].WorldAxis] = input;
            flip[directions[input].WorldAxis] = directions[input].Flipped;
        }
        return new Reorientation(geometry, size, sourceAxis, flip);
    }

    /// <summary>Source-grid data (C-order over <see cref="SourceSize"/>) laid out on the target grid.</summary>
    public T[] Apply<T>(ReadOnlySpan<T> source)
    {
        Check(source.Length, SourceSize);
        if (IsIdentity) return source.ToArray();
        var result = new T[source.Length];
        var (start, steps) = Walk();
        var t = 0;
        for (var k = 0; k < TargetSize.D; k++)
            for (var j = 0; j < TargetSize.H; j++)
            {
                var s = start + (long)k * steps[2] + (long)j * steps[1];
                for (var i = 0; i < TargetSize.W; i++, t++, s += steps[0]) result[t] = source[(int)s];
            }
        return result;
    }

    /// <summary>Target-grid data (C-order over <see cref="TargetSize"/>) put back on the source grid: the exact inverse of <see cref="Apply{T}"/>.</summary>
    public T[] Invert<T>(ReadOnlySpan<T> target)
    {
        Check(target.Length, TargetSize);
        if (IsIdentity) return target.ToArray();
        var result = new T[target.Length];
        var (start, steps) = Walk();
        var t = 0;
        for (var k = 0; k < TargetSize.D; k++)
            for (var j = 0; j < TargetSize.H; j++)
            {
                var s = start + (long)k * steps[2] + (long)j * steps[1];
                for (var i = 0; i < TargetSize.W; i++, t++, s += steps[0]) result[(int)s] = target[t];
            }
        return result;
    }

    /// <summary>Source index of target voxel (0, 0, 0) and the source-index step of one voxel along each target axis (i, j, k).</summary>
    private (long Start, long[] Steps) Walk()
    {
        long[] strides = [1, _sourceSize[0], (long)_sourceSize[0] * _sourceSize[1]];
        long start = 0;
        var steps = new long[3];
        for (var a = 0; a < 3; a++)
        {
            var axis = _sourceAxis[a];
            steps[a] = _flip[a] ? -strides[axis] : strides[axis];
            if (_flip[a]) start += (_sourceSize[axis] - 1) * strides[axis];
        }
        return (start, steps);
    }

    private static void Check(int length, SpatialSize size)
    {
        if (length != size.Voxels)
            throw new ArgumentException($"data has {length} voxels, the grid {size} has {size.Voxels}");
    }
}
