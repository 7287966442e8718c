using System.Globalization;

namespace MedZoo.Engine.Data;

/// <summary>
/// A spatial extent in the C-order convention of the whole data pipeline: (D, H, W) = the file's
/// (Z, Y, X), i.e. a torch tensor's last three dimensions. Element (d, h, w) of a volume of this
/// size is at flat index <c>(d·H + h)·W + w</c>.
/// </summary>
public readonly record struct SpatialSize(int D, int H, int W)
{
    /// <summary>Voxels in the extent.</summary>
    public long Voxels => (long)D * H * W;

    /// <summary>The size along axis 0 (D), 1 (H) or 2 (W).</summary>
    public int this[int axis] => axis switch
    {
        0 => D,
        1 => H,
        2 => W,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis must be 0 (D), 1 (H) or 2 (W)"),
    };

    /// <summary>Flat C-order index of (d, h, w).</summary>
    public int Index(int d, int h, int w) => (d * H + h) * W + w;

    /// <summary>(d, h, w) of a flat C-order index.</summary>
    public (int D, int H, int W) Coordinates(int index)
    {
        var w = index % W;
        var rest = index / W;
        return (rest / H, rest % H, w);
    }

    /// <summary>True if every dimension is positive.</summary>
    public bool IsValid => D > 0 && H > 0 && W > 0;

    /// <summary>From three values in (D, H, W) order, e.g. MedicalZoo's <c>--dim</c>.</summary>
    public static SpatialSize From(IReadOnlyList<int> dhw)
    {
        ArgumentNullException.ThrowIfNull(dhw);
        if (dhw.Count != 3)
            throw new ArgumentException($"a spatial size needs 3 values (D, H, W), got {dhw.Count}", nameof(dhw));
        return new SpatialSize(dhw[0], dhw[1], dhw[2]);
    }

    /// <summary>A cube of side <paramref name="n"/>.</summary>
    public static SpatialSize Cube(int n) => new(n, n, n);

    /// <summary>The three values as an array (D, H, W).</summary>
    public int[] ToArray() => [D, H, W];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{D}×{H}×{W}");
}
