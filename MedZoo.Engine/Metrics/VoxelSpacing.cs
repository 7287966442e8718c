using System.Globalization;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Metrics;

/// <summary>
/// Voxel size in millimetres along the array axes (D, H, W) of a label volume — the order of a torch
/// tensor (…, D, H, W) and of a C-order array (Z, Y, X). A file's spacing is given along (i, j, k) =
/// (W, H, D) instead (<see cref="VolumeGeometry.Spacing"/>), so build from it with <see cref="FromIjk"/>
/// or <see cref="FromGeometry"/>; never pass (sx, sy, sz) to the constructor.
/// </summary>
public readonly record struct VoxelSpacing
{
    /// <param name="depth">mm between neighbours along D (k, the slowest axis; a file's z spacing).</param>
    /// <param name="height">mm along H (j; a file's y spacing).</param>
    /// <param name="width">mm along W (i, the fastest axis; a file's x spacing).</param>
    public VoxelSpacing(double depth, double height, double width)
    {
        Check(depth, nameof(depth));
        Check(height, nameof(height));
        Check(width, nameof(width));
        Depth = depth;
        Height = height;
        Width = width;
    }

    /// <summary>mm along D (k).</summary>
    public double Depth { get; }

    /// <summary>mm along H (j).</summary>
    public double Height { get; }

    /// <summary>mm along W (i).</summary>
    public double Width { get; }

    /// <summary>Volume of one voxel in mm³.</summary>
    public double VoxelVolume => Depth * Height * Width;

    /// <summary>True when built by a constructor (the default value has zero spacing and is invalid).</summary>
    public bool IsValid => Depth > 0 && Height > 0 && Width > 0;

    /// <summary>From spacing along the file axes (i, j, k) = (x, y, z), e.g. NIfTI's pixdim[1..3].</summary>
    public static VoxelSpacing FromIjk(double i, double j, double k) => new(k, j, i);

    /// <summary>From a volume's geometry (its spacing is along i, j, k).</summary>
    public static VoxelSpacing FromGeometry(VolumeGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return FromIjk(geometry.Spacing[0], geometry.Spacing[1], geometry.Spacing[2]);
    }

    /// <summary>The same spacing along every axis.</summary>
    public static VoxelSpacing Isotropic(double millimetres = 1) => new(millimetres, millimetres, millimetres);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"(D {Depth:0.###}, H {Height:0.###}, W {Width:0.###}) mm");

    private static void Check(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw new ArgumentOutOfRangeException(name, value, "voxel spacing must be a finite number of millimetres > 0");
    }
}

/// <summary>Size of a label volume along (D, H, W), the layout of a C-order array (Z, Y, X).</summary>
public readonly record struct VolumeShape
{
    public VolumeShape(int depth, int height, int width)
    {
        if (depth <= 0 || height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(depth), $"volume shape ({depth}, {height}, {width}) must be positive along D, H and W");
        Depth = depth;
        Height = height;
        Width = width;
    }

    public int Depth { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Number of voxels.</summary>
    public long VoxelCount => (long)Depth * Height * Width;

    /// <summary>Flat C-order index of voxel (d, h, w).</summary>
    public long IndexOf(int d, int h, int w) => ((long)d * Height + h) * Width + w;

    public override string ToString() => $"({Depth}, {Height}, {Width})";
}
