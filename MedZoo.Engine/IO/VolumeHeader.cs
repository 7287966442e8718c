namespace MedZoo.Engine.IO;

/// <summary>
/// What a volume file's header says, read without touching the voxel data (for a gzipped file
/// only the first few hundred bytes are inflated): format, storage type, shape as declared
/// (nibabel's img.shape), grid spacing of every dimension (nibabel's get_zooms()), the affine the
/// readers use and the value scaling. <see cref="VolumeIO.Read(string)"/> returns the same
/// numbers in its <see cref="Volume"/>.
/// </summary>
public sealed record VolumeHeader
{
    /// <summary>The file read (the header file of a pair).</summary>
    public required string Path { get; init; }

    /// <summary>File that holds the voxels (the .img of a pair, the raw file of a .mhd, else <see cref="Path"/>).</summary>
    public required string DataPath { get; init; }

    /// <summary>Format of the header.</summary>
    public required VolumeFileFormat Format { get; init; }

    /// <summary>Storage type of the voxels.</summary>
    public required VoxelType DataType { get; init; }

    /// <summary>Dimensions as declared (spatial first; MetaImage channels last).</summary>
    public required IReadOnlyList<long> Shape { get; init; }

    /// <summary>Spacing along each dimension of <see cref="Shape"/>.</summary>
    public required IReadOnlyList<double> Zooms { get; init; }

    /// <summary>Voxel-to-world mapping (RAS+), chosen as <see cref="VolumeIO"/> documents.</summary>
    public required VolumeGeometry Geometry { get; init; }

    /// <summary>Scale applied to stored values (1 = none).</summary>
    public double Slope { get; init; } = 1;

    /// <summary>Offset added after scaling (0 = none).</summary>
    public double Intercept { get; init; }

    /// <summary>True when the voxels are stored most significant byte first.</summary>
    public bool BigEndian { get; init; }

    /// <summary>True when the voxels are gzip- or zlib-compressed on disk.</summary>
    public bool Compressed { get; init; }

    /// <summary>Byte offset of the voxels in the (decompressed) data file.</summary>
    public long DataOffset { get; init; }

    /// <summary>Free text of the header (NIfTI descrip), empty when none.</summary>
    public string Description { get; init; } = "";

    /// <summary>Number of stored values (product of <see cref="Shape"/>; readers reject headers where it overflows).</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes of voxel data.</summary>
    public long DataBytes => Count * DataType.Size();
}
