namespace MedZoo.Engine.IO.Streams;

/// <summary>
/// Checks shared by all readers before any voxel buffer is allocated: the size the header claims
/// must be computable, must fit a <see cref="Volume"/> and must fit what the data file can yield.
/// </summary>
internal static class DataLayout
{
    /// <summary>"181×217×181".</summary>
    public static string ShapeText(IEnumerable<long> shape) => string.Join("×", shape);

    /// <summary>Bytes of voxel data for <paramref name="shape"/>, or null when the product overflows 2^62.</summary>
    public static long? Bytes(IReadOnlyList<long> shape, int itemSize)
    {
        const long limit = 1L << 62;
        long bytes = itemSize;
        foreach (var d in shape)
        {
            if (d <= 0) return 0;
            if (bytes > limit / d) return null;
            bytes *= d;
        }
        return bytes;
    }

    /// <summary>
    /// Fails when the size <paramref name="header"/> declares cannot even be computed (a header-only
    /// read has no data file to compare with, but its Count and DataBytes must stay meaningful).
    /// </summary>
    public static void CheckComputable(VolumeHeader header)
    {
        if (Bytes(header.Shape, header.DataType.Size()) is null)
            throw new VolumeFormatException(header.Path, $"header declares {ShapeText(header.Shape)} {header.DataType.Name()} voxels: more bytes than any file can hold");
    }

    /// <summary>
    /// Fails unless <paramref name="header"/>'s voxels, starting at its data offset, can come out of
    /// <paramref name="input"/> and fit in memory as one volume.
    /// </summary>
    public static long CheckFits(VolumeHeader header, VolumeInput input)
    {
        var what = $"{ShapeText(header.Shape)} {header.DataType.Name()} voxels";
        // The message names the data file (the one that is too short); say which header made the claim.
        var declares = string.Equals(Path.GetFullPath(header.Path), Path.GetFullPath(input.Path), StringComparison.Ordinal)
            ? "header declares"
            : $"header {Path.GetFileName(header.Path)} declares";
        if (Bytes(header.Shape, header.DataType.Size()) is not { } bytes)
            throw input.Fail($"{declares} {what}: more bytes than any file can hold");
        if (header.DataOffset > input.MaxLength || bytes > input.MaxLength - header.DataOffset)
            throw input.Fail($"{declares} {what} ({bytes} bytes from byte {header.DataOffset}) but {input.DescribeBound()}");
        if (bytes > Array.MaxLength)
            throw input.Fail($"{declares} {what} ({bytes} bytes); a volume can hold at most {Array.MaxLength} bytes (2 GiB)");
        return bytes;
    }

    /// <summary>The declared shape as the int dimensions of a <see cref="Volume"/> (checked by <see cref="CheckFits"/>).</summary>
    public static int[] VolumeShape(IReadOnlyList<long> shape) => shape.Select(d => checked((int)d)).ToArray();

    /// <summary>
    /// A geometry from header values, failing with a <see cref="VolumeFormatException"/> (not the
    /// constructor's ArgumentException) when extreme but finite header numbers multiply to infinity.
    /// </summary>
    public static VolumeGeometry Geometry(string path, double[] affine, double[] spacing, WorldSpace space = WorldSpace.Unknown)
    {
        if (affine.Any(v => !double.IsFinite(v)))
            throw new VolumeFormatException(path, $"header geometry gives a non-finite affine ({string.Join(", ", affine.Take(12).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))})");
        return new VolumeGeometry(affine, spacing, space);
    }
}
