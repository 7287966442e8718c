using MedZoo.Engine.IO;

namespace MedZoo.Web.Imaging;

/// <summary>The three anatomical planes of the review view.</summary>
public enum ViewPlane
{
    /// <summary>Constant superior–inferior position: seen from the feet.</summary>
    Axial,
    /// <summary>Constant anterior–posterior position: seen from the front.</summary>
    Coronal,
    /// <summary>Constant left–right position: seen from the side.</summary>
    Sagittal,
}

/// <summary>
/// Which side of the patient is drawn on which side of the screen. Radiological (the default, as
/// PACS and ITK-SNAP): the patient's right on the viewer's left in axial and coronal views, as if
/// facing the patient. Neurological (as FSLeyes and SPM): the patient's right on the right.
/// Sagittal views show anterior on the left and superior at the top in both.
/// </summary>
public enum DisplayConvention
{
    Radiological,
    Neurological,
}

/// <summary>
/// How one plane of a volume is drawn. Axis numbers are the file's voxel axes (0 = i, 1 = j,
/// 2 = k, i fastest in memory). A slice holds <see cref="FixedAxis"/> constant; screen column c
/// shows voxel index c along <see cref="ColumnAxis"/> (or n − 1 − c when <see cref="FlipColumns"/>),
/// screen row r (top = 0) likewise along <see cref="RowAxis"/>. The edge labels name the
/// anatomical direction at each edge (R/L, A/P, S/I).
/// </summary>
public sealed record PlaneView(
    ViewPlane Plane,
    int FixedAxis,
    int ColumnAxis,
    bool FlipColumns,
    int RowAxis,
    bool FlipRows,
    string Left,
    string Right,
    string Top,
    string Bottom)
{
    /// <summary>Slices of this plane in a volume of <paramref name="dims"/> (X, Y, Z).</summary>
    public int Slices((int X, int Y, int Z) dims) => Axis(dims, FixedAxis);

    /// <summary>Width and height of a slice in pixels.</summary>
    public (int Columns, int Rows) SliceSize((int X, int Y, int Z) dims) => (Axis(dims, ColumnAxis), Axis(dims, RowAxis));

    /// <summary>The voxel (i, j, k) drawn at (<paramref name="column"/>, <paramref name="row"/>) of slice <paramref name="slice"/>.</summary>
    public (int I, int J, int K) ToVoxel((int X, int Y, int Z) dims, int slice, int column, int row)
    {
        Span<int> v = stackalloc int[3];
        v[FixedAxis] = slice;
        v[ColumnAxis] = FlipColumns ? Axis(dims, ColumnAxis) - 1 - column : column;
        v[RowAxis] = FlipRows ? Axis(dims, RowAxis) - 1 - row : row;
        return (v[0], v[1], v[2]);
    }

    /// <summary>Where voxel (i, j, k) is drawn: its slice and its pixel in that slice.</summary>
    public (int Slice, int Column, int Row) FromVoxel((int X, int Y, int Z) dims, (int I, int J, int K) voxel)
    {
        int[] v = [voxel.I, voxel.J, voxel.K];
        var c = v[ColumnAxis];
        var r = v[RowAxis];
        return (v[FixedAxis], FlipColumns ? Axis(dims, ColumnAxis) - 1 - c : c, FlipRows ? Axis(dims, RowAxis) - 1 - r : r);
    }

    private static int Axis((int X, int Y, int Z) dims, int axis) => axis switch { 0 => dims.X, 1 => dims.Y, _ => dims.Z };
}

/// <summary>
/// Derives the three <see cref="PlaneView"/>s from a volume's affine: each voxel axis is matched to
/// the world axis it points along most (the axis codes of <see cref="VolumeGeometry.Orientation"/>,
/// nibabel's aff2axcodes), so a volume stored in any axis order and direction (RAS, LPS, LAS,
/// permuted) appears the same way up, with the same labels, in one convention. The browser draws
/// with these mappings; slices are never resampled (oblique affines are shown along their closest
/// axes, as ITK-SNAP does without reslicing).
/// </summary>
public static class ViewOrientation
{
    /// <summary>The axial, coronal and sagittal views of a volume with <paramref name="geometry"/>.</summary>
    public static IReadOnlyList<PlaneView> For(VolumeGeometry geometry, DisplayConvention convention = DisplayConvention.Radiological)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return For(geometry.Orientation, convention);
    }

    /// <summary>The three views for axis codes such as "RAS" or "LPS" (a code with '?' or a repeated axis falls back to RAS).</summary>
    public static IReadOnlyList<PlaneView> For(string axisCodes, DisplayConvention convention = DisplayConvention.Radiological)
    {
        ArgumentNullException.ThrowIfNull(axisCodes);
        var codes = IsValid(axisCodes) ? axisCodes.ToUpperInvariant() : "RAS";
        return [Plane(codes, ViewPlane.Axial, convention), Plane(codes, ViewPlane.Coronal, convention), Plane(codes, ViewPlane.Sagittal, convention)];
    }

    /// <summary>One plane's view for axis codes (see <see cref="For(string, DisplayConvention)"/>).</summary>
    public static PlaneView Plane(string codes, ViewPlane plane, DisplayConvention convention)
    {
        var lateralRight = convention == DisplayConvention.Radiological ? 'L' : 'R';
        var (fixedWorld, right, down) = plane switch
        {
            ViewPlane.Axial => (2, lateralRight, 'P'),
            ViewPlane.Coronal => (1, lateralRight, 'I'),
            _ => (0, 'P', 'I'),
        };
        var fixedAxis = AxisAlong(codes, fixedWorld);
        var columnAxis = AxisAlong(codes, World(right));
        var rowAxis = AxisAlong(codes, World(down));
        return new PlaneView(plane, fixedAxis, columnAxis, codes[columnAxis] != right, rowAxis, codes[rowAxis] != down,
            Opposite(right).ToString(), right.ToString(), Opposite(down).ToString(), down.ToString());
    }

    /// <summary>0 for R/L, 1 for A/P, 2 for S/I.</summary>
    public static int World(char code) => char.ToUpperInvariant(code) switch
    {
        'R' or 'L' => 0,
        'A' or 'P' => 1,
        'S' or 'I' => 2,
        _ => throw new ArgumentException($"'{code}' is not an axis code (R, L, A, P, S, I)", nameof(code)),
    };

    /// <summary>The direction opposite <paramref name="code"/> (R ↔ L, A ↔ P, S ↔ I).</summary>
    public static char Opposite(char code) => char.ToUpperInvariant(code) switch
    {
        'R' => 'L', 'L' => 'R', 'A' => 'P', 'P' => 'A', 'S' => 'I', 'I' => 'S',
        _ => throw new ArgumentException($"'{code}' is not an axis code (R, L, A, P, S, I)", nameof(code)),
    };

    private static bool IsValid(string codes) =>
        codes.Length == 3 && codes.All(c => "RLAPSIrlapsi".Contains(c, StringComparison.Ordinal))
        && codes.Select(World).Distinct().Count() == 3;

    private static int AxisAlong(string codes, int world)
    {
        for (var a = 0; a < 3; a++)
            if (World(codes[a]) == world) return a;
        throw new InvalidOperationException($"axis codes {codes} have no axis along world axis {world}");
    }
}

/// <summary>Cuts display slices with a <see cref="PlaneView"/> (the same mapping the browser's review module uses).</summary>
public static class PlaneSlicer
{
    /// <summary>
    /// Slice <paramref name="slice"/> of a volume in file order ((k·Y + j)·X + i) as rows of
    /// columns, top row first.
    /// </summary>
    public static T[] Extract<T>(ReadOnlySpan<T> volume, (int X, int Y, int Z) dims, PlaneView view, int slice)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (volume.Length != (long)dims.X * dims.Y * dims.Z)
            throw new ArgumentException($"volume has {volume.Length} values but {dims.X}×{dims.Y}×{dims.Z} needs {(long)dims.X * dims.Y * dims.Z}", nameof(volume));
        var count = view.Slices(dims);
        if (slice < 0 || slice >= count)
            throw new ArgumentOutOfRangeException(nameof(slice), slice, $"{view.Plane} slice must be in 0..{count - 1}");
        var (cols, rows) = view.SliceSize(dims);
        var result = new T[cols * rows];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                var (i, j, k) = view.ToVoxel(dims, slice, c, r);
                result[r * cols + c] = volume[(k * dims.Y + j) * dims.X + i];
            }
        return result;
    }
}
